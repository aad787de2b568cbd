"""The organizers' morning view: each page's totals and time left, its day so far in the
committee's time zone (gifts, money, visitors the page's beacon counted, conversion), and its
last 24 hours (gifts, money, new and returning donors, money per hour).

The last 24 hours come from the contribution movements of the pages' committees (the ledger's
`by-month` index, one read per committee shown), not from the pages' counters, so a refund
later that day lowers the hour it was given in, as the thermometer does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from chalicelib.clock import utcnow
from chalicelib.pages.model import Page, PageTotals
from chalicelib.paging import Slice
from chalicelib.reports.refcodes import ContributionFact, ContributionSource

HOURS = 24


class PageListing(Protocol):
    def list_page(self, limit: int, after: str | None = None) -> Slice[Page]: ...
    def totals(self, slug: str) -> PageTotals: ...
    def time_zone(self, page: Page) -> str: ...
    def visitors_on(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]: ...


@dataclass(frozen=True)
class Recent:
    """A page's last `HOURS` hours, oldest hour first."""

    gifts: int = 0
    raised_cents: int = 0
    new_donors: int = 0
    returning_donors: int = 0
    hours: tuple[datetime, ...] = ()
    hourly_cents: tuple[int, ...] = ()
    hourly_gifts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Today:
    """A page's local day so far: its gifts and the distinct visitors its beacon counted."""

    day: date
    gifts: int = 0
    raised_cents: int = 0
    visitors: int = 0

    @property
    def conversion(self) -> float | None:
        """Gifts per visitor today; None before anyone was counted (a 0/0 is not 0 %)."""
        return self.gifts / self.visitors if self.visitors else None


@dataclass(frozen=True)
class PageSummary:
    page: Page
    totals: PageTotals
    seconds_remaining: int
    open: bool
    recent: Recent
    today: Today
    time_zone: str = "UTC"



def today(facts: list[ContributionFact], day: date, zone: str, visitors: int) -> Today:
    """The facts of one page paid on `day` in `zone`."""
    tz = ZoneInfo(zone)
    mine = [f for f in facts if f.paid_at.astimezone(tz).date() == day]
    return Today(day, len(mine), sum(f.counted_cents for f in mine), visitors)


def recent(facts: list[ContributionFact], now: datetime, hours: int = HOURS) -> Recent:
    """Facts of one page summed per hour over the `hours` hours up to the current hour's end."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    starts = tuple(end - timedelta(hours=hours - i) for i in range(hours))
    cents, gifts = [0] * hours, [0] * hours
    donors: dict[str, bool] = {}
    for fact in facts:
        index = int((fact.paid_at - starts[0]).total_seconds() // 3600)
        if not 0 <= index < hours:
            continue
        cents[index] += fact.counted_cents
        gifts[index] += 1
        donors[fact.donor_id] = donors.get(fact.donor_id, False) or fact.returning
    returning = sum(1 for r in donors.values() if r)
    return Recent(sum(gifts), sum(cents), len(donors) - returning, returning, starts,
                  tuple(cents), tuple(gifts))


class Dashboard:
    def __init__(self, pages: PageListing, contributions: ContributionSource,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.pages = pages
        self.contributions = contributions
        self.clock = clock

    def overview(self, limit: int, after: str | None = None) -> Slice[PageSummary]:
        now = self.clock()
        listed = self.pages.list_page(limit, after)
        # Enough for the last `HOURS` whole hours and for the local day so far (at most 25 h).
        start = now - timedelta(hours=max(HOURS + 1, 26))
        by_page: dict[str, list[ContributionFact]] = {}
        for committee_id in sorted({p.committee_id for p in listed.items}):
            for fact in self.contributions.contributions(None, committee_id, start, now + timedelta(hours=1)):
                by_page.setdefault(fact.page_slug, []).append(fact)
        zones = {p.slug: self.pages.time_zone(p) for p in listed.items}
        days = {slug: now.astimezone(ZoneInfo(zone)).date() for slug, zone in zones.items()}
        visitors = self.pages.visitors_on(days.items())
        rows = []
        for p in listed.items:
            facts, day, zone = by_page.get(p.slug, []), days[p.slug], zones[p.slug]
            so_far = today(facts, day, zone, visitors.get((p.slug, day), 0))
            rows.append(PageSummary(p, self.pages.totals(p.slug), p.seconds_remaining(now), p.is_open(now),
                                    recent(facts, now), so_far, zone))
        rows.sort(key=lambda r: (not r.open, r.seconds_remaining, r.page.slug))
        return Slice(rows, listed.after)
