"""Velocity counters in DynamoDB: one item per key and window, expiring by TTL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.giving.velocity import PENDING_WINDOW_SECONDS, VelocityLimits, card_keys
from chalicelib.storage.models import VelocityModel


class VelocityRepository:
    """The card-testing counters a decline reads and moves (in the webhook's transaction);
    intake reads its own in its one BatchGetItem and adds to them in its transaction
    (storage/donations.py)."""

    def __init__(self, limits: VelocityLimits) -> None:
        self.limits = limits

    def card_counts(self, fingerprint: str, now: datetime) -> dict[str, int]:
        """A card's decline counters (this window and the last), in one BatchGetItem."""
        keys = list(card_keys(fingerprint, now, self.limits))
        return {i.counter_key: int(i.hits or 0) for i in VelocityModel.batch_get(keys)}

    @staticmethod
    def pending_change(change: int, now: datetime) -> list[Any]:
        """Actions on an address's pending counter (kept two hours after its last change)."""
        expires = now + timedelta(seconds=2 * PENDING_WINDOW_SECONDS)
        return [VelocityModel.hits.add(change), VelocityModel.expires_at.set(expires)]

    def increment(self, now: datetime) -> list[Any]:
        """Actions that count one more in a window's item and let it expire after two windows."""
        expires = now + timedelta(seconds=2 * self.limits.window_seconds)
        return [VelocityModel.hits.add(1), VelocityModel.expires_at.set(expires)]

    def items(self, keys: Iterable[str]) -> list[VelocityModel]:
        return [VelocityModel(k) for k in keys]



class SignupCounters:
    """Signup counters in the velocity table (keys hashed by the domain, expiring by TTL)."""

    def counts(self, keys: list[str]) -> dict[str, int]:
        """The counters named, in one BatchGetItem."""
        return {i.counter_key: int(i.hits or 0) for i in VelocityModel.batch_get(keys)}

    def add(self, keys: list[str], expires: datetime) -> None:
        for key in keys:
            VelocityModel(key).update(actions=[VelocityModel.hits.add(1),
                                               VelocityModel.expires_at.set(expires)])
