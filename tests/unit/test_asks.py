"""Personal ask ladders: friendly rounding, multiples of the highest gift, the legal limit."""

from __future__ import annotations

import pytest

from chalicelib.pages.asks import friendly, personal_ladder, within_limit


@pytest.mark.parametrize(("cents", "expected"), [
    (40, 100), (149, 100), (150, 200), (1_950, 2_000), (2_000, 2_000),
    (2_001, 2_000), (4_050, 4_000), (5_400, 5_500), (8_100, 8_000),
    (10_000, 10_000), (11_249, 10_000), (11_250, 12_500), (40_500, 40_000),
    (52_500, 55_000), (75_000, 75_000), (107_000, 110_000), (405_000, 410_000),
])
def test_friendly_rounds_half_up_to_the_step_for_its_size(cents: int, expected: int) -> None:
    assert friendly(cents) == expected


def test_friendly_is_monotonic() -> None:
    values = [friendly(c) for c in range(100, 300_000, 7)]
    assert values == sorted(values)


@pytest.mark.parametrize(("highest", "ladder"), [
    (2_700, [2_700, 4_000, 5_500, 8_000]),        # $27: 1x as given, then 1.5x 2x 3x rounded
    (1_000, [1_000, 1_500, 2_000, 3_000]),
    (100, [100, 200, 300]),                        # $1: 1.5x rounds to $2, repeats dropped
    (25_000, [25_000, 37_500, 50_000, 75_000]),
    (2_345, [2_345, 3_500, 4_500, 7_000]),
])
def test_personal_ladder_from_the_highest_gift(highest: int, ladder: list[int]) -> None:
    assert personal_ladder(highest) == ladder


def test_ladder_never_passes_the_remaining_limit() -> None:
    ladder = personal_ladder(100_000)  # $1,000 -> 1000, 1500, 2000, 3000 dollars
    assert within_limit(ladder, 350_000) == ladder
    assert within_limit(ladder, 180_000) == [100_000, 150_000, 180_000]  # the exact maximum on top
    assert within_limit(ladder, 150_000) == [100_000, 150_000]
    assert within_limit(ladder, 50_000) == [50_000]
    assert within_limit(ladder, 99) == []  # less than a dollar left: nothing to ask
    assert within_limit(ladder, 0) == []
