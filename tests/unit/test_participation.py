"""The participation funnel of an action (reports/participation.py) against an in-memory twin of
the follow-up store: distinct people per stage, nested, read page by page."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.errors import NotFound
from chalicelib.followups.model import Action, Host, Invitation, Person
from chalicelib.paging import Slice
from chalicelib.reports.participation import ParticipationReport

T0 = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)


class TwinStore:
    """Pages as the DynamoDB repository does (an opaque `after`), and counts the reads."""

    def __init__(self, actions: list[Action], invitations: list[Invitation], people: list[Person]) -> None:
        self.actions = {a.action_id: a for a in actions}
        self.invitations = invitations
        self.people = {p.person_id: p for p in people}
        self.pages = 0

    def get_action(self, action_id: str) -> Action | None:
        return self.actions.get(action_id)

    def _page(self, items: list, limit: int, after: str | None) -> Slice:  # type: ignore[type-arg]
        start = int(after or 0)
        self.pages += 1
        end = start + limit
        return Slice(items[start:end], str(end) if end < len(items) else None)

    def invitations_page(self, action_id: str, limit: int, after: str | None) -> Slice[Invitation]:
        return self._page([i for i in self.invitations if i.action_id == action_id], limit, after)

    def actions_page(self, limit: int, after: str | None) -> Slice[Action]:
        return self._page(list(self.actions.values()), limit, after)

    def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)


def action(action_id: str, host: Host | None = None) -> Action:
    return Action(action_id, "event", "Rally", "", T0, T0, host=host)


def invitation(who: str, status: str, action_id: str = "act_1") -> Invitation:
    return Invitation(f"{who}.{action_id}", who, action_id, status, T0, "thanks#1")


def test_each_stage_counts_the_distinct_people_who_reached_it() -> None:
    statuses = {"p1": "invited", "p2": "no", "p3": "waitlisted", "p4": "yes", "p5": "cancelled",
                "p6": "confirmed", "p7": "no_show", "p8": "attended", "p9": "attended", "p10": "attended"}
    invitations = [invitation(who, status) for who, status in statuses.items()]
    invitations.append(invitation("p8", "attended", "act_other"))  # another action: not counted
    actions = [action("act_1"), action("act_other"),
               action("act_proposed", Host("supporter", "p8", "P Eight"))]  # p8 hosts next
    people = [Person("p9", "p9@example.com", recruited_count=2), Person("p10", "p10@example.com")]
    store = TwinStore(actions, invitations, people)
    report = ParticipationReport(store)
    import chalicelib.reports.participation as participation
    participation.PAGE, saved = 3, participation.PAGE  # force several pages
    try:
        found = report.for_action("act_1")
    finally:
        participation.PAGE = saved
    assert found["counts"] == {"invited": 10, "rsvp_yes": 8, "confirmed": 5, "attended": 3,
                               "hosted_or_raised": 2}
    assert [s["stage"] for s in found["stages"]] == ["invited", "rsvp_yes", "confirmed",  # type: ignore[index,union-attr]
                                                      "attended", "hosted_or_raised"]
    assert store.pages > 2


def test_an_unknown_action_is_not_found() -> None:
    with pytest.raises(NotFound):
        ParticipationReport(TwinStore([], [], [])).for_action("act_nope")


# --- per page and refcode -------------------------------------------------------------------------
class TwinPeople(TwinStore):
    def invitations_of_person(self, person_id: str) -> list[Invitation]:
        return [i for i in self.invitations if i.person_id == person_id]


class Gifts:
    """The refcode report's source: contribution facts, as the movements' index yields them."""

    def __init__(self, *facts: tuple[str, str, str | None]) -> None:
        from chalicelib.reports.refcodes import ContributionFact

        self.facts = [ContributionFact(f"don_{n}", donor, slug, refcode, T0, 2700, 2700, False)
                      for n, (donor, slug, refcode) in enumerate(facts)]
        self.asked: list[tuple[str | None, datetime, datetime]] = []

    def contributions(self, page_slug: str | None, committee_id: str | None, start: datetime,
                      end: datetime) -> list:  # type: ignore[type-arg]
        self.asked.append((page_slug, start, end))
        return [f for f in self.facts if f.page_slug == page_slug and start <= f.paid_at < end]


def test_the_page_funnel_starts_with_its_donors_and_counts_what_they_did() -> None:
    gifts = Gifts(("d1", "spring", None), ("d1", "spring", None), ("d2", "spring", "sh-x"),
                  ("d3", "spring", "sh-x"), ("d4", "spring", "email"), ("d5", "spring", None),
                  ("d9", "autumn", None))  # another page's donor: not counted
    invitations = [invitation("d1", "attended"), invitation("d2", "confirmed"), invitation("d3", "invited"),
                   invitation("d4", "yes", "act_other"), invitation("d9", "attended")]
    store = TwinPeople([action("act_1"), action("act_other"),
                        action("act_hosted", Host("supporter", "d1", "D One"))], invitations, [])
    raised = {"spring": {"d5", "d9"}}  # owners of supporter pages under it that got a gift
    report = ParticipationReport(store, gifts, raised_under=lambda slug: raised.get(slug, set()),
                                 clock=lambda: T0)
    body = report.for_page("spring", title="Spring")
    assert body["counts"] == {"donors": 5, "invited": 4, "rsvp_yes": 3, "confirmed": 2, "attended": 1,
                              "hosted_or_raised": 2}  # d1 hosts, d5 raised (d9 gave elsewhere)
    assert [s["stage"] for s in body["stages"]] == ["donors", "invited", "rsvp_yes", "confirmed",
                                                    "attended", "hosted_or_raised"]
    assert body["scope"] == {"page_slug": "spring", "refcode": None, "from": "2026-04-02", "to": "2026-05-01"}
    by_refcode = report.for_page("spring", "sh-x")["counts"]
    assert by_refcode == {"donors": 2, "invited": 2, "rsvp_yes": 1, "confirmed": 1, "attended": 0,
                          "hosted_or_raised": 0}
    assert report.for_page("spring", from_text="2026-05-02", to_text="2026-05-03")["counts"]["donors"] == 0


def test_the_page_funnel_is_bounded() -> None:
    from chalicelib.errors import InvalidInput

    gifts = Gifts(*((f"d{n}", "spring", None) for n in range(4)))
    report = ParticipationReport(TwinPeople([], [], []), gifts, max_donors=3, clock=lambda: T0)
    with pytest.raises(InvalidInput):
        report.for_page("spring")
    with pytest.raises(InvalidInput):
        report.for_page("spring", from_text="2025-01-01", to_text="2026-05-01")  # over 366 days
