"""Request budgets shared by every container: at most so many calls per second to a provider.

A budget is a token bucket refilled to its rate at the start of each second (UTC epoch
seconds): each call takes one token from one of the second's `shards` items, each holding its
share of the rate, with a conditional increment; when every shard of this second is empty the
caller sleeps until the next. The items live in DynamoDB (`storage/budgets.py`) because the
callers are Lambda containers that share nothing else; they expire by TTL. Sharding keeps a
high rate (SES at hundreds of messages per second) off one partition key.

Plain Python: the store is passed in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.errors import ProviderUnavailable

# A second's items are kept a little while after it, then expire.
KEEP_SECONDS = 120


class BudgetStore(Protocol):
    def take(self, key: str, cap: int, expires_at: int) -> bool:
        """One more use of `key`'s item if it has been used fewer than `cap` times."""
        ...


class BudgetExhausted(ProviderUnavailable):
    """No token came within the wait allowed: the job stops here and runs again later."""

    def __init__(self, name: str) -> None:
        super().__init__("budget_exhausted", f"The {name} request budget stayed empty; retry later.",
                         extra={"retry_after": 1})


def shares(rate: int, shards: int) -> list[int]:
    """`rate` split over at most `shards` items, as evenly as whole tokens allow (no empty
    shard: fewer shards than asked when the rate is small)."""
    n = max(1, min(shards, rate))
    base, extra = divmod(rate, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


@dataclass
class RequestBudget:
    """At most `rate()` calls per second, taken by `take()`, across every process that shares
    the store. `rate` is read each second (SES's quota can change while a drain runs)."""

    name: str
    rate: Callable[[], float]
    store: BudgetStore
    shards: int = 1
    max_wait_seconds: float = 30.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def take(self) -> None:
        """Wait for one token of this second's budget; BudgetExhausted after the longest wait."""
        deadline = self.clock() + self.max_wait_seconds
        while True:
            now = self.clock()
            second = int(now)
            if self.try_take(second):
                return
            if now >= deadline:
                raise BudgetExhausted(self.name)
            # The next second's tokens; a little jitter so waiting containers do not all ask
            # in the same millisecond.
            self.sleep(second + 1 - now + self.rng.uniform(0, 0.02))

    def try_take(self, second: int) -> bool:
        """A token of `second`, from the shards in an order that starts at a random one."""
        caps = shares(max(1, int(self.rate())), self.shards)
        start = self.rng.randrange(len(caps))
        for i in range(len(caps)):
            shard = (start + i) % len(caps)
            if self.store.take(f"budget#{self.name}#{second}#{shard}", caps[shard],
                               second + KEEP_SECONDS):
                return True
        return False
