"""Small helpers shared by the store and its mixins (no state here)."""

from __future__ import annotations

import calendar
import datetime
import time
from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]


def now() -> int:
    """The current Unix time in whole seconds, as Stripe stamps objects."""
    return int(time.time())


def money(amount: int, currency: str) -> str:
    """Format an amount in minor units the way Stripe's error messages do."""
    return f"${amount / 100:,.2f}" if currency == "usd" else f"{amount / 100:,.2f} {currency}"


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Apply a metadata update; a key posted as "" (decoded to None) is deleted, as Stripe does."""
    merged = dict(current)
    for key, value in (update or {}).items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def matches_range(value: int, wanted: int | Mapping[str, int] | None) -> bool:
    """True if ``value`` passes a list filter such as ``created`` (an int, or gt/gte/lt/lte)."""
    if wanted is None:
        return True
    if isinstance(wanted, int):
        return value == wanted
    checks = {
        "gt": lambda bound: value > bound,
        "gte": lambda bound: value >= bound,
        "lt": lambda bound: value < bound,
        "lte": lambda bound: value <= bound,
    }
    return all(checks[op](bound) for op, bound in wanted.items() if bound is not None)


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """``timestamp`` moved on by ``count`` days/weeks/months/years (month ends clamp, as Stripe's do)."""
    if interval == "day":
        return timestamp + 86400 * count
    if interval == "week":
        return timestamp + 7 * 86400 * count
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    months = count * (12 if interval == "year" else 1)
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return int(moment.replace(year=year, month=month + 1, day=day).timestamp())


def start_of_day(timestamp: int) -> int:
    """Midnight UTC of the day holding ``timestamp`` (Stripe's ``arrival_date`` convention)."""
    return timestamp - timestamp % 86400
