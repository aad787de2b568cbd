"""The organizers' dashboard against in-memory twins: "today" is the committee's own day, its
conversion is gifts per visitor the beacon counted, and the hourly chart speaks local time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from chalicelib.console.views import hourly_chart
from chalicelib.pages.service import PageService
from chalicelib.paging import Slice
from chalicelib.reports.dashboard import Dashboard
from chalicelib.reports.refcodes import ContributionFact
from tests.unit.test_page_visits import Committees, Pages, Visits, page

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=timezone.utc)  # Nov 3, 01:30 in Los Angeles


class Listing(Pages):
    def page(self, limit: int, after: str | None = None) -> Slice:
        return Slice(list(self.pages.values())[:limit], None)


class Ledger:
    def __init__(self, facts: list[ContributionFact]) -> None:
        self.facts = facts

    def contributions(self, page_slug, committee_id, start, end) -> list[ContributionFact]:
        return [f for f in self.facts if start <= f.paid_at < end]


def fact(n: int, paid_at: datetime, cents: int) -> ContributionFact:
    return ContributionFact(f"d{n}", f"donor{n}", "demo", None, paid_at, cents, cents, False)


def test_today_is_the_committees_day_with_its_visitors_and_conversion() -> None:
    visits = Visits()
    pages = PageService(Listing({"demo": page(variants=[])}), "pk_test_x", clock=lambda: NOW, visits=visits,
                        committees=Committees("America/Los_Angeles"))
    for n in range(4):
        pages.record_visit("demo", f"visitor-{n:020d}")
    facts = [fact(1, NOW - timedelta(hours=1), 2700),  # 00:30 local, Nov 3: today
             fact(2, NOW - timedelta(minutes=10), 5000),  # 01:20 local: today
             fact(3, NOW - timedelta(hours=2), 1000)]  # 23:30 local, Nov 2: yesterday (UTC says today)
    row = Dashboard(pages, Ledger(facts), clock=lambda: NOW).overview(10).items[0]
    assert (row.today.day, row.today.gifts, row.today.raised_cents) == (date(2026, 11, 3), 2, 7700)
    assert row.today.visitors == 4 and row.today.conversion == 0.5
    assert row.recent.gifts == 3  # the last 24 hours cross the local midnight
    chart = hourly_chart(row)
    assert "01:00 PST" in str(chart) and "UTC" not in str(chart)


def test_no_visitor_yet_is_no_conversion_rather_than_zero() -> None:
    pages = PageService(Listing({"demo": page(variants=[])}), "pk_test_x", clock=lambda: NOW, visits=Visits())
    row = Dashboard(pages, Ledger([]), clock=lambda: NOW).overview(10).items[0]
    assert row.today.visitors == 0 and row.today.conversion is None and row.time_zone == "UTC"
