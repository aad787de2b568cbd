"""Amounts the FEC's reporting rules turn on, in cents, importable without the rest of the
filing package (the webhook's planners read them)."""

from __future__ import annotations

# A contribution of $1,000 or more received just before an election needs a 48-hour notice
# (11 CFR 104.5(f)).
NOTICE_THRESHOLD_CENTS = 100_000
