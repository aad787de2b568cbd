"""Deliver due outbox messages at least once, with idempotent claims.

Each message is claimed with a conditional update (its version) before its handler runs, so
two workers never deliver it concurrently; a claim is a lease, so a worker that crashes mid-way
leaves the message to be retried when the lease ends. Failures back off exponentially and stop
after `max_attempts`, leaving the message `failed` with its last error for staff to see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib import logs
from chalicelib.outbox.model import (
    Deferred,
    Delivered,
    Handler,
    OutboxMessage,
    PermanentFailure,
    retry_delay,
)

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claimed:
    message: OutboxMessage
    attempts: int
    version: int


class OutboxStore(Protocol):
    def due(self, now: datetime, limit: int) -> list[Claimed]: ...
    def claim(self, item: Claimed, lease_until: datetime) -> Claimed | None: ...
    def mark_sent(self, item: Claimed, result: str, now: datetime) -> None: ...
    def mark_retry(self, item: Claimed, error: str, due_at: datetime) -> None: ...
    def mark_deferred(self, item: Claimed, reason: str, due_at: datetime) -> None: ...
    def mark_failed(self, item: Claimed, error: str, now: datetime) -> None: ...


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    # How long the oldest due message this drain read had waited past its due time (0: none
    # due). The drain reads shards in turn up to its limit, so under a backlog this is the
    # oldest of the first shards, which tracks the true lag: messages hash evenly over shards.
    lag_seconds: float = 0.0


def first_come(message: OutboxMessage) -> int:
    return 0


class Dispatcher:
    def __init__(self, store: OutboxStore, handlers: Mapping[str, Handler],
                 clock: Callable[[], datetime], max_attempts: int = 8,
                 priority: Callable[[OutboxMessage], int] = first_come,
                 time_limit: timedelta | None = None) -> None:
        self.store = store
        self.handlers = handlers
        self.clock = clock
        self.max_attempts = max_attempts
        # Lower first: what a drain delivers first when sending is rationed (receipts before
        # invitations); the rest keep the order they were due in.
        self.priority = priority
        # A drain stops claiming after this long (sending at the mail service's rate can take
        # longer than a Lambda runs); what it left is due for the next drain.
        self.time_limit = time_limit

    def drain(self, limit: int = 100) -> DrainReport:
        """Deliver up to `limit` due messages, the most urgent kinds first."""
        report = DrainReport()
        now = self.clock()
        self.deliver(self.store.due(now, limit), now, now, report)
        return report

    def deliver(self, candidates: list[Claimed], now: datetime, started: datetime,
                report: DrainReport, time_limit: timedelta | None = None) -> None:
        """Claim and deliver `candidates` (read as due at `now`), the most urgent kinds first,
        until `time_limit` (default: this dispatcher's) has passed since `started`."""
        limit = time_limit if time_limit is not None else self.time_limit
        if candidates:
            oldest = min(c.message.due_at for c in candidates)
            report.lag_seconds = max(report.lag_seconds, (now - oldest).total_seconds(), 0.0)
        candidates = sorted(candidates, key=lambda c: (self.priority(c.message), c.message.due_at))
        for candidate in candidates:
            if limit is not None and self.clock() - started >= limit:
                break
            try:
                item = self.store.claim(candidate, now + LEASE)
                if item is None:  # another worker has it
                    report.skipped += 1
                    continue
                self._deliver(item, report)
            except Exception as exc:  # storage failing for one message: the rest still go
                report.skipped += 1
                logs.warning("outbox message not handled, left for its lease to end",
                             message_id=candidate.message.message_id, error=type(exc).__name__)

    def _deliver(self, item: Claimed, report: DrainReport) -> None:
        message = item.message
        handler = self.handlers.get(message.kind)
        try:
            if handler is None:
                raise PermanentFailure(f"no handler for kind {message.kind!r}")
            delivered: Delivered = handler(message)
        except Deferred as exc:
            self.store.mark_deferred(item, str(exc)[:300], self.clock() + exc.after)
            report.deferred += 1
            return
        except PermanentFailure as exc:
            self.store.mark_failed(item, str(exc)[:500], self.clock())
            report.failed += 1
            logs.warning("outbox message failed", message_id=message.message_id, kind=message.kind)
            return
        except Exception as exc:  # any handler error is retried; the type is kept, never PII
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            if item.attempts >= self.max_attempts:
                self.store.mark_failed(item, error, self.clock())
                report.failed += 1
                logs.warning("outbox message gave up", message_id=message.message_id,
                             kind=message.kind, attempts=item.attempts)
            else:
                self.store.mark_retry(item, error, self.clock() + retry_delay(item.attempts))
                report.retried += 1
            return
        self.store.mark_sent(item, delivered.result, self.clock())
        report.sent += 1
