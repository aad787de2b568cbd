"""Request budgets (chalicelib/ratelimit.py) on a simulated clock and an in-memory store: at
most the rate per second whichever shard is asked, the rest wait for the next second, and a
budget that stays empty ends the job's wait."""

from __future__ import annotations

import random

import pytest

from chalicelib.ratelimit import BudgetExhausted, RequestBudget, shares


class MemoryBudgets:
    def __init__(self) -> None:
        self.used: dict[str, int] = {}
        self.requests = 0

    def take(self, key: str, cap: int, expires_at: int) -> bool:
        self.requests += 1
        if self.used.get(key, 0) >= cap:
            return False
        self.used[key] = self.used.get(key, 0) + 1
        return True


class SimulatedTime:
    def __init__(self, at: float = 1_000.25) -> None:
        self.now = at

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def budget(rate: float, shards: int = 1, **kwargs) -> tuple[RequestBudget, MemoryBudgets, SimulatedTime]:
    store, time = MemoryBudgets(), SimulatedTime()
    return (RequestBudget("test", lambda: rate, store, shards, clock=time.clock, sleep=time.sleep,
                          rng=random.Random(7), **kwargs), store, time)


@pytest.mark.parametrize(("rate", "shards", "expected"), [
    (25, 1, [25]), (14, 4, [4, 4, 3, 3]), (3, 8, [1, 1, 1]), (1, 4, [1]), (200, 3, [67, 67, 66])])
def test_the_rate_is_split_over_the_shards_in_whole_tokens(rate, shards, expected) -> None:
    assert shares(rate, shards) == expected and sum(expected) == rate


@pytest.mark.parametrize("shards", [1, 4])
def test_no_second_lets_through_more_than_the_rate(shards: int) -> None:
    rate = 14
    b, _, time = budget(rate, shards)
    seconds: dict[int, int] = {}
    for _ in range(100):
        b.take()
        seconds[int(time.now)] = seconds.get(int(time.now), 0) + 1
    in_order = [seconds[s] for s in sorted(seconds)]
    assert in_order == [rate] * (100 // rate) + [100 % rate]  # full seconds, then the rest


def test_a_fractional_quota_rounds_down_but_never_to_nothing() -> None:
    b, _, time = budget(0.5)
    start = int(time.now)
    for _ in range(3):
        b.take()
    assert int(time.now) - start == 2  # one per second


def test_a_budget_that_stays_empty_ends_the_wait() -> None:
    b, store, time = budget(2, max_wait_seconds=3)
    store.take = lambda key, cap, expires_at: False  # type: ignore[method-assign]  # someone else takes every token
    with pytest.raises(BudgetExhausted) as exhausted:
        b.take()
    assert exhausted.value.kind == "unavailable" and 3 <= time.now - 1_000.25 < 5
