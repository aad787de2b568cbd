"""The page service against in-memory twins of its stores: a page view writes nothing, every
visitor of a bucket sees one arm, and the beacon counts a visitor once per experiment and once
per refcode."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from chalicelib.compliance.committees import Committee
from chalicelib.pages.experiments import BUCKETS, ArmStats, bucket_of
from chalicelib.pages.model import Page, PageTotals, Variant
from chalicelib.pages.service import PageService, Visit

NOW = datetime(2026, 11, 3, 20, 0, tzinfo=timezone.utc)


@dataclass
class Pages:
    pages: dict[str, Page] = field(default_factory=dict)

    def get(self, slug: str, consistent: bool = False) -> Page | None:
        return self.pages.get(slug)

    def totals(self, slug: str) -> PageTotals:
        return PageTotals(12_300, 4)

    def create(self, page: Page, entry: Any) -> None: ...
    def update(self, *args: Any) -> Page: raise NotImplementedError
    def list(self) -> builtins.list[Page]: return list(self.pages.values())
    def history(self, slug: str) -> builtins.list[Any]: return []


@dataclass
class Visits:
    """What the visits table keeps: one item per visitor and experiment (or refcode), counters."""

    items: dict[str, str] = field(default_factory=dict)
    impressions: dict[str, int] = field(default_factory=dict)
    refcodes: dict[str, int] = field(default_factory=dict)
    days: dict[tuple[str, date], int] = field(default_factory=dict)
    writes: int = 0

    def count_impression(self, slug: str, experiment: str, visitor_id: str, variant_id: str,
                         now: datetime) -> bool:
        self.writes += 1
        key = f"a#{slug}#{experiment}#{visitor_id}"
        if key in self.items:
            return False
        self.items[key] = variant_id
        self.impressions[variant_id] = self.impressions.get(variant_id, 0) + 1
        return True

    def count_refcode_visit(self, slug: str, refcode: str, visitor_id: str, now: datetime) -> bool:
        self.writes += 1
        key = f"r#{slug}#{refcode}#{visitor_id}"
        if key in self.items:
            return False
        self.items[key] = ""
        self.refcodes[refcode] = self.refcodes.get(refcode, 0) + 1
        return True

    def count_day_visit(self, slug: str, day: date, visitor_id: str, now: datetime) -> bool:
        self.writes += 1
        key = f"d#{slug}#{day}#{visitor_id}"
        if key in self.items:
            return False
        self.items[key] = ""
        self.days[(slug, day)] = self.days.get((slug, day), 0) + 1
        return True

    def day_visitors(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]:
        return {pair: self.days.get(pair, 0) for pair in pairs}

    def arm_stats(self, slug: str, arm_ids: builtins.list[str]) -> dict[str, ArmStats]:
        return {a: ArmStats(self.impressions.get(a, 0)) for a in arm_ids}


@dataclass
class Committees:
    """The committee source: every committee in one time zone."""

    time_zone: str

    def get(self, committee_id: str) -> Committee:
        return Committee(committee_id, "Rivera for Congress", "candidate", 350_000, 20_000,
                         time_zone=self.time_zone)


def page(**changes: Any) -> Page:
    fields: dict[str, Any] = dict(
        slug="demo", title="Demo", headline="Control copy", body="", ask_amounts_cents=[1000, 2500],
        goal_cents=100_000, deadline=NOW + timedelta(days=1), election="G2026", committee_id="C00000001",
        created_at=NOW, updated_at=NOW,
        variants=[Variant("urgent", "Hours left", "", (500, 1500)), Variant("local", "Neighbors", "")])
    fields.update(changes)
    return Page(**fields)


def service(p: Page, clock: Any = lambda: NOW, committees: Any = None) -> tuple[PageService, Visits]:
    visits = Visits()
    return PageService(Pages({p.slug: p}), "pk_test_x", clock=clock, visits=visits,
                       committees=committees), visits


def test_a_page_view_writes_nothing_and_a_bucket_sees_one_arm() -> None:
    svc, visits = service(page())
    shown = {b: svc.public("demo", Visit(bucket=b))["variant"]["id"] for b in range(BUCKETS)}  # type: ignore[index]
    assert set(shown.values()) == {"control", "urgent", "local"}
    assert sorted(shown.values()).count("urgent") == BUCKETS // 3  # 12 buckets, 3 arms: 4 each
    assert visits.writes == 0
    urgent = next(b for b, arm in shown.items() if arm == "urgent")
    view = svc.public("demo", Visit(bucket=urgent))
    assert view["headline"] == "Hours left" and view["ask_amounts_cents"] == [500, 1500]
    assert svc.public("demo", Visit())["variant"]["id"] == "control"  # type: ignore[index]
    assert svc.public("demo", Visit(bucket=0)) == svc.public("demo", Visit(bucket=0))


def test_the_beacon_counts_a_visitor_once_for_the_arm_they_see() -> None:
    svc, visits = service(page())
    visitor = "visitor-0123456789abcdef"
    arm = svc.public("demo", Visit(bucket=bucket_of(visitor)))["variant"]["id"]  # type: ignore[index]
    first = svc.record_visit("demo", visitor, "email-nov")
    assert (first.variant_id, first.impression, first.refcode) == (arm, True, True)
    again = svc.record_visit("demo", visitor, "email-nov")
    assert (again.impression, again.refcode) == (False, False)
    other_refcode = svc.record_visit("demo", visitor, "fb")
    assert (other_refcode.impression, other_refcode.refcode) == (False, True)
    assert visits.impressions == {arm: 1} and visits.refcodes == {"email-nov": 1, "fb": 1}


def test_a_page_without_variants_counts_its_visitors_of_the_day_only() -> None:
    svc, visits = service(page(variants=[]))
    counted = svc.record_visit("demo", "visitor-0123456789abcdef", None)
    assert (counted.variant_id, counted.impression, counted.refcode) == (None, False, False)
    assert counted.today
    assert visits.impressions == {} and visits.refcodes == {}


def test_a_visitor_counts_once_a_day_in_the_committees_time_zone() -> None:
    """22:00 in Los Angeles is already tomorrow in UTC: the visitor counts on the committee's day,
    once however often they come back that day, and again after local midnight."""
    clock = [datetime(2026, 11, 3, 5, 30, tzinfo=timezone.utc)]  # Nov 2, 21:30 in Los Angeles
    svc, visits = service(page(variants=[]), clock=lambda: clock[0],
                          committees=Committees("America/Los_Angeles"))
    visitor = "visitor-0123456789abcdef"
    assert svc.record_visit("demo", visitor).today
    clock[0] += timedelta(hours=1)  # 22:30 local, 06:30 UTC on Nov 3
    assert not svc.record_visit("demo", visitor).today
    clock[0] += timedelta(hours=2)  # 00:30 local on Nov 3
    assert svc.record_visit("demo", visitor).today
    assert visits.days == {("demo", date(2026, 11, 2)): 1, ("demo", date(2026, 11, 3)): 1}
    assert svc.visitors_on([("demo", date(2026, 11, 2))]) == {("demo", date(2026, 11, 2)): 1}
