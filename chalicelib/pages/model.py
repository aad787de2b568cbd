"""A donation page and what its public view shows (plain data, no storage concerns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


def isoformat_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the one time format on the wire."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


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
    extra: dict[str, object] = field(default_factory=dict)

    def is_open(self, now: datetime) -> bool:
        return now < self.deadline

    def seconds_remaining(self, now: datetime) -> int:
        return max(int((self.deadline - now).total_seconds()), 0)

    def admin_view(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "title": self.title,
            "headline": self.headline,
            "body": self.body,
            "ask_amounts_cents": list(self.ask_amounts_cents),
            "goal_cents": self.goal_cents,
            "deadline": isoformat_utc(self.deadline),
            "election": self.election,
            "committee_id": self.committee_id,
            "created_at": isoformat_utc(self.created_at),
            "updated_at": isoformat_utc(self.updated_at),
        }


@dataclass(frozen=True)
class PageTotals:
    raised_cents: int = 0
    contribution_count: int = 0


def public_view(page: Page, totals: PageTotals, now: datetime, publishable_key: str) -> dict[str, object]:
    """What a donor's browser gets for a page: its fields, live totals and honest time left."""
    view = page.admin_view()
    del view["created_at"], view["updated_at"]
    view.update(
        raised_cents=totals.raised_cents,
        contribution_count=totals.contribution_count,
        seconds_remaining=page.seconds_remaining(now),
        status="open" if page.is_open(now) else "closed",
        publishable_key=publishable_key,
    )
    return view
