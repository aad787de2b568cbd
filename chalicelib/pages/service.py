"""Organizers' operations on pages, and the public view with live totals, the visitor's A/B
variant and a returning donor's ask ladder."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from chalicelib import logs
from chalicelib.compliance.committees import COMMITTEE_ID, Committee
from chalicelib.compliance.elections import DEFAULT_TIME_ZONE
from chalicelib.compliance.limits import remaining_cents
from chalicelib.errors import DomainError, InvalidInput, NotFound, ProviderUnavailable
from chalicelib.pages import experiments
from chalicelib.pages.asks import personal_ladder, within_limit
from chalicelib.pages.experiments import ArmStats
from chalicelib.pages.history import HistoryEntry, creation_entry, plan_update
from chalicelib.pages.model import Page, PageTotals, Variant, public_view
from chalicelib.paging import Slice
from chalicelib.tokens import DONOR

if TYPE_CHECKING:
    from chalicelib.pages.input import PageCreate, PageUpdate

MAX_UPDATE_ATTEMPTS = 3
# Scan pages one console list reads at most to fill a page of organizers' pages.
LIST_SCANS = 5
# Thompson sampling reads every arm's counters; a container reuses them this long.
ALLOCATION_STATS_SECONDS = 30.0


class StalePage(Exception):
    """The page changed between read and write; read it again."""


class PageStore(Protocol):
    def create(self, page: Page, entry: HistoryEntry) -> None: ...
    def update(self, slug: str, expected_version: int, changes: dict[str, Any], updated_at: datetime,
               entry: HistoryEntry | None) -> Page: ...
    def get(self, slug: str, consistent: bool = False) -> Page | None: ...
    def list(self) -> list[Page]: ...
    def page(self, limit: int, after: str | None = None) -> Slice[Page]: ...
    def totals(self, slug: str) -> PageTotals: ...
    def history(self, slug: str) -> builtins.list[HistoryEntry]: ...


class VisitStore(Protocol):
    def count_impression(self, slug: str, experiment: str, visitor_id: str, variant_id: str,
                         now: datetime) -> bool: ...
    def count_refcode_visit(self, slug: str, refcode: str, visitor_id: str, now: datetime) -> bool: ...
    def count_day_visit(self, slug: str, day: date, visitor_id: str, now: datetime) -> bool: ...
    def day_visitors(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]: ...
    def arm_stats(self, slug: str, arm_ids: builtins.list[str]) -> dict[str, ArmStats]: ...


class DonorGiving(Protocol):
    def highest_contribution(self, donor_id: str) -> int | None: ...
    def exposure(self, donor_id: str, scope: str) -> int: ...


class CommitteeSource(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class TokenReader(Protocol):
    def read(self, token: str, purpose: str) -> str: ...


@dataclass(frozen=True)
class Visit:
    """What a page view brings: the visitor's variant bucket (from the edge, or from their
    cookie), a donor's signed token from a receipt or invitation link, an amount to preselect.
    Rendering a page writes nothing: visitors are counted by the page's beacon (`record_visit`)."""

    bucket: int | None = None
    donor_token: str | None = None
    amount_cents: int | None = None


@dataclass(frozen=True)
class VisitCounted:
    """What a beacon counted: the visitor's arm (None when the page tests nothing) and whether
    their impression, refcode arrival and visit today (the committee's day) were new."""

    variant_id: str | None
    impression: bool
    refcode: bool
    today: bool = False


