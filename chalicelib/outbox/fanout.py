"""The drain fanned out over the outbox's `due` shards (issue 18).

One scheduled run a minute cannot keep up with a night of donations, so the schedule only plans:
one drain request per `due` shard (`plan`), each handed to its own drain worker (an SQS message
per shard; the workers are Lambdas reading that queue). A worker drains its one shard
continuously (`ShardWorker.run`): it reads a page of due messages, delivers them (claims,
handlers, the SES token bucket shared by every worker, receipts before invitations), and reads
again, until the shard has nothing due or its time budget is spent; what is left stays due for
the next minute's worker. Throughput is then shards x a worker's rate, capped by SES's send
rate, instead of one batch a minute.

Two workers on one shard (a slow run overlapping the next minute's) are safe: every delivery is
claimed by the message's version first, so each message is delivered by one of them.

Plain Python: the store is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.outbox.dispatcher import Claimed, Dispatcher, DrainReport

SHARD_PREFIX = "due#"


class DueShards(Protocol):
    def due_in(self, shard: str, now: datetime, limit: int) -> list[Claimed]: ...


class DrainQueue(Protocol):
    def send(self, job_id: str) -> None: ...


def plan(shards: int) -> list[str]:
    """The drain requests for one run of the schedule: every `due` shard, once."""
    return [f"{SHARD_PREFIX}{n}" for n in range(shards)]


@dataclass
class Fanout:
    """The schedule's whole work: one drain request per shard on the drain queue (as
    `{"shard": "due#<n>"}`)."""

    queue: DrainQueue
    shards: int

    def run(self) -> int:
        requests = plan(self.shards)
        for shard in requests:
            self.queue.send(shard)
        return len(requests)


def shard_of_request(body: str, shards: int) -> str:
    """The shard a drain request names; ValueError for anything else (a stale or foreign
    message: a shard beyond today's `OUTBOX_SHARDS` is refused, not drained)."""
    try:
        shard = json.loads(body)["shard"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("not a drain request") from exc
    if not isinstance(shard, str) or not shard.startswith(SHARD_PREFIX):
        raise ValueError("not a drain request")
    number = shard[len(SHARD_PREFIX):]
    if not number.isdigit() or int(number) >= shards or str(int(number)) != number:
        raise ValueError(f"no such shard: {shard[:20]!r}")
    return shard


@dataclass
class ShardWorker:
    """Drains one shard until nothing is due or `budget` has passed (stop before the Lambda's
    timeout: a message claimed is delivered before the budget is checked again, so leave room
    for one delivery)."""

    dispatcher: Dispatcher
    store: DueShards
    clock: Callable[[], datetime]
    budget: timedelta
    page: int = 100

    def run(self, shard: str) -> DrainReport:
        report = DrainReport()
        started = self.clock()
        while self.clock() - started < self.budget:
            now = self.clock()
            candidates = self.store.due_in(shard, now, self.page)
            if not candidates:
                break
            before = (report.sent, report.failed, report.retried, report.deferred)
            self.dispatcher.deliver(candidates, now, started, report, time_limit=self.budget)
            if (report.sent, report.failed, report.retried, report.deferred) == before:
                # Nothing moved (every one claimed by another worker, or storage failing):
                # reading again now would find the same messages; the next run takes them.
                break
        return report
