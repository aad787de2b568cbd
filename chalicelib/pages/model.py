"""A donation page and what its public view shows (plain data, no storage concerns).

Deadlines: a page has its `deadline` and, optionally, later `deadlines`. Once one passes the page
moves on to the next (the public `deadline` is always the current one); after the last it is
closed. The server alone decides, from its own clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

# The page's own copy and ladder, as an arm of its A/B test.
CONTROL = "control"


def isoformat_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the one time format on the wire."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Variant:
    """One copy variant of a page (A/B tests); `ask_amounts_cents` None keeps the page's ladder."""

    id: str
    headline: str
    body: str
    ask_amounts_cents: tuple[int, ...] | None = None

    def view(self) -> dict[str, object]:
        view: dict[str, object] = {"id": self.id, "headline": self.headline, "body": self.body}
        if self.ask_amounts_cents is not None:
            view["ask_amounts_cents"] = list(self.ask_amounts_cents)
        return view

    @classmethod
    def from_dict(cls, data: dict) -> Variant:
        asks = data.get("ask_amounts_cents")
        return cls(str(data["id"]), str(data["headline"]), str(data.get("body") or ""),
                   tuple(int(a) for a in asks) if asks else None)


# A supporter's page (issue 16): what it adds to the campaign page it was started under.
PENDING, LIVE, DECLINED = "pending", "live", "declined"


