"""The one clock: now, in UTC (services take it as their default `clock` and tests pass their own)."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
