"""Request budgets' per-second items (chalicelib/ratelimit.py), in the velocity table: both are
small counters that expire by TTL."""

from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.exceptions import UpdateError

from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import VelocityModel


class BudgetRepository:
    def take(self, key: str, cap: int, expires_at: int) -> bool:
        """One conditional increment: True if the item had been used fewer than `cap` times."""
        m = VelocityModel
        try:
            m(key).update(actions=[m.hits.add(1), m.expires_at.set(
                datetime.fromtimestamp(expires_at, timezone.utc))],
                condition=m.hits.does_not_exist() | (m.hits < cap))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
