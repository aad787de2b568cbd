"""Which actions to invite a person to, best first.

Only upcoming actions with a seat left are candidates, and never one the person was already
invited to. They are ranked, in this order of importance, by the person's interests, nearness
(same ZIP3, then same state, then virtual or location-free), the page the person came from,
and then the soonest start. An in-person action elsewhere (or anywhere, when we do not know
where the person is) is not offered at all: an invitation to a canvass three states away is
noise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.followups.model import Action

_FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Audience:
    """What matching knows about the person: no contact details."""

    zip: str | None
    state: str | None
    interests: tuple[str, ...] = ()
    page_slug: str | None = None


def nearness(action: Action, who: Audience) -> int | None:
    """3 same ZIP3, 2 same state, 1 virtual or no place; None when out of reach."""
    if action.virtual or action.location is None:
        return 1
    if who.zip and action.location.zip3 == who.zip[:3]:
        return 3
    if who.state and action.location.state == who.state:
        return 2
    return None


def rank(actions: Iterable[Action], who: Audience, now: datetime, *, exclude: Iterable[str] = (),
         limit: int = 3) -> list[Action]:
    """The best `limit` actions for `who`, best first; deterministic for equal inputs."""
    skip = set(exclude)
    scored = []
    for action in actions:
        if action.action_id in skip or not action.is_upcoming(now) or not action.has_room():
            continue
        near = nearness(action, who)
        if near is None:
            continue
        key = (
            0 if action.kind in who.interests else 1,
            -near,
            0 if who.page_slug and who.page_slug in action.pages else 1,
            action.starts_at or _FAR_FUTURE,
            action.action_id,
        )
        scored.append((key, action))
    scored.sort(key=lambda pair: pair[0])
    return [action for _, action in scored[:limit]]
