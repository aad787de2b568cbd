"""What an answer to an invitation changes (followups/attendance.py), without services: seats,
the waitlist, who is seated when a seat is given back, and the messages that sets in motion."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import DomainError
from chalicelib.followups.attendance import decide
from chalicelib.followups.model import Action, Invitation

T0 = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
LEAD = timedelta(days=1)


def action(capacity: int | None = 2, taken: int = 0, waiting: int = 0,
           starts: timedelta = timedelta(days=3)) -> Action:
    return Action("act_1", "event", "Rally", "", T0, T0, starts_at=T0 + starts,
                  ends_at=T0 + starts + timedelta(hours=2), capacity=capacity, seats_taken=taken,
                  waiting=waiting, virtual=True)


def invitation(status: str = "invited", who: str = "p1", waited: timedelta | None = None) -> Invitation:
    return Invitation(f"{who}.act_1", who, "act_1", status, T0 - timedelta(days=1), "thanks#1",
                      waitlisted_at=T0 - waited if waited is not None else None)


def test_a_yes_with_a_seat_left_takes_it_and_plans_the_day_before_message() -> None:
    change = decide(invitation(), action(taken=1), "yes", T0, first_waiting=None, lead=LEAD)
    assert change is not None and (change.status, change.seat, change.waiting) == ("yes", 1, 0)
    # the day-before email, its text twin, and the text 30 minutes before (sent only with consent)
    assert [(m.message_id, m.due_at) for m in change.messages] == [
        ("event_reminder#p1.act_1", T0 + timedelta(days=2)),
        ("text_confirm#p1.act_1", T0 + timedelta(days=2)),
        ("text_soon#p1.act_1", T0 + timedelta(days=3, minutes=-30))]


def test_a_yes_to_a_full_action_joins_the_waitlist_instead_of_failing() -> None:
    change = decide(invitation(), action(taken=2), "yes", T0, first_waiting=None, lead=LEAD)
    assert change is not None and (change.status, change.seat, change.waiting) == ("waitlisted", 0, 1)
    assert change.waitlisted_at == T0 and change.messages == []


def test_a_seat_left_while_others_wait_goes_to_them_not_to_a_newcomer() -> None:
    change = decide(invitation(), action(taken=1, waiting=1), "yes", T0, first_waiting=None, lead=LEAD)
    assert change is not None and change.status == "waitlisted"


def test_giving_a_seat_back_seats_the_first_waiting_and_tells_them() -> None:
    first = invitation("waitlisted", "p2", waited=timedelta(hours=3))
    for response, status in (("cancel", "cancelled"), ("no", "no")):
        change = decide(invitation("yes"), action(taken=2, waiting=2), response, T0,
                        first_waiting=first, lead=LEAD)
        assert change is not None and change.status == status
        assert (change.seat, change.waiting, change.promoted) == (0, -1, first)
        kinds = [(m.kind, m.payload["invitation_id"]) for m in change.messages]
        assert kinds == [("seated", "p2.act_1"), ("event_reminder", "p2.act_1"),
                         ("text_confirm", "p2.act_1"), ("text_soon", "p2.act_1")]
        assert change.messages[0].message_id == f"seated#{first.waitlist_key}"


def test_giving_a_seat_back_with_nobody_waiting_frees_it() -> None:
    change = decide(invitation("confirmed"), action(taken=2), "cancel", T0, first_waiting=None, lead=LEAD)
    assert change is not None and (change.status, change.seat, change.promoted) == ("cancelled", -1, None)


def test_leaving_the_waitlist_frees_a_place_in_line_not_a_seat() -> None:
    change = decide(invitation("waitlisted", waited=timedelta(0)), action(taken=2, waiting=1), "cancel",
                    T0, first_waiting=None, lead=LEAD)
    assert change is not None and (change.status, change.seat, change.waiting) == ("cancelled", 0, -1)


def test_confirm_only_from_yes_and_the_same_answer_twice_changes_nothing() -> None:
    change = decide(invitation("yes"), action(taken=1), "confirm", T0, first_waiting=None, lead=LEAD)
    assert change is not None and (change.status, change.seat, change.waiting) == ("confirmed", 0, 0)
    for status, response in (("confirmed", "confirm"), ("yes", "yes"), ("confirmed", "yes"),
                             ("waitlisted", "yes"), ("no", "no"), ("cancelled", "cancel")):
        assert decide(invitation(status), action(), response, T0, first_waiting=None, lead=LEAD) is None


@pytest.mark.parametrize(("status", "response", "code"), [
    ("invited", "confirm", "not_attending"),
    ("no", "cancel", "not_attending"),
    ("waitlisted", "confirm", "waitlisted"),
    ("attended", "cancel", "attendance_recorded"),
    ("no_show", "yes", "attendance_recorded"),
])
def test_answers_that_do_not_fit_the_state_are_refused(status: str, response: str, code: str) -> None:
    with pytest.raises(DomainError) as err:
        decide(invitation(status), action(), response, T0, first_waiting=None, lead=LEAD)
    assert (err.value.kind, err.value.code) == ("conflict", code)


def test_after_the_start_seats_are_neither_taken_nor_given_back() -> None:
    past = action(taken=1, starts=timedelta(hours=-1))
    for status, response in (("invited", "yes"), ("yes", "cancel"), ("yes", "confirm")):
        with pytest.raises(DomainError) as err:
            decide(invitation(status), past, response, T0, first_waiting=None, lead=LEAD)
        assert err.value.code == "action_closed"
    change = decide(invitation(), past, "no", T0, first_waiting=None, lead=LEAD)
    assert change is not None and change.seat == 0  # a plain no is still heard


def test_no_day_before_message_once_that_day_has_come() -> None:
    soon = action(starts=timedelta(hours=20))
    change = decide(invitation(), soon, "yes", T0, first_waiting=None, lead=LEAD)
    # only the text 30 minutes before is still ahead; and nothing once that has come too
    assert change is not None and [m.kind for m in change.messages] == ["text_soon"]
    now = action(starts=timedelta(minutes=20))
    change = decide(invitation(), now, "yes", T0, first_waiting=None, lead=LEAD)
    assert change is not None and change.messages == []


def test_the_waitlist_orders_by_time_then_id_in_fixed_width_keys() -> None:
    early = invitation("waitlisted", "p9", waited=timedelta(seconds=10))
    late = invitation("waitlisted", "p1", waited=timedelta(microseconds=5))
    assert early.waitlist_key is not None and late.waitlist_key is not None
    assert early.waitlist_key < late.waitlist_key and len(early.waitlist_key) == len(late.waitlist_key)
    assert invitation("yes").waitlist_key is None


def test_a_seat_left_while_people_wait_goes_to_the_first_of_them() -> None:
    from chalicelib.followups.attendance import seat_waiting

    first = invitation("waitlisted", "p2", waited=timedelta(hours=1))
    change = seat_waiting(action(capacity=3, taken=2, waiting=2), first, T0, lead=LEAD)
    assert change is not None and (change.invitation, change.status) == (first, "yes")
    assert (change.seat, change.waiting) == (1, -1)
    assert [m.kind for m in change.messages] == ["seated", "event_reminder", "text_confirm", "text_soon"]
    assert seat_waiting(action(capacity=2, taken=2, waiting=2), first, T0, lead=LEAD) is None


def test_check_in_records_attendance_and_a_seat_at_the_door_for_who_had_none() -> None:
    from chalicelib.followups.attendance import check_in

    soon = action(taken=2, waiting=1, starts=timedelta(hours=1))
    seated = check_in(invitation("confirmed"), soon, T0)
    assert seated is not None and (seated.status, seated.seat, seated.at_the_door) == ("attended", 0, False)
    door = check_in(invitation("waitlisted", waited=timedelta(hours=1)), soon, T0)
    assert door is not None and (door.seat, door.waiting, door.at_the_door) == (1, -1, True)
    assert check_in(invitation("attended"), soon, T0) is None
    late = check_in(invitation("no_show"), soon, T0)  # a host's late tap still counts
    assert late is not None and late.status == "attended"
    with pytest.raises(DomainError) as err:
        check_in(invitation("yes"), action(starts=timedelta(hours=3)), T0)
    assert err.value.code == "check_in_not_open"


def test_only_unchecked_seats_become_no_shows_and_the_wrap_up_names_the_end() -> None:
    from dataclasses import replace

    from chalicelib.followups.attendance import no_show, wrap_up

    assert [no_show(invitation(s), T0) is not None for s in ("yes", "confirmed", "attended",
                                                               "waitlisted", "no")] == \
        [True, True, False, False, False]
    planned = wrap_up(action())
    assert planned is not None and planned.due_at == T0 + timedelta(days=3, hours=2)
    moved = wrap_up(replace(action(), ends_at=T0 + timedelta(days=4)))
    assert moved is not None and moved.message_id != planned.message_id
    assert wrap_up(replace(action(), ends_at=None)) is None


def test_each_check_in_plans_one_after_event_message_an_hour_after_the_end() -> None:
    from chalicelib.followups.attendance import check_in

    soon = action(starts=timedelta(hours=1))
    change = check_in(invitation("yes"), soon, T0)
    assert change is not None
    [after] = change.messages
    assert (after.message_id, after.kind) == ("after#p1.act_1", "after")
    assert after.due_at == soon.ends_at + timedelta(hours=1)  # type: ignore[operator]
    late = check_in(invitation("no_show"), action(starts=timedelta(hours=-5)), T0)
    assert late is not None and late.messages[0].due_at == T0  # the hour is past: at once
