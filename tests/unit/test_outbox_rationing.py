"""The drain when sending is rationed (issue 18), on an in-memory outbox: receipts go before
invitations, a message waiting for the send rate is deferred without using up an attempt (so
waiting never ends `failed`), and a drain stops claiming when its time is up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from chalicelib.followups.errors import SendRefused, SendThrottled
from chalicelib.followups.model import OutgoingEmail
from chalicelib.followups.planning import CONFIRM_SIGNUP, REMINDER, THANKS, WELCOME, send_priority
from chalicelib.notify.ses import SesMailer
from chalicelib.outbox.dispatcher import Claimed, Dispatcher
from chalicelib.outbox.model import Delivered, OutboxMessage

T0 = datetime(2026, 11, 3, 23, 0, tzinfo=timezone.utc)


class MemoryOutbox:
    def __init__(self, messages: list[OutboxMessage]) -> None:
        self.items = {m.message_id: {"message": m, "attempts": 0, "version": 0, "status": "pending",
                                     "due_at": m.due_at} for m in messages}

    def due(self, now: datetime, limit: int) -> list[Claimed]:
        due = [i for i in self.items.values() if i["status"] == "pending" and i["due_at"] <= now]
        return [Claimed(i["message"], i["attempts"], i["version"]) for i in due][:limit]

    def claim(self, item: Claimed, lease_until: datetime) -> Claimed | None:
        i = self.items[item.message.message_id]
        i.update(attempts=i["attempts"] + 1, version=i["version"] + 1, due_at=lease_until)
        return Claimed(item.message, i["attempts"], i["version"])

    def _finish(self, item: Claimed, **changes: object) -> None:
        i = self.items[item.message.message_id]
        i.update(version=i["version"] + 1, **changes)

    def mark_sent(self, item: Claimed, result: str, now: datetime) -> None:
        self._finish(item, status="sent")

    def mark_retry(self, item: Claimed, error: str, due_at: datetime) -> None:
        self._finish(item, due_at=due_at)

    def mark_deferred(self, item: Claimed, reason: str, due_at: datetime) -> None:
        self._finish(item, due_at=due_at, attempts=self.items[item.message.message_id]["attempts"] - 1)

    def mark_failed(self, item: Claimed, error: str, now: datetime) -> None:
        self._finish(item, status="failed")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def message(kind: str, n: int) -> OutboxMessage:
    return OutboxMessage(f"{kind}#{n}", kind, T0 - timedelta(minutes=10 - n))


def test_receipts_go_before_invitations_whatever_was_due_first() -> None:
    batch = [message(WELCOME, 0), message(REMINDER, 1), message(THANKS, 2),
             message(CONFIRM_SIGNUP, 3), message(THANKS, 4)]
    order: list[str] = []

    def record(m: OutboxMessage) -> Delivered:
        order.append(m.message_id)
        return Delivered("ok")

    handlers = {kind: record for kind in (WELCOME, REMINDER, THANKS, CONFIRM_SIGNUP)}
    Dispatcher(MemoryOutbox(batch), handlers, Clock(), priority=send_priority).drain()
    assert order == ["thanks#2", "confirm_signup#3", "thanks#4", "welcome#0", "reminder#1"]


def test_waiting_for_the_send_rate_never_uses_up_attempts() -> None:
    outbox = MemoryOutbox([message(THANKS, 0)])
    clock = Clock()
    throttled = {"left": 20}  # far more than the 3 attempts allowed

    def send(m: OutboxMessage) -> Delivered:
        if throttled["left"]:
            throttled["left"] -= 1
            raise SendThrottled("TooManyRequestsException")
        return Delivered("ses-id")

    dispatcher = Dispatcher(outbox, {THANKS: send}, clock, max_attempts=3)
    for _ in range(21):
        report = dispatcher.drain()
        clock.now += timedelta(seconds=2)
    item = outbox.items["thanks#0"]
    assert (item["status"], item["attempts"]) == ("sent", 1)
    assert report.sent == 1


def test_a_drain_stops_claiming_when_its_time_is_up() -> None:
    outbox = MemoryOutbox([message(THANKS, n) for n in range(10)])
    clock = Clock()

    def slow(m: OutboxMessage) -> Delivered:
        clock.now += timedelta(seconds=10)  # each send waits for the rate
        return Delivered("ok")

    report = Dispatcher(outbox, {THANKS: slow}, clock, time_limit=timedelta(seconds=45)).drain()
    assert report.sent == 5
    assert sum(i["status"] == "pending" for i in outbox.items.values()) == 5


def test_a_send_budget_that_cannot_be_read_means_not_sent_never_perhaps_sent() -> None:
    """The budget's DynamoDB write failing (throttled, timed out) happens before SES is asked:
    the message is known unsent (SendRefused, so the send ledger's mark is taken back and the
    outbox tries again), not left marked as perhaps sent, which would never be sent."""
    class NeverCalled:
        def send_email(self, **request: object) -> dict[str, str]:
            raise AssertionError("SES was asked although the send budget could not be read")

    def budget() -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    mailer = SesMailer("us-east-1", "campaign@example.org", client=NeverCalled(), budget=budget)
    email = OutgoingEmail(to="ana@example.org", subject="Thank you", html="<p>Thanks</p>", text="Thanks",
                          unsubscribe_url="", message_id="thanks#1")
    with pytest.raises(SendRefused) as refused:
        mailer.send(email)
    assert not isinstance(refused.value, SendThrottled)
