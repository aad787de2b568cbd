"""Deadlines: a list of later deadlines, moves and extensions, and the audit entries they leave."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import Conflict, InvalidInput
from chalicelib.pages.history import creation_entry, plan_update
from chalicelib.pages.model import Page, PageTotals, public_view

NOW = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
H = timedelta(hours=1)


def page(deadline: datetime, later: list[datetime] | None = None, **extra: object) -> Page:
    return Page(slug="demo", title="T", headline="H", body="B", ask_amounts_cents=[1000],
                goal_cents=100_000, deadline=deadline, election="P2026", committee_id="C00123456",
                created_at=NOW - 48 * H, updated_at=NOW - 48 * H, deadlines=later or [],
                version=1, **extra)  # type: ignore[arg-type]


def view(p: Page, now: datetime = NOW) -> dict:
    return public_view(p, PageTotals(), now, "pk")


def test_page_moves_on_to_its_next_deadline_then_closes() -> None:
    p = page(NOW + H, [NOW + 3 * H, NOW + 5 * H])
    assert (view(p)["deadline"], view(p)["seconds_remaining"]) == ("2026-10-01T13:00:00Z", 3600)
    assert view(p)["deadline_extended"] is False
    at = NOW + 2 * H
    assert view(p, at)["deadline"] == "2026-10-01T15:00:00Z" and view(p, at)["status"] == "open"
    assert view(p, at)["deadline_extended"] is True  # donors saw 13:00; it moved on
    done = NOW + 6 * H
    assert view(p, done)["status"] == "closed" and view(p, done)["seconds_remaining"] == 0
    assert view(p, done)["deadline"] == "2026-10-01T17:00:00Z"
    assert "deadlines" not in view(p) and "variants" not in view(p)


def test_extending_the_deadline_is_said_and_kept_in_history() -> None:
    p = page(NOW + H)
    fields, entry = plan_update(p, {"deadline": NOW + 5 * H}, NOW, "Dana")
    assert fields["deadline"] == NOW + 5 * H and fields["deadline_extended"] is True
    assert entry is not None and entry.version == 2 and entry.deadline_extended
    assert entry.changes == {"deadline": {"from": "2026-10-01T13:00:00Z", "to": "2026-10-01T17:00:00Z"}}
    assert entry.changed_by == "Dana" and entry.action == "updated"


def test_moving_a_deadline_earlier_is_no_extension() -> None:
    fields, entry = plan_update(page(NOW + 5 * H), {"deadline": NOW + H}, NOW, "Dana")
    assert fields["deadline_extended"] is False and entry is not None and not entry.deadline_extended


def test_a_passed_deadline_cannot_be_moved() -> None:
    closed = page(NOW - H)
    for change in ({"deadline": NOW + H}, {"deadlines": [NOW + 2 * H]}):
        with pytest.raises(Conflict) as exc:
            plan_update(closed, change, NOW, "Dana")
        assert exc.value.code == "deadline_passed"
    # Other fields can still change on a closed page.
    fields, entry = plan_update(closed, {"goal_cents": 5}, NOW, "Dana")
    assert fields == {"goal_cents": 5}
    assert entry is not None and entry.changes == {"goal_cents": {"from": 100_000, "to": 5}}


def test_deadline_in_a_put_is_the_current_one() -> None:
    # The first deadline has passed; the page is on its second. Moving "the deadline" moves that.
    p = page(NOW - H, [NOW + H, NOW + 3 * H])
    fields, entry = plan_update(p, {"deadline": NOW + 2 * H}, NOW, "Dana")
    assert fields["deadline"] == NOW + 2 * H and fields["deadlines"] == [NOW + 3 * H]
    assert fields["deadline_extended"] is True
    assert entry is not None and set(entry.changes) == {"deadline"}


def test_later_deadlines_must_follow_the_deadline() -> None:
    with pytest.raises(InvalidInput):
        plan_update(page(NOW + 2 * H), {"deadlines": [NOW + H]}, NOW, "Dana")
    with pytest.raises(InvalidInput):
        plan_update(page(NOW + H, [NOW + 2 * H]), {"deadline": NOW + 3 * H}, NOW, "Dana")
    fields, entry = plan_update(page(NOW + H, [NOW + 2 * H]), {"deadlines": []}, NOW, "Dana")
    assert fields["deadlines"] == [] and entry is not None
    assert entry.changes == {"deadlines": {"from": ["2026-10-01T14:00:00Z"], "to": []}}


def test_unchanged_values_leave_no_history() -> None:
    p = page(NOW + H)
    assert plan_update(p, {"deadline": NOW + H, "goal_cents": 100_000}, NOW, "Dana")[1] is None
    assert plan_update(p, {"headline": "New"}, NOW, "Dana") == ({"headline": "New"}, None)


def test_creation_is_the_first_history_entry() -> None:
    entry = creation_entry(page(NOW + H, [NOW + 2 * H]), "Dana")
    assert entry.version == 1 and entry.action == "created"
    assert entry.changes["deadline"] == {"from": None, "to": "2026-10-01T13:00:00Z"}
    assert entry.changes["goal_cents"] == {"from": None, "to": 100_000}
