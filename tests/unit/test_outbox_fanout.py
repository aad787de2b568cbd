"""The drain fanned out (issue 18): the schedule plans one request per `due` shard, a request
names one shard of today's, and a shard worker drains its shard page after page until nothing
is due or its budget is spent, leaving the rest due."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from chalicelib.followups.planning import THANKS
from chalicelib.outbox.dispatcher import Claimed, Dispatcher
from chalicelib.outbox.fanout import Fanout, ShardWorker, plan, shard_of_request
from chalicelib.outbox.model import Delivered, OutboxMessage
from tests.unit.test_outbox_rationing import T0, Clock, MemoryOutbox


def message(kind: str, n: int) -> OutboxMessage:
    return OutboxMessage(f"{kind}#{n}", kind, T0 - timedelta(hours=1) + timedelta(seconds=n))


class ShardedMemoryOutbox(MemoryOutbox):
    """The in-memory outbox with its `due` index split as the table's: message n in shard n % k."""

    def __init__(self, messages: list[OutboxMessage], shards: int) -> None:
        super().__init__(messages)
        self.shard = {m.message_id: f"due#{n % shards}" for n, m in enumerate(messages)}
        self.reads = 0

    def due_in(self, shard: str, now: datetime, limit: int) -> list[Claimed]:
        self.reads += 1
        due = sorted((i for k, i in self.items.items() if self.shard[k] == shard
                      and i["status"] == "pending" and i["due_at"] <= now), key=lambda i: i["due_at"])
        return [Claimed(i["message"], i["attempts"], i["version"]) for i in due][:limit]


class Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, job_id: str) -> None:
        self.sent.append(job_id)


def test_the_schedule_plans_one_drain_request_per_shard() -> None:
    queue = Queue()
    assert Fanout(queue, 10).run() == 10
    assert queue.sent == [f"due#{n}" for n in range(10)] == plan(10)
    assert len(set(queue.sent)) == 10


@pytest.mark.parametrize("body", ["", "{}", "[]", '{"shard": 3}', '{"shard": "due#10"}',
                                  '{"shard": "due#-1"}', '{"shard": "due#03"}', '{"shard": "pending#1"}',
                                  "not json"])
def test_a_drain_request_names_one_of_todays_shards_or_is_refused(body: str) -> None:
    with pytest.raises(ValueError):
        shard_of_request(body, 10)


def test_a_drain_request_round_trips() -> None:
    assert [shard_of_request(json.dumps({"shard": s}), 10) for s in plan(10)] == plan(10)


def test_a_worker_drains_its_shard_page_after_page_and_nothing_else() -> None:
    outbox = ShardedMemoryOutbox([message(THANKS, n) for n in range(250)], shards=2)
    delivered: list[str] = []

    def send(m: OutboxMessage) -> Delivered:
        delivered.append(m.message_id)
        return Delivered("ok")

    clock = Clock()
    worker = ShardWorker(Dispatcher(outbox, {THANKS: send}, clock), outbox, clock,
                         budget=timedelta(seconds=45), page=10)
    report = worker.run("due#1")
    assert report.sent == 125 and len(set(delivered)) == 125
    assert {outbox.shard[d] for d in delivered} == {"due#1"}
    assert outbox.reads == 14  # 13 pages of 10 (the last short), then one that finds none
    assert sum(i["status"] == "pending" for i in outbox.items.values()) == 125  # shard 0's


def test_a_worker_stops_within_its_budget_and_leaves_the_rest_due() -> None:
    outbox = ShardedMemoryOutbox([message(THANKS, n) for n in range(40)], shards=1)
    clock = Clock()

    def slow(m: OutboxMessage) -> Delivered:
        clock.now += timedelta(seconds=2)
        return Delivered("ok")

    worker = ShardWorker(Dispatcher(outbox, {THANKS: slow}, clock), outbox, clock,
                         budget=timedelta(seconds=30), page=4)
    report = worker.run("due#0")
    assert report.sent == 15 and clock.now - T0 == timedelta(seconds=30)
    assert sum(i["status"] == "pending" for i in outbox.items.values()) == 25


def test_a_worker_whose_page_is_all_taken_by_another_stops_reading() -> None:
    outbox = ShardedMemoryOutbox([message(THANKS, n) for n in range(5)], shards=1)
    outbox.claim = lambda item, lease_until: None  # type: ignore[method-assign]
    clock = Clock()
    report = ShardWorker(Dispatcher(outbox, {}, clock), outbox, clock,
                         budget=timedelta(seconds=30)).run("due#0")
    assert report.skipped == 5 and outbox.reads == 1
