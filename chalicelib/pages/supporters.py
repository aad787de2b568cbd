"""Supporters who raise (issue 16): a donor's own fundraising page under a campaign page.

A supporter's page is a page of its own, slug `{campaign slug}--{handle}` (so it is
`/donate/{campaign}--{handle}`, and every route of a page serves it), copied from the campaign
page when it starts: committee, deadlines, elections, ask ladder, headline and body. It adds the
supporter's goal (integer cents), a plain-text note and display name, and the refcode every gift
there is credited to: `sh-{their share code}`, so the credit reaches their person record as a
shared link's does (followups/planning.py) and the refcode report shows it. Its thermometer is
the page's own sharded counters (no hot key).

It goes live when an organizer approves it, or at once under a campaign page whose
`supporters_auto_approve` is set; until then (and once declined) the public and intake answer
404 for it. The starting link is a signed token (purpose `support`: the donor and the campaign
page); one supporter page per donor and campaign page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from chalicelib import logs
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.giving.model import control_character, donor_id_for
from chalicelib.pages.history import HistoryEntry
from chalicelib.pages.model import DECLINED, LIVE, PENDING, Page, PageTotals, Supporter, isoformat_utc
from chalicelib.pages.service import StalePage
from chalicelib.tokens import SUPPORT

SEPARATOR = "--"
# What a supporter's page takes from its campaign page, at its start and after each change.
INHERITED = ("deadline", "deadlines", "deadline_extended", "election", "elections", "committee_id",
             "ask_amounts_cents", "headline", "body", "closed_reason")
HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,28}[a-z0-9])$")
MAX_SLUG = 64
MAX_NOTE = 500
MAX_NAME = 40
MIN_GOAL_CENTS = 100
MAX_GOAL_CENTS = 100_000_000  # $1,000,000


class SupporterStore(Protocol):
    def get(self, slug: str, consistent: bool = False) -> Page | None: ...
    def create(self, page: Page, entry: HistoryEntry | None = None) -> None: ...
    def update(self, slug: str, expected_version: int, changes: dict[str, Any], updated_at: datetime,
               entry: HistoryEntry | None = None) -> Page: ...
    def children(self, parent_slug: str) -> Iterator[Page]: ...
    def totals_of(self, slugs: Iterable[str]) -> dict[str, PageTotals]: ...


class DonationSource(Protocol):
    def get(self, donation_id: str) -> Any: ...


class TokenSource(Protocol):
    def issue(self, purpose: str, *subjects: str) -> str: ...
    def claims(self, token: str, purpose: str) -> Any: ...
    def share_code(self, person_id: str) -> str: ...


@dataclass(frozen=True)
class SupporterStart:
    """What a supporter asks for: their page's handle, goal, name and note (checked)."""

    handle: str
    goal_cents: int
    display_name: str
    note: str

    @classmethod
    def parse(cls, data: dict[str, Any]) -> SupporterStart:
        """400 `invalid_request` naming each bad field; the note is plain text (line breaks
        allowed, no other control character), the goal integer cents."""
        fields: dict[str, str] = {}
        handle = data.get("handle")
        if not isinstance(handle, str) or not HANDLE.fullmatch(handle) or SEPARATOR in handle:
            fields["handle"] = "3-30 lower-case letters, digits and single hyphens"
        goal = data.get("goal_cents")
        if isinstance(goal, bool) or not isinstance(goal, int) \
                or not MIN_GOAL_CENTS <= goal <= MAX_GOAL_CENTS:
            fields["goal_cents"] = f"integer cents from {MIN_GOAL_CENTS} to {MAX_GOAL_CENTS}"
        name = data.get("display_name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME \
                or control_character(name):
            fields["display_name"] = f"1-{MAX_NAME} characters of plain text"
        note = data.get("note", "")
        if not isinstance(note, str) or len(note.replace("\r\n", "\n")) > MAX_NOTE \
                or control_character(note, line_breaks=True):
            fields["note"] = f"at most {MAX_NOTE} characters of plain text"
        unknown = set(data) - {"handle", "goal_cents", "display_name", "note", "token"}
        fields.update(dict.fromkeys(sorted(unknown), "unknown field"))
        if fields:
            raise InvalidInput("invalid_request", "Some fields need attention.", fields=fields)
        assert isinstance(handle, str) and isinstance(goal, int) and isinstance(name, str)
        return cls(handle, goal, name.strip(), str(note).replace("\r\n", "\n").strip())


def child_slug(parent_slug: str, handle: str) -> str:
    return f"{parent_slug}{SEPARATOR}{handle}"


@dataclass
class SupporterService:
    store: SupporterStore
    tokens: Callable[[], TokenSource]
    max_per_campaign: int = 200
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    donations: DonationSource | None = None
    base_url: str = ""

    # --- the link ---------------------------------------------------------------------------
    def start_link_token(self, donor_id: str, parent_slug: str) -> str | None:
        """A signed `support` token for a donor to start a page under `parent_slug` (under its
        campaign page when it is a supporter's page); None once the campaign page closed."""
        page = self.store.get(parent_slug)
        if page is not None and page.supporter is not None:  # given on a supporter's page
            page = self.store.get(page.supporter.parent_slug)
        if page is None or page.supporter is not None or not page.is_open(self.clock()):
            return None
        return self.tokens().issue(SUPPORT, donor_id, page.slug)

    def start_url(self, donor_id: str, parent_slug: str) -> str | None:
        token = self.start_link_token(donor_id, parent_slug)
        return f"{self.base_url}/support/{token}" if token else None

    def offers(self, donor_id: str, slugs: Iterable[str], limit: int = 3) -> list[dict[str, object]]:
        """For the donor's portal: per campaign page they gave on (the first `limit`), their own
        page there (`own_url`, `status`) or a link to start one (`start_url`)."""
        found: list[dict[str, object]] = []
        for slug in dict.fromkeys(slugs):
            if len(found) >= limit:
                break
            page = self.store.get(slug)
            if page is not None and page.supporter is not None:
                page = self.store.get(page.supporter.parent_slug)
            if page is None or page.supporter is not None or any(f["page_slug"] == page.slug for f in found):
                continue
            mine = next((p for p in self.store.children(page.slug)
                         if p.supporter is not None and p.supporter.owner_id == donor_id), None)
            if mine is not None and mine.supporter is not None:
                found.append({"page_slug": page.slug, "title": page.title, "own_url": f"/donate/{mine.slug}",
                              "status": mine.supporter.status})
            elif page.is_open(self.clock()):
                found.append({"page_slug": page.slug, "title": page.title,
                              "start_url": self.start_url(donor_id, page.slug)})
        return found

    def start_url_for_donation(self, slug: str, donation_id: str, window: timedelta) -> str | None:
        """The thank-you page's link for the donor of `donation_id` (given on `slug` less than
        `window` ago); None otherwise."""
        if self.donations is None:
            return None
        donation = self.donations.get(donation_id)
        if donation is None or donation.page_slug != slug or self.clock() - donation.created_at > window:
            return None
        return self.start_url(donor_id_for(donation.donor.email), slug)

    def campaign_for(self, token: str) -> tuple[str, Page]:
        """The donor and campaign page a start link names (400 `bad_token`, 410 expired, 404
        when the campaign page is gone, 409 `page_closed` once it closed)."""
        claims = self.tokens().claims(token, SUPPORT)
        if len(claims.subjects) != 2:
            raise InvalidInput("bad_token", "This link is not valid. Check that it was copied whole.")
        donor_id, parent_slug = claims.subjects
        parent = self.store.get(parent_slug)
        if parent is None or parent.supporter is not None:
            raise NotFound("page_not_found", "That campaign page no longer exists.")
        if not parent.is_open(self.clock()):
            raise Conflict("page_closed", "This campaign has closed; it takes no new pages.")
        return donor_id, parent

    # --- supporters -------------------------------------------------------------------------
    def start(self, token: str, data: dict[str, Any]) -> Page:
        """Create the supporter's page: live at once when the campaign page allows it, else
        pending an organizer's approval. 409 `supporter_page_exists` for a second page of the
        same donor under the same campaign, `page_exists` for a taken handle,
        `too_many_supporter_pages` past the campaign's cap."""
        donor_id, parent = self.campaign_for(token)
        start = SupporterStart.parse(data)
        slug = child_slug(parent.slug, start.handle)
        if len(slug) > MAX_SLUG:
            room = MAX_SLUG - len(parent.slug) - len(SEPARATOR)
            raise InvalidInput("invalid_request", "That handle is too long for this campaign.",
                               fields={"handle": f"at most {room} characters here"})
        siblings = list(self.store.children(parent.slug))
        if any(p.supporter is not None and p.supporter.owner_id == donor_id for p in siblings):
            raise Conflict("supporter_page_exists", "You already have a page for this campaign.")
        if len(siblings) >= self.max_per_campaign:
            raise Conflict("too_many_supporter_pages", "This campaign takes no more supporter pages.")
        now = self.clock()
        refcode = "sh-" + self.tokens().share_code(donor_id)
        supporter = Supporter(parent.slug, start.handle, donor_id, start.display_name, start.note,
                              refcode, LIVE if parent.supporters_auto_approve else PENDING,
                              "auto" if parent.supporters_auto_approve else None)
        page = replace(parent, slug=slug, title=f"{start.display_name} for {parent.title}"[:120],
                       goal_cents=start.goal_cents, variants=[], auto_allocate=False,
                       embed_origins=[], supporter=supporter, supporters_auto_approve=False,
                       created_at=now, updated_at=now, version=1, extra={})
        entry = HistoryEntry(slug, 1, "created", now, f"supporter:{donor_id[:12]}",
                             {"goal_cents": {"from": None, "to": start.goal_cents},
                              "status": {"from": None, "to": supporter.status}})
        self.store.create(page, entry)
        return page

    # --- organizers -------------------------------------------------------------------------
    def follow(self, parent: Page, changed_by: str) -> int:
        """Give each supporter's page under `parent` the fields it inherits, as `parent` has them
        now (after an organizer's change); a page already in step is not written. A page that
        cannot be written now is logged and caught up by the campaign page's next change, which
        copies every inherited field. Returns how many pages changed."""
        changed = 0
        for child in self.store.children(parent.slug):
            fields = {f: getattr(parent, f) for f in INHERITED if getattr(child, f) != getattr(parent, f)}
            if not fields:
                continue
            now = self.clock()
            entry = HistoryEntry(child.slug, child.version + 1, "inherited", now, changed_by,
                                 {f: {"from": _wire(getattr(child, f)), "to": _wire(v)}
                                  for f, v in fields.items() if f in ("deadline", "deadlines")})
            try:
                self.store.update(child.slug, child.version, fields, now, entry)
                changed += 1
            except Exception as exc:  # the next change of the campaign page catches it up
                logs.warning("supporter page not caught up", slug=child.slug, error=type(exc).__name__)
        return changed


    def decide(self, slug: str, approve: bool, by: str) -> Page:
        """Approve (live) or decline a pending supporter page, once: 404 for a page that is not a
        supporter's, 409 `not_pending` once decided."""
        page = self.store.get(slug, consistent=True)
        if page is None or page.supporter is None:
            raise NotFound("page_not_found", f"No supporter page '{slug}'.")
        if page.supporter.status != PENDING:
            raise Conflict("not_pending", f"This page was {page.supporter.status} already.")
        status = LIVE if approve else DECLINED
        now = self.clock()
        entry = HistoryEntry(slug, page.version + 1, "approved" if approve else "declined", now, by,
                             {"status": {"from": PENDING, "to": status}})
        try:
            return self.store.update(slug, page.version, {
                "supporter": replace(page.supporter, status=status, decided_by=by)}, now, entry)
        except StalePage:
            raise Conflict("not_pending", "This page changed meanwhile; reload it.") from None

    def leaderboard(self, parent_slug: str, limit: int, after: str | None = None,
                    status: str | None = None) -> dict[str, object]:
        """The campaign page's supporters' pages, most raised first (then most gifts, then
        slug), `limit` at a time. Reads: the `by-parent` index (a Query, 100 a request) and
        every child's counter shards (BatchGetItem, 100 keys a request); bounded by the
        campaign's cap on supporter pages."""
        parent = self.store.get(parent_slug)
        if parent is None or parent.supporter is not None:
            raise NotFound("page_not_found", f"No campaign page '{parent_slug}'.")
        if status is not None and status not in (PENDING, LIVE, DECLINED):
            raise InvalidInput("invalid_request", "Unknown status.",
                               fields={"status": "pending, live or declined"})
        children = [p for p in self.store.children(parent_slug)
                    if p.supporter is not None and (status is None or p.supporter.status == status)]
        totals = self.store.totals_of(p.slug for p in children)
        ranked = sorted(((p, totals.get(p.slug, PageTotals())) for p in children),
                        key=lambda pt: (-pt[1].raised_cents, -pt[1].contribution_count, pt[0].slug))
        start = _offset(after)
        end = start + limit
        rows = [_row(rank, p, t) for rank, (p, t) in enumerate(ranked[start:end], start + 1)]
        return {"slug": parent_slug, "supporters": rows,
                "after": str(end) if end < len(ranked) else None,
                "total_supporters": len(ranked),
                "total_raised_cents": sum(t.raised_cents for _, t in ranked)}

    def owned_with_gifts(self, parent_slug: str) -> set[str]:
        """The owners (person ids) of supporter pages under `parent_slug` that got a gift: the
        funnel's `raised`."""
        children = [p for p in self.store.children(parent_slug) if p.supporter is not None]
        totals = self.store.totals_of(p.slug for p in children)
        return {p.supporter.owner_id for p in children
                if p.supporter is not None and totals.get(p.slug, PageTotals()).contribution_count > 0}


def _wire(value: object) -> object:
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _row(rank: int, page: Page, totals: PageTotals) -> dict[str, object]:
    assert page.supporter is not None
    s = page.supporter
    return {"rank": rank, "slug": page.slug, "url": f"/donate/{page.slug}", "handle": s.handle,
            "display_name": s.display_name, "status": s.status, "goal_cents": page.goal_cents,
            "raised_cents": totals.raised_cents, "contribution_count": totals.contribution_count,
            "refcode": s.refcode, "created_at": page.admin_view()["created_at"]}


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    if not after.isdigit() or len(after) > 6:
        raise InvalidInput("invalid_request", "Unknown cursor.", fields={"after": "as returned"})
    return int(after)
