"""The refcode report's arithmetic: donations, money, conversion, new vs returning donors."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.reports.refcodes import ContributionFact, parse_range, summarize

AT = datetime(2026, 5, 1, tzinfo=timezone.utc)


def fact(n: int, donor: str, refcode: str | None, cents: int, returning: bool = False,
         counted: int | None = None, page: str = "demo") -> ContributionFact:
    return ContributionFact(f"don_{n}", donor, page, refcode, AT, cents,
                            cents if counted is None else counted, returning)


def test_rows_per_refcode() -> None:
    facts = [
        fact(1, "a", "email", 2700),
        fact(2, "b", "email", 5000, returning=True),
        fact(3, "a", "email", 1000, returning=True),  # a's second gift: a is still a new donor here
        fact(4, "c", "fb", 10_000, counted=4_000),    # partly refunded since
        fact(5, "d", None, 500),
    ]
    rows = {r["refcode"]: r for r in summarize(facts, {("demo", "email"): 30, ("demo", "fb"): 0})}
    assert rows["email"] == {
        "refcode": "email", "donations": 3, "amount_cents": 8700, "gross_cents": 8700,
        "average_gift_cents": 2900, "visitors": 30, "conversion_rate": 0.1, "donors": 2,
        "new_donors": 1, "returning_donors": 1}
    assert rows["fb"]["amount_cents"] == 4000 and rows["fb"]["gross_cents"] == 10_000
    assert rows["fb"]["visitors"] == 0 and rows["fb"]["conversion_rate"] is None
    assert rows[None]["visitors"] is None and rows[None]["new_donors"] == 1
    assert [r["refcode"] for r in summarize(facts, {})] == ["email", "fb", None]


def test_visitors_add_up_over_pages_without_a_page_filter() -> None:
    facts = [fact(1, "a", "tw", 100, page="one"), fact(2, "b", "tw", 100, page="two")]
    row = summarize(facts, {("one", "tw"): 10, ("two", "tw"): 10, ("three", "tw"): 99})[0]
    assert row["visitors"] == 20 and row["conversion_rate"] == 0.1


def test_date_range() -> None:
    today = date(2026, 5, 31)
    assert parse_range(None, None, today) == (date(2026, 5, 2), today)
    assert parse_range("2026-01-01", "2026-01-31", today) == (date(2026, 1, 1), date(2026, 1, 31))
    for bad in (("2026-02-01", "2026-01-01"), ("yesterday", None), ("2024-01-01", "2026-01-01")):
        with pytest.raises(InvalidInput):
            parse_range(*bad, today)
