"""The refcode report: per refcode, the contributions it brought (in a date range), their money,
its visitors and conversion, and how many of its donors were new or returning.

- A contribution counts on the UTC day it was paid (its `contribution` movement).
- `amount_cents` is what those contributions still count for (net of refunds and lost
  disputes, as on the thermometer); `gross_cents` what was paid.
- A donor is returning if they had a successful contribution recorded before this donation
  was started (their donor record's first contribution), new otherwise; counted once per refcode.
- `visitors` are distinct visitors who arrived on the page with the refcode, counted since the
  refcode was first seen (visit counters have no dates), so `conversion_rate` is donations in
  the range over all visitors; null where visits are not counted (no refcode).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol

from chalicelib.clock import utcnow
from chalicelib.errors import InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class ContributionFact:
    donation_id: str
    donor_id: str
    page_slug: str
    refcode: str | None
    paid_at: datetime
    gross_cents: int
    counted_cents: int
    returning: bool


class ContributionSource(Protocol):
    def contributions(self, page_slug: str | None, committee_id: str | None, start: datetime,
                      end: datetime) -> list[ContributionFact]: ...


class VisitorCounts(Protocol):
    def refcode_visitors(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]: ...



def parse_range(from_text: str | None, to_text: str | None, today: date) -> tuple[date, date]:
    """Inclusive UTC days; defaults to the last 30 days. 400 for bad dates or a range over a year."""
    def day(text: str, name: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InvalidInput("invalid_request", "Dates are YYYY-MM-DD (UTC).",
                               fields={name: "must be a date YYYY-MM-DD"}) from None

    to_day = day(to_text, "to") if to_text else today
    from_day = day(from_text, "from") if from_text else to_day - timedelta(days=DEFAULT_DAYS - 1)
    if from_day > to_day:
        raise InvalidInput("invalid_request", "`from` is after `to`.", fields={"from": "after to"})
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise InvalidInput("invalid_request", f"A report covers at most {MAX_DAYS} days.",
                           fields={"from": f"at most {MAX_DAYS} days before to"})
    return from_day, to_day


class RefcodeReports:
    def __init__(self, store: ContributionSource, visits: VisitorCounts,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.visits = visits
        self.clock = clock

    def report(self, page_slug: str | None, from_text: str | None, to_text: str | None,
               committee_id: str | None = None) -> dict[str, object]:
        """A page's refcodes, or (without a page) those of every page of a committee."""
        from_day, to_day = parse_range(from_text, to_text, self.clock().date())
        start = datetime.combine(from_day, time(0), timezone.utc)
        end = datetime.combine(to_day + timedelta(days=1), time(0), timezone.utc)
        facts = self.store.contributions(page_slug, committee_id, start, end)
        visitors = self.visits.refcode_visitors(
            (f.page_slug, f.refcode) for f in facts if f.refcode is not None)
        rows = summarize(facts, visitors)
        return {"page": page_slug, "committee_id": committee_id,
                "from": from_day.isoformat(), "to": to_day.isoformat(),
                "refcodes": rows, "totals": _totals(rows)}


def summarize(facts: Iterable[ContributionFact],
              visitors: dict[tuple[str, str], int]) -> list[dict[str, object]]:
    """One row per refcode (None: donations without one), largest amount first."""
    groups: dict[str | None, list[ContributionFact]] = {}
    for fact in facts:
        groups.setdefault(fact.refcode, []).append(fact)
    rows: list[dict[str, object]] = []
    for refcode, group in groups.items():
        donors = {f.donor_id for f in group}
        new = {f.donor_id for f in group if not f.returning}
        count = len({f.donation_id for f in group})
        amount = sum(f.counted_cents for f in group)
        seen = (sum(visitors.get((slug, refcode), 0) for slug in {f.page_slug for f in group})
                if refcode is not None else None)
        rows.append({
            "refcode": refcode,
            "donations": count,
            "amount_cents": amount,
            "gross_cents": sum(f.gross_cents for f in group),
            "average_gift_cents": round(amount / count) if count else None,
            "visitors": seen,
            "conversion_rate": round(count / seen, 6) if seen else None,
            "donors": len(donors),
            "new_donors": len(new),
            "returning_donors": len(donors - new),
        })
    return sorted(rows, key=lambda r: (-int(r["amount_cents"]), str(r["refcode"] or "")))  # type: ignore[call-overload]


def _totals(rows: list[dict[str, object]]) -> dict[str, int]:
    keys = ("donations", "amount_cents", "gross_cents")
    return {k: sum(int(r[k]) for r in rows) for k in keys}  # type: ignore[call-overload]
