"""Fault injection for chaos tests: a seeded fraction of API requests fail with 500, hang first, or
are rate limited (429); or exactly the next N requests are rate limited.

``POST /_standin/faults`` replaces the configuration (fields left out take their defaults, so
``{"error_rate": 0}`` turns injection off); ``GET /_standin/faults`` shows it with the counts so far.
The decision is taken before a request does anything, so a faulted request has no side effects and
leaves its Idempotency-Key free for the retry.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

MAX_TIMEOUT_SECONDS = 300.0
FIELDS = frozenset(
    {"error_rate", "timeout_rate", "rate_limit_rate", "rate_limit_next", "timeout_seconds", "seed", "paths"}
)
RATES = ("error_rate", "timeout_rate", "rate_limit_rate")


class FaultConfigError(ValueError):
    """The posted configuration is not valid."""


class FaultInjector:
    """Decides, one seeded draw per eligible request, whether to fail it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hanging = 0  # requests sleeping out an injected timeout right now
        self._apply({})

    def _apply(self, config: dict[str, Any]) -> None:
        self.error_rate = float(config.get("error_rate", 0.0))
        self.timeout_rate = float(config.get("timeout_rate", 0.0))
        self.rate_limit_rate = float(config.get("rate_limit_rate", 0.0))
        self.rate_limit_next = int(config.get("rate_limit_next", 0))  # counts down as requests take it
        self.timeout_seconds = float(config.get("timeout_seconds", 2.0))
        self.seed = config.get("seed")
        self.paths = list(config.get("paths", ["/v1/"]))
        self._rng = random.Random(self.seed)
        self.counts = {"requests": 0, "errors": 0, "timeouts": 0, "rate_limited": 0}

    def configure(self, data: Any) -> dict[str, Any]:
        """Validate and install a new configuration (counts restart); return the new status."""
        if not isinstance(data, dict):
            raise FaultConfigError("Expected a JSON object")
        unknown = set(data) - FIELDS
        if unknown:
            raise FaultConfigError(f"Unknown field(s): {', '.join(sorted(unknown))}")
        for name in RATES:
            value = data.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise FaultConfigError(f"{name} must be a number from 0 to 1")
        if sum(data.get(name, 0) for name in RATES) > 1:
            raise FaultConfigError("error_rate + timeout_rate + rate_limit_rate must be at most 1")
        upcoming = data.get("rate_limit_next", 0)
        if isinstance(upcoming, bool) or not isinstance(upcoming, int) or upcoming < 0:
            raise FaultConfigError("rate_limit_next must be a whole number of requests, 0 or more")
        seconds = data.get("timeout_seconds", 2.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise FaultConfigError("timeout_seconds must be a number")
        if not 0 <= seconds <= MAX_TIMEOUT_SECONDS:
            raise FaultConfigError(f"timeout_seconds must be from 0 to {MAX_TIMEOUT_SECONDS:g}")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
            raise FaultConfigError("seed must be an integer or a string")
        paths = data.get("paths", ["/v1/"])
        if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise FaultConfigError('paths must be a list of path prefixes such as ["/v1/"]')
        with self._lock:
            self._apply(data)
        return self.status()

    @property
    def enabled(self) -> bool:
        return any(getattr(self, name) > 0 for name in RATES) or self.rate_limit_next > 0

    def decide(self, path: str) -> str | None:
        """``"error"``, ``"timeout"``, ``"rate_limit"`` or None for a request to ``path``.

        ``rate_limit_next`` is used up first (no draw), so a test gets an exact sequence; the seeded
        draw then decides between error, timeout, rate limit and none, in that order of the interval.
        """
        with self._lock:
            if not self.enabled or not any(path.startswith(prefix) for prefix in self.paths):
                return None
            self.counts["requests"] += 1
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                self.counts["rate_limited"] += 1
                return "rate_limit"
            draw = self._rng.random()
            if draw < self.error_rate:
                self.counts["errors"] += 1
                return "error"
            if draw < self.error_rate + self.timeout_rate:
                self.counts["timeouts"] += 1
                return "timeout"
            if draw < self.error_rate + self.timeout_rate + self.rate_limit_rate:
                self.counts["rate_limited"] += 1
                return "rate_limit"
            return None

    def hang(self) -> None:
        """Sleep out an injected timeout (counted in ``hanging`` meanwhile)."""
        with self._lock:
            self.hanging += 1
            seconds = self.timeout_seconds
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self.hanging -= 1

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "error_rate": self.error_rate,
                "timeout_rate": self.timeout_rate,
                "rate_limit_rate": self.rate_limit_rate,
                "rate_limit_next": self.rate_limit_next,
                "timeout_seconds": self.timeout_seconds,
                "seed": self.seed,
                "paths": list(self.paths),
                "counts": dict(self.counts),
                "hanging": self.hanging,
            }