@dataclass
class PageService:
    store: PageStore
    publishable_key: str
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    visits: VisitStore | None = None
    donors: DonorGiving | None = None
    committees: CommitteeSource | None = None
    # Built on first use: a stage without TOKEN_SECRET still serves pages (with their own ladders).
    tokens: Callable[[], TokenReader] | None = None
    ab_min_sample: int = 1000
    # Called with a campaign page after each organizer's change (pages/supporters.py `follow`:
    # its supporters' pages take the fields they inherit).
    followers: Callable[[Page, str], object] | None = None

    def __post_init__(self) -> None:
        self._allocation_stats: dict[str, tuple[float, dict[str, ArmStats]]] = {}

    # --- organizers ---------------------------------------------------------------------
    def create(self, data: PageCreate, changed_by: str = "system") -> Page:
        page = self.draft(data)
        self._check_elections(page)
        self.store.create(page, creation_entry(page, changed_by))
        return page

    def draft(self, data: PageCreate) -> Page:
        """The page `data` describes, not stored (create stores it; the editor previews it)."""
        now = self.clock()
        fields = data.model_dump()
        fields["variants"] = [Variant.from_dict(v) for v in fields.get("variants") or []]
        return Page(created_at=now, updated_at=now, version=1, **fields)

    def update(self, slug: str, data: PageUpdate, changed_by: str = "system") -> Page:
        """Apply an organizer's changes; a change of deadline or goal is kept in the page's
        history, written in the same transaction as the change."""
        changes = data.model_dump(exclude_unset=True)
        nulls = {k: "may not be null" for k, v in changes.items() if v is None}
        if nulls:
            raise InvalidInput("invalid_request", "Some fields may not be null.", fields=nulls)
        if not changes:
            raise InvalidInput("invalid_request", "Nothing to change.")
        for _ in range(MAX_UPDATE_ATTEMPTS):
            page = self.get(slug, consistent=True)
            now = self.clock()
            fields, entry = plan_update(page, changes, now, changed_by)
            if {"election", "elections", "committee_id"} & fields.keys():
                self._check_elections(replace(page, **fields))
            try:
                updated = self.store.update(slug, page.version, fields, now, entry)
            except StalePage:
                continue
            if self.followers is not None and updated.supporter is None:
                self.followers(updated, changed_by)  # its supporters' pages inherit the change
            return updated
        raise ProviderUnavailable("try_again", "The page changed while saving; please try again.")

    def _check_elections(self, page: Page) -> None:
        """A page offers only its committee's elections (its own among them); a committee
        without a calendar only the page's own election."""
        committee = self.committees.get(page.committee_id) if self.committees else None
        if committee is None:
            return
        known = {e.code for e in committee.elections} or {page.election}
        fields = {f"elections.{n}": "not one of the committee's elections"
                  for n, code in enumerate(page.elections) if code not in known}
        if page.election not in known:
            fields["election"] = "not one of the committee's elections"
        elif page.elections and page.election not in page.elections:
            fields["elections"] = "must include the page's own election"
        if fields:
            raise InvalidInput("unknown_election",
                               "A page may offer only elections on its committee's calendar.",
                               fields=fields)

    def check_storage(self) -> None:
        """Raise if the pages' storage cannot be read (readiness: any answer, even none, will do)."""
        self.store.get("__health__")

    def get(self, slug: str, consistent: bool = False) -> Page:
        page = self.store.get(slug, consistent)
        if page is None:
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        return page

    def listed(self, slug: str) -> Page:
        """A page the public may see: a supporter's page only once it is live (404 before)."""
        page = self.get(slug)
        if not page.listed:
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        return page

    def list(self) -> list[Page]:
        return self.store.list()

    def list_page(self, limit: int, after: str | None = None) -> Slice[Page]:
        """One page of the organizers' pages (the console's lists never read a whole table):
        supporters' own pages are left out (their campaign page's leaderboard lists them), so a
        Scan page of only those is followed by the next, at most `LIST_SCANS` of them."""
        items: builtins.list[Page] = []
        for _ in range(LIST_SCANS):
            found = self.store.page(limit, after)
            items += [p for p in found.items if p.supporter is None]
            after = found.after
            if len(items) >= limit or not after:
                break
        return Slice(items, after)

    def totals(self, slug: str) -> PageTotals:
        return self.store.totals(slug)

    def preview(self, page: Page) -> dict[str, object]:
        """What a donor would see of `page` (unsaved: an editor's live preview), with no totals
        and nothing counted."""
        view = public_view(page, PageTotals(), self.clock(), self.publishable_key)
        view.update(ask_source="page", variant=None, preselected_amount_cents=None,
                    paid_for_by=self._paid_for_by(page))
        return view

    def history(self, slug: str) -> dict[str, object]:
        self.get(slug)
        return {"slug": slug, "history": [e.view() for e in self.store.history(slug)]}

    # --- donors -------------------------------------------------------------------------
    def public(self, slug: str, visit: Visit | None = None) -> dict[str, object]:
        return self.view(slug, visit)[1]

    def view(self, slug: str, visit: Visit | None = None) -> tuple[Page, dict[str, object]]:
        """The page and what this visitor sees: the page (or their bucket's A/B variant's) copy
        and ladder, or a returning donor's own ladder, with live totals and the time left."""
        visit = visit or Visit()
        page = self.listed(slug)
        now = self.clock()
        view = public_view(page, self.store.totals(slug), now, self.publishable_key)
        view["ask_source"] = "page"
        view["variant"] = None
        view["paid_for_by"] = self._paid_for_by(page)
        arm = self.arm_for(page, visit.bucket, now)
        if arm is not None:
            view["variant"] = arm.view()
            view.update(headline=arm.headline, body=arm.body)
            if arm.ask_amounts_cents:
                view.update(ask_amounts_cents=list(arm.ask_amounts_cents), ask_source="variant")
        if visit.donor_token:
            personal = self._personal_ladder(page, visit.donor_token, now)
            if personal is not None:
                view.update(ask_amounts_cents=personal, ask_source="personal")
        view["preselected_amount_cents"] = visit.amount_cents
        return page, view

    def sponsor(self, slug: str) -> tuple[Page, str]:
        """A page and the committee's name its disclaimer gives (the signup page's: no totals,
        nothing counted)."""
        page = self.get(slug)
        return page, self._paid_for_by(page)

    def _paid_for_by(self, page: Page) -> str:
        """The committee's name, as every page's disclaimer gives it (11 CFR 110.11); the page's
        title while the committee is not configured (its default name is only its id)."""
        committee = self.committees.get(page.committee_id) if self.committees else None
        return committee.name if committee and committee.name != committee.committee_id else page.title

    def progress(self, slug: str) -> dict[str, object]:
        """The thermometer and the clock, the same for every visitor: what a page polls."""
        page = self.listed(slug)
        now = self.clock()
        view = public_view(page, self.store.totals(slug), now, self.publishable_key)
        keys = ("slug", "goal_cents", "raised_cents", "contribution_count", "seconds_remaining",
                "deadline", "deadline_extended", "status")
        return {k: view[k] for k in keys}

    def arm_for(self, page: Page, bucket: int | None, now: datetime) -> Variant | None:
        """The arm a bucket of visitors sees (None when the page tests nothing); the control for
        a visitor without a bucket. The one home of "which variant does this visitor see"."""
        arms = page.arms
        if not arms:
            return None
        if bucket is None:
            return page.control
        ids = [a.id for a in arms]
        chosen = experiments.assign(bucket, page.slug, page.experiment, ids)
        if page.auto_allocate and self.visits is not None:
            try:
                stats = self._stats_for_allocation(page, ids)
            except Exception as exc:  # storage trouble: the plain split, the page still shows
                logs.warning("allocation stats unavailable", error=type(exc).__name__)
            else:
                period = experiments.allocation_period(now.timestamp())
                chosen = experiments.thompson_assign(bucket, page.slug, page.experiment, stats,
                                                     ids, period)
        return page.arm(chosen) or page.control

    def record_visit(self, slug: str, visitor_id: str, refcode: str | None = None) -> VisitCounted:
        """Count a visitor of the page once (their arm's impression, for the A/B results) and,
        with `refcode`, their arrival by it once (for the refcode report). Both are idempotent
        per visitor: a reload, or the same beacon sent twice, counts nothing more. The visitor
        is also counted once per local day of the page's committee (the dashboard's conversion
        today)."""
        page = self.listed(slug)
        now = self.clock()
        arm = self.arm_for(page, experiments.bucket_of(visitor_id), now)
        impression = refcode_new = today = False
        if self.visits is not None:
            if arm is not None:
                impression = self.visits.count_impression(page.slug, page.experiment, visitor_id,
                                                          arm.id, now)
            if refcode:
                refcode_new = self.visits.count_refcode_visit(slug, refcode, visitor_id, now)
            today = self.visits.count_day_visit(slug, self.local_date(page, now), visitor_id, now)
        return VisitCounted(arm.id if arm else None, impression, refcode_new, today)

    def time_zone(self, page: Page) -> str:
        """The page's committee's time zone, where its days begin and end."""
        return self.committee_zone(page.committee_id)

    def committee_zone(self, committee_id: str) -> str:
        """A committee's time zone (the default zone for an id that names no committee; UTC
        without a committee source)."""
        if self.committees is None:
            return "UTC"
        if not COMMITTEE_ID.fullmatch(committee_id):
            return DEFAULT_TIME_ZONE
        return self.committees.get(committee_id).zone

    def calendar(self, committee_id: str) -> builtins.list[tuple[str, date]]:
        """The committee's elections (code, date), for an editor choosing what a page offers."""
        if self.committees is None or not COMMITTEE_ID.fullmatch(committee_id):
            return []
        return [(e.code, e.date) for e in self.committees.get(committee_id).elections]

    def local_date(self, page: Page, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.time_zone(page))).date()

    def visitors_on(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]:
        """Distinct visitors of each (page, local day) the beacon counted."""
        wanted = list(pairs)
        if self.visits is None:
            return dict.fromkeys(wanted, 0)
        return self.visits.day_visitors(wanted)

    def _stats_for_allocation(self, page: Page, ids: builtins.list[str]) -> dict[str, ArmStats]:
        key = f"{page.slug}#{page.experiment}"
        cached = self._allocation_stats.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        assert self.visits is not None
        stats = self.visits.arm_stats(page.slug, ids)
        self._allocation_stats[key] = (time.monotonic() + ALLOCATION_STATS_SECONDS, stats)
        return stats

    def _personal_ladder(self, page: Page, token: str, now: datetime) -> builtins.list[int] | None:
        """A returning donor's ladder; None (the page's own) for a bad or expired token or a
        donor who has not given yet. Never fails the page."""
        if self.tokens is None or self.donors is None or self.committees is None:
            return None
        try:
            donor_id = self.tokens().read(token, DONOR)
        except DomainError:
            return None
        except ValueError:  # no TOKEN_SECRET on this stage
            logs.warning("donor token not checked: TOKEN_SECRET is not set")
            return None
        committee = self.committees.get(page.committee_id)
        exposure = self.donors.exposure(donor_id, committee.limit_scope(page.election, now))
        remaining = remaining_cents(committee.limit_cents, exposure)
        highest = self.donors.highest_contribution(donor_id)
        ladder = personal_ladder(highest) if highest else list(page.ask_amounts_cents)
        return within_limit(ladder, remaining)

    # --- results ------------------------------------------------------------------------
    def results(self, slug: str) -> dict[str, object]:
        """Per arm: visitors, donations, conversion rate, money, average gift, the probability
        of beating the control; and the winner once the minimum sample is in."""
        page = self.get(slug)
        arms = page.arms or [page.control]
        ids = [a.id for a in arms]
        stats = self.visits.arm_stats(slug, ids) if self.visits is not None else {}
        stats = {i: stats.get(i, ArmStats()) for i in ids}
        best = experiments.probability_best(stats) if len(ids) > 1 else {ids[0]: 1.0}
        control = stats[ids[0]]
        rows = []
        for arm in arms:
            row: dict[str, object] = {"id": arm.id, "headline": arm.headline,
                                      **experiments.arm_results(stats[arm.id]),
                                      "credible_interval": list(experiments.credible_interval(stats[arm.id]))}
            row["probability_beats_control"] = (
                None if arm.id == ids[0] else round(experiments.probability_beats(stats[arm.id], control), 4))
            row["probability_best"] = round(best[arm.id], 4)
            rows.append(row)
        return {
            "slug": slug, "experiment": page.experiment or None, "auto_allocate": page.auto_allocate,
            "min_sample": self.ab_min_sample, "variants": rows,
            "winner": experiments.winner(stats, self.ab_min_sample) if len(ids) > 1 else None,
        }