@dataclass(frozen=True)
class Supporter:
    """Who raises on a supporter page and how it stands: `owner_id` is the donor (and person)
    id of the supporter, `refcode` the share refcode every gift on the page is credited to,
    `note` their plain-text note, `status` pending (waiting for an organizer), live or declined."""

    parent_slug: str
    handle: str
    owner_id: str
    display_name: str
    note: str
    refcode: str
    status: str = PENDING
    decided_by: str | None = None

    @property
    def live(self) -> bool:
        return self.status == LIVE

    @property
    def owner_key(self) -> str:
        """What makes a supporter's page one per donor and campaign page: written once, on
        condition it does not exist, with the page (no PII: the donor id is a keyed digest)."""
        return f"supporter#{self.parent_slug}#{self.owner_id}"

    def to_dict(self) -> dict[str, str]:
        data = {"handle": self.handle, "owner_id": self.owner_id, "display_name": self.display_name,
                "note": self.note, "refcode": self.refcode, "status": self.status}
        if self.decided_by:
            data["decided_by"] = self.decided_by
        return data

    @classmethod
    def from_dict(cls, parent_slug: str, data: dict) -> Supporter:
        return cls(parent_slug, str(data["handle"]), str(data["owner_id"]),
                   str(data.get("display_name") or ""), str(data.get("note") or ""),
                   str(data["refcode"]), str(data.get("status") or PENDING),
                   str(data["decided_by"]) if data.get("decided_by") else None)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def embed_origin(value: str) -> str:
    """`value` as a web origin another site may frame the form from: `https://host[:port]`, or
    `http://` for localhost alone (a developer's machine); lower-cased, no path, query, fragment
    or credentials. ValueError otherwise (a CSP source list takes nothing else safely)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError("must be an origin such as https://www.example.org") from None
    host = (parts.hostname or "").lower()
    if parts.netloc.startswith("[") and host:
        host = f"[{host}]"
    if (parts.scheme not in ("https", "http") or not host or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username is not None or parts.password is not None
            or "*" in host or not all(c.isalnum() or c in ".-[]:" for c in host)):
        raise ValueError("must be an origin such as https://www.example.org")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError("must be https (http only for localhost)")
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


@dataclass
class Page:
    slug: str
    title: str
    headline: str
    body: str
    ask_amounts_cents: list[int]
    goal_cents: int
    deadline: datetime
    election: str
    committee_id: str
    created_at: datetime
    updated_at: datetime
    # The elections a donor may designate here; empty: only the page's own `election`.
    elections: list[str] = field(default_factory=list)
    deadlines: list[datetime] = field(default_factory=list)
    deadline_extended: bool = False
    variants: list[Variant] = field(default_factory=list)
    auto_allocate: bool = False
    # The origins of other sites allowed to show this page's form in a frame (/embed/{slug}).
    embed_origins: list[str] = field(default_factory=list)
    # The language the page speaks (chalicelib/i18n.py); a visitor's `?lang=` overrides it.
    locale: str = "en"
    # Why the page was closed before its deadline (`election_forgone`: every election it offered
    # is one the candidate no longer takes part in); None while it runs to its deadline.
    closed_reason: str | None = None
    # A supporter's own page under a campaign page (None: an organizer's page).
    supporter: Supporter | None = None
    # A campaign page's setting: supporters' pages under it go live at once, without approval.
    supporters_auto_approve: bool = False
    version: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    # --- deadlines ----------------------------------------------------------------------
    @property
    def schedule(self) -> list[datetime]:
        """Every deadline, earliest first."""
        return sorted({self.deadline, *self.deadlines})

    def current_deadline(self, now: datetime) -> datetime:
        """The first deadline still ahead; after the last one, the last one."""
        schedule = self.schedule
        return next((d for d in schedule if now < d), schedule[-1])

    def is_open(self, now: datetime) -> bool:
        if self.supporter is not None and not self.supporter.live:
            return False
        return self.closed_reason is None and now < self.schedule[-1]

    @property
    def listed(self) -> bool:
        """Whether the public may see the page: every organizer's page, a supporter's once live."""
        return self.supporter is None or self.supporter.live

    def seconds_remaining(self, now: datetime) -> int:
        return max(int((self.current_deadline(now) - now).total_seconds()), 0)

    def extended(self, now: datetime) -> bool:
        """Whether donors were ever told a deadline that has since moved later: an organizer
        extended it, or the page moved on to a later deadline of its list."""
        return self.deadline_extended or self.current_deadline(now) > self.deadline

    @property
    def offered(self) -> list[str]:
        """The elections a donor may choose on this page (the committee's calendar decides
        which of them are open on a given day)."""
        return list(self.elections) or [self.election]

    # --- A/B variants -------------------------------------------------------------------
    @property
    def control(self) -> Variant:
        return Variant(CONTROL, self.headline, self.body, None)

    @property
    def arms(self) -> list[Variant]:
        """The control first, then the variants; empty when the page tests nothing."""
        return [self.control, *self.variants] if self.variants else []

    def arm(self, variant_id: str | None) -> Variant | None:
        return next((a for a in self.arms if a.id == variant_id), None)

    @property
    def experiment(self) -> str:
        """Names the set of arms: visitors are assigned anew when the set changes. Editing a
        variant's copy under the same id keeps its assignments and results."""
        if not self.variants:
            return ""
        ids = "|".join(sorted(a.id for a in self.arms))
        return "x" + hashlib.sha256(ids.encode()).hexdigest()[:10]

    def admin_view(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "title": self.title,
            "headline": self.headline,
            "body": self.body,
            "ask_amounts_cents": list(self.ask_amounts_cents),
            "goal_cents": self.goal_cents,
            "deadline": isoformat_utc(self.deadline),
            "deadlines": [isoformat_utc(d) for d in self.deadlines],
            "deadline_extended": self.deadline_extended,
            "election": self.election,
            "elections": self.offered,
            "committee_id": self.committee_id,
            "variants": [v.view() for v in self.variants],
            "auto_allocate": self.auto_allocate,
            "embed_origins": list(self.embed_origins),
            "locale": self.locale,
            "closed_reason": self.closed_reason,
            "supporters_auto_approve": self.supporters_auto_approve,
            "supporter": self.supporter_view(),
            "version": self.version,
            "created_at": isoformat_utc(self.created_at),
            "updated_at": isoformat_utc(self.updated_at),
        }


    def supporter_view(self) -> dict[str, object] | None:
        """What the public and staff see of a supporter page's supporter (no owner id)."""
        if self.supporter is None:
            return None
        s = self.supporter
        return {"parent_slug": s.parent_slug, "handle": s.handle, "display_name": s.display_name,
                "note": s.note, "status": s.status}


@dataclass(frozen=True)
class PageTotals:
    raised_cents: int = 0
    contribution_count: int = 0


PUBLIC_FIELDS = ("slug", "title", "headline", "body", "ask_amounts_cents", "goal_cents",
                 "election", "elections", "committee_id", "closed_reason", "supporter")


def public_view(page: Page, totals: PageTotals, now: datetime, publishable_key: str) -> dict[str, object]:
    """What a donor's browser gets for a page: its fields, live totals and honest time left."""
    admin = page.admin_view()
    view = {k: admin[k] for k in PUBLIC_FIELDS}
    view.update(
        deadline=isoformat_utc(page.current_deadline(now)),
        deadline_extended=page.extended(now),
        raised_cents=totals.raised_cents,
        contribution_count=totals.contribution_count,
        seconds_remaining=page.seconds_remaining(now),
        status="open" if page.is_open(now) else "closed",
        publishable_key=publishable_key,
    )
    return view
