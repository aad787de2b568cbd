"""Outbox messages and the delivery rules (plain Python)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class OutboxMessage:
    """One piece of work to do after a commit: `kind` names its handler.

    `message_id` is deterministic (e.g. `thanks#don_…`), so planning the same work twice
    addresses the same item.
    """

    message_id: str
    kind: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


class PermanentFailure(Exception):
    """The message can never be delivered (e.g. the donor unsubscribed); stop retrying."""


class Deferred(Exception):
    """Not now, through no fault of the message (the send rate is used up, the mail service
    said "slow down", invitations are paused): try again `after`, without using up one of its
    attempts, so waiting never turns into `failed`."""

    def __init__(self, reason: str, after: timedelta = timedelta(seconds=1)) -> None:
        super().__init__(reason)
        self.after = after


@dataclass(frozen=True)
class Delivered:
    """A handler's result: what to record (e.g. the SES message id)."""

    result: str = ""


Handler = Callable[[OutboxMessage], Delivered]

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after `attempts` failed tries: 30 s, 1 min, 2 min … capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
