"""The outbox table: due messages through a sparse, sharded index; claims by version."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.outbox.dispatcher import Claimed
from chalicelib.outbox.model import OutboxMessage
from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import OutboxModel


class OutboxRepository:
    def __init__(self, shards: int) -> None:
        self.shards = shards

    def shard_of(self, message_id: str) -> str:
        n = int(hashlib.sha256(message_id.encode()).hexdigest()[:8], 16) % self.shards
        return f"due#{n}"

    def item(self, message: OutboxMessage, now: datetime) -> OutboxModel:
        """The pending item for `message` (saved by the transaction that decided it)."""
        return OutboxModel(
            message.message_id, kind=message.kind, payload=message.payload, status="pending",
            due_at=message.due_at, pending_shard=self.shard_of(message.message_id),
            attempts=0, created_at=now, version=0,
        )

    def due(self, now: datetime, limit: int) -> list[Claimed]:
        found: list[Claimed] = []
        for n in range(self.shards):
            found += self.due_in(f"due#{n}", now, limit - len(found))
            if len(found) >= limit:
                break
        return found

    def due_in(self, shard: str, now: datetime, limit: int) -> list[Claimed]:
        """Up to `limit` messages of one `due` shard due by `now`, oldest first (one Query)."""
        query = OutboxModel.due.query(shard, OutboxModel.due_at <= now, limit=limit)
        return [Claimed(_message(item), int(item.attempts), int(item.version)) for item in query]

    def claim(self, item: Claimed, lease_until: datetime) -> Claimed | None:
        model = OutboxModel(item.message.message_id)
        try:
            model.update(actions=[
                OutboxModel.attempts.add(1), OutboxModel.version.add(1),
                OutboxModel.due_at.set(lease_until),
            ], condition=(OutboxModel.version == item.version) & (OutboxModel.status == "pending"))
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise
        return Claimed(item.message, item.attempts + 1, item.version + 1)

    def _finish(self, item: Claimed, *actions: object) -> None:
        OutboxModel(item.message.message_id).update(
            actions=list(actions), condition=OutboxModel.version == item.version)  # type: ignore[arg-type]

    def mark_sent(self, item: Claimed, result: str, now: datetime) -> None:
        self._finish(item, OutboxModel.status.set("sent"), OutboxModel.result.set(result or "ok"),
                     OutboxModel.sent_at.set(now), OutboxModel.pending_shard.remove(),
                     OutboxModel.version.add(1))

    def mark_retry(self, item: Claimed, error: str, due_at: datetime) -> None:
        self._finish(item, OutboxModel.last_error.set(error), OutboxModel.due_at.set(due_at),
                     OutboxModel.version.add(1))

    def mark_deferred(self, item: Claimed, reason: str, due_at: datetime) -> None:
        """Due again at `due_at`; the claim's attempt is given back (waiting is not failing)."""
        self._finish(item, OutboxModel.last_error.set(f"deferred: {reason}"),
                     OutboxModel.due_at.set(due_at), OutboxModel.attempts.add(-1),
                     OutboxModel.version.add(1))

    def mark_failed(self, item: Claimed, error: str, now: datetime) -> None:
        self._finish(item, OutboxModel.status.set("failed"), OutboxModel.last_error.set(error),
                     OutboxModel.pending_shard.remove(), OutboxModel.version.add(1))

    def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        """Queue one message on its own; the same message id again writes nothing."""
        try:
            self.item(message, now).save(condition=OutboxModel.message_id.does_not_exist())
        except PutError as exc:
            if not condition_failed(exc):
                raise

    def queue_with_update(self, region: str, message: OutboxMessage, now: datetime, item: Model,
                          actions: list[Any], condition: Any) -> bool:
        """Queue `message` and update `item` in one transaction (a sign-in link and the slot
        that allows one per minute); False, nothing written, when `condition` refuses."""
        try:
            with TransactWrite(connection=Connection(region=region)) as tx:
                tx.save(self.item(message, now), condition=OutboxModel.message_id.does_not_exist())
                tx.update(item, actions=actions, condition=condition)
        except TransactWriteError as exc:
            if any(r is not None and r.code == "ConditionalCheckFailed"
                   for r in exc.cancellation_reasons or []):
                return False
            raise
        return True

    def get(self, message_id: str) -> OutboxModel | None:
        try:
            return OutboxModel.get(message_id, consistent_read=True)
        except OutboxModel.DoesNotExist:
            return None


def _message(item: OutboxModel) -> OutboxMessage:
    return OutboxMessage(item.message_id, item.kind, item.due_at, dict(item.payload or {}))
