"""The outbox dispatcher against the real outbox table: claims, retries with backoff, limits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.outbox.dispatcher import Dispatcher
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure
from chalicelib.storage.models import OutboxModel
from chalicelib.storage.outbox import OutboxRepository

pytestmark = pytest.mark.stack
T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def repo(local_stack) -> OutboxRepository:
    # Messages in the far future so that other tests' real-time drains never see them.
    return OutboxRepository(shards=3)


def put(repo: OutboxRepository, kind: str, due: datetime = T0) -> str:
    message = OutboxMessage(f"{kind}#{uuid.uuid4().hex}", kind, due, {"n": 1})
    repo.item(message, T0).save()
    return message.message_id


def test_due_messages_are_delivered_once(repo) -> None:
    delivered: list[str] = []
    kind = "t-" + uuid.uuid4().hex[:6]
    ids = [put(repo, kind) for _ in range(5)]
    later = put(repo, kind, T0 + timedelta(hours=1))
    clock = Clock()
    dispatcher = Dispatcher(repo, {kind: lambda m: delivered.append(m.message_id) or Delivered("ses-1")},
                            clock)
    dispatcher.drain(limit=1000)
    assert sorted(d for d in delivered if d in ids) == sorted(ids)
    assert later not in delivered
    dispatcher.drain(limit=1000)  # nothing twice
    assert len([d for d in delivered if d in ids]) == 5
    item = repo.get(ids[0])
    assert item is not None and item.status == "sent" and item.result == "ses-1"
    assert item.pending_shard is None
    clock.now = T0 + timedelta(hours=2)
    dispatcher.drain(limit=1000)
    assert later in delivered


def test_a_claimed_message_is_not_delivered_by_a_second_worker(repo) -> None:
    kind = "c-" + uuid.uuid4().hex[:6]
    message_id = put(repo, kind)
    candidates = [c for c in repo.due(T0, 1000) if c.message.message_id == message_id]
    assert repo.claim(candidates[0], T0 + timedelta(minutes=5)) is not None
    assert repo.claim(candidates[0], T0 + timedelta(minutes=5)) is None  # stale version loses
    # The lease hides it until it ends; then it is due again (a crashed worker's message).
    assert message_id not in [c.message.message_id for c in repo.due(T0, 1000)]
    later = [c.message.message_id for c in repo.due(T0 + timedelta(minutes=6), 1000)]
    assert message_id in later


def test_failures_back_off_then_give_up_visibly(repo) -> None:
    kind = "f-" + uuid.uuid4().hex[:6]
    message_id = put(repo, kind)
    calls: list[datetime] = []
    clock = Clock()

    def flaky(message: OutboxMessage) -> Delivered:
        calls.append(clock.now)
        raise ConnectionError("smtp down")

    dispatcher = Dispatcher(repo, {kind: flaky}, clock, max_attempts=3)
    for _ in range(10):
        dispatcher.drain(limit=1000)
        clock.now += timedelta(hours=1)
    assert len(calls) == 3
    item = repo.get(message_id)
    assert item is not None and item.status == "failed" and "ConnectionError" in item.last_error
    assert item.pending_shard is None


def test_permanent_failures_stop_at_once(repo) -> None:
    kind = "p-" + uuid.uuid4().hex[:6]
    message_id = put(repo, kind)

    def unsubscribed(message: OutboxMessage) -> Delivered:
        raise PermanentFailure("donor unsubscribed")

    Dispatcher(repo, {kind: unsubscribed}, Clock()).drain(limit=1000)
    assert OutboxModel.get(message_id).status == "failed"


def test_a_storage_error_on_one_message_leaves_the_rest_of_the_drain_going(repo) -> None:
    from botocore.exceptions import ReadTimeoutError

    delivered: list[str] = []
    kind = "t-" + uuid.uuid4().hex[:6]
    ids = [put(repo, kind) for _ in range(3)]

    class Flaky(OutboxRepository):
        """The real repository, whose claim times out once, for the first of these messages."""

        failed: list[str] = []

        def claim(self, item, lease_until):  # type: ignore[no-untyped-def]
            if item.message.message_id in ids and not self.failed:
                self.failed.append(item.message.message_id)
                raise ReadTimeoutError(endpoint_url="http://dynamodb")
            return super().claim(item, lease_until)

    flaky = Flaky(shards=3)
    Dispatcher(flaky, {kind: lambda m: delivered.append(m.message_id) or Delivered("ses-1")},
               Clock()).drain(limit=1000)
    assert sorted(d for d in delivered if d in ids) == sorted(set(ids) - set(flaky.failed))
    Dispatcher(flaky, {kind: lambda m: delivered.append(m.message_id) or Delivered("ses-1")},
               Clock()).drain(limit=1000)  # the next drain takes the one left
    assert sorted(d for d in delivered if d in ids) == sorted(ids)
