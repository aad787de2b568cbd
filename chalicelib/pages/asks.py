"""Ask ladders: a returning donor's amounts, from their highest previous contribution, never
above what the law still lets them give (docs/asks.md has the rules and examples)."""

from __future__ import annotations

from collections.abc import Sequence

MIN_ASK_CENTS = 100
# The highest gift times 1, 1.5, 2 and 3 (as halves, to stay in integers).
MULTIPLES_IN_HALVES = (2, 3, 4, 6)
# (up to this many cents, round to a multiple of this many cents); above the last: $100.
STEPS = ((2_000, 100), (10_000, 500), (50_000, 2_500), (100_000, 5_000))
TOP_STEP = 10_000


def friendly(cents: int) -> int:
    """`cents` rounded half up to an amount people pick: whole dollars up to $20, $5 up to
    $100, $25 up to $500, $50 up to $1,000, then $100. Never below $1."""
    step = next((s for limit, s in STEPS if cents <= limit), TOP_STEP)
    return max((cents + step // 2) // step * step, MIN_ASK_CENTS)


def personal_ladder(highest_cents: int) -> list[int]:
    """1x the donor's highest gift (as they gave it), then 1.5x, 2x and 3x rounded to friendly
    amounts, without repeats."""
    rungs = [highest_cents] + [friendly(highest_cents * m // 2) for m in MULTIPLES_IN_HALVES[1:]]
    return sorted(set(r for r in rungs if r >= MIN_ASK_CENTS))


def within_limit(ladder: Sequence[int], remaining_cents: int) -> list[int]:
    """The rungs the donor may still give; if any had to go, the most they may still give
    (exactly) becomes the top rung. Empty when they are at the limit."""
    kept = [c for c in ladder if c <= remaining_cents]
    if len(kept) < len(ladder) and remaining_cents >= MIN_ASK_CENTS and remaining_cents not in kept:
        kept.append(remaining_cents)
    return kept
