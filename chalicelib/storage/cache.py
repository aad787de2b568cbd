"""What one Lambda container read, kept for a few seconds: committees and pages are read on
every intake and change rarely. Each container has its own copy and a change made elsewhere is
seen once the copy is `ttl_seconds` old; the container that makes a change forgets its copy at
once. Plain dicts: a container serves one request at a time (`chalice local` threads only
replace whole entries)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ReadCache(Generic[V]):
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        """The value kept for `key` if it is still fresh, else None."""
        entry = self._entries.get(key)
        return entry[1] if entry and entry[0] > self.clock() else None

    def fresh(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, value: V) -> V:
        if self.ttl_seconds > 0:
            self._entries[key] = (self.clock() + self.ttl_seconds, value)
        return value

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
