"""Changes to a page's deadline and goal: the rules, and the audit entry each change leaves.

A `deadline` sent by an organizer always means the page's *current* deadline (the one donors
see); `deadlines` are the later ones. Neither can be changed once the page's last deadline has
passed (409 `deadline_passed`): a closed page stays closed. Deadlines already passed drop off the
page when it is next changed; the history keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.errors import Conflict, InvalidInput
from chalicelib.pages.model import Page, Variant, isoformat_utc

AUDITED = ("deadline", "deadlines", "goal_cents")


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a page's deadline or goal (or its creation), stored with the page."""

    slug: str
    version: int
    action: str  # created | updated
    changed_at: datetime
    changed_by: str
    changes: dict[str, dict[str, Any]]
    deadline_extended: bool = False

    def view(self) -> dict[str, object]:
        return {"version": self.version, "action": self.action,
                "changed_at": isoformat_utc(self.changed_at), "changed_by": self.changed_by,
                "changes": self.changes, "deadline_extended": self.deadline_extended}


def _wire(field: str, value: Any) -> Any:
    if field == "deadline":
        return isoformat_utc(value) if value is not None else None
    if field == "deadlines":
        return [isoformat_utc(d) for d in value] if value is not None else None
    return value


def creation_entry(page: Page, changed_by: str) -> HistoryEntry:
    changes = {f: {"from": None, "to": _wire(f, getattr(page, f))} for f in AUDITED}
    return HistoryEntry(page.slug, page.version, "created", page.created_at, changed_by, changes)


def plan_update(page: Page, changes: dict[str, Any], now: datetime,
                changed_by: str) -> tuple[dict[str, Any], HistoryEntry | None]:
    """The fields to store for an organizer's `changes`, and the history entry if the deadline or
    the goal changed. Raises Conflict `deadline_passed` or InvalidInput."""
    fields = dict(changes)
    if "variants" in fields:
        fields["variants"] = [v if isinstance(v, Variant) else Variant.from_dict(v)
                              for v in fields["variants"]]
    audit: dict[str, dict[str, Any]] = {}
    extended = False
    if "deadline" in changes or "deadlines" in changes:
        if not page.is_open(now):
            raise Conflict("deadline_passed",
                           "This page's deadline has passed; a passed deadline cannot be moved.",
                           fields={k: "already passed" for k in ("deadline", "deadlines") if k in changes})
        current = page.current_deadline(now)
        later = [d for d in page.schedule if d > current]
        new_current: datetime = changes.get("deadline") or current
        new_later = sorted(set(changes["deadlines"])) if "deadlines" in changes else later
        if any(d <= new_current for d in new_later):
            raise InvalidInput("invalid_request", "Later deadlines must come after the deadline.",
                               fields={"deadlines": "each must be after the deadline"})
        extended = new_current > current
        fields.update(deadline=new_current, deadlines=new_later,
                      deadline_extended=page.extended(now) or extended)
        if new_current != current:
            audit["deadline"] = {"from": _wire("deadline", current), "to": _wire("deadline", new_current)}
        if new_later != later:
            audit["deadlines"] = {"from": _wire("deadlines", later), "to": _wire("deadlines", new_later)}
    if "goal_cents" in changes and changes["goal_cents"] != page.goal_cents:
        audit["goal_cents"] = {"from": page.goal_cents, "to": changes["goal_cents"]}
    if not audit:
        return fields, None
    return fields, HistoryEntry(page.slug, page.version + 1, "updated", now, changed_by, audit, extended)
