"""A page's public view: honest time left and status from the deadline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from chalicelib.pages.input import PageCreate, PageUpdate
from chalicelib.pages.model import Page, PageTotals, public_view
from chalicelib.pages.render import money
from tests.helpers import page_body

NOW = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


def page(deadline: datetime) -> Page:
    data = PageCreate.model_validate(page_body(slug="demo")).model_dump()
    data["deadline"] = deadline
    return Page(created_at=NOW, updated_at=NOW, **data)


def test_open_page_counts_down_to_its_deadline() -> None:
    view = public_view(page(NOW + timedelta(hours=2)), PageTotals(2700, 1), NOW, "pk_test_x")
    assert view["status"] == "open" and view["seconds_remaining"] == 7200
    assert view["raised_cents"] == 2700 and view["contribution_count"] == 1
    assert view["publishable_key"] == "pk_test_x"


def test_page_closes_at_its_deadline() -> None:
    view = public_view(page(NOW), PageTotals(), NOW, "pk")
    assert view["status"] == "closed" and view["seconds_remaining"] == 0


def test_deadline_is_utc_on_the_wire() -> None:
    data = PageCreate.model_validate(page_body(deadline="2026-11-03T23:59:00-05:00"))
    assert data.deadline == datetime(2026, 11, 4, 4, 59, tzinfo=timezone.utc)
    view = public_view(page(data.deadline), PageTotals(), NOW, "pk")
    assert view["deadline"] == "2026-11-04T04:59:00Z"


@pytest.mark.parametrize(("field", "value"), [
    ("ask_amounts_cents", []), ("ask_amounts_cents", list(range(100, 900, 100))),
    ("ask_amounts_cents", [50]), ("ask_amounts_cents", [1000, 1000]), ("goal_cents", -1),
    ("deadline", "2026-11-03T23:59:00"), ("election", "X2026"), ("committee_id", "123"),
    ("slug", "Has Spaces"),
])
def test_invalid_page_fields(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        PageCreate.model_validate(page_body(**{field: value}))
    assert field in {str(e["loc"][0]) for e in exc.value.errors()}


def test_update_takes_only_known_fields() -> None:
    assert PageUpdate.model_validate({"goal_cents": 5}).model_dump(exclude_unset=True) == {"goal_cents": 5}
    with pytest.raises(ValidationError):
        PageUpdate.model_validate({"slug": "other"})


def test_money_formats_cents() -> None:
    assert (money(2700), money(2750), money(500_000_00)) == ("$27", "$27.50", "$500,000")
