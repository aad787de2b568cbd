"""Counting DynamoDB requests through botocore's own event hooks (nothing is patched)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _clients() -> list[Any]:
    from chalicelib import deps
    from chalicelib.storage.models import ALL_MODELS

    clients = {id(c): c for c in (m._get_connection().connection.client for m in ALL_MODELS)}
    repo = deps.giving_service().store
    clients[id(repo._connection.client)] = repo._connection.client
    return list(clients.values())


@contextmanager
def dynamodb_requests() -> Iterator[Counter]:
    """Yields a Counter of DynamoDB operation names called while the block runs."""
    counts: Counter = Counter()

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    clients = _clients()
    for client in clients:
        client.meta.events.register("before-call.dynamodb", count, unique_id="test-count")
    try:
        yield counts
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.dynamodb", unique_id="test-count")


WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def _every_client() -> dict[int, Any]:
    """Every botocore DynamoDB client alive in this process: the models', the repositories' own
    connections, any a service built on the way."""
    import gc

    from botocore.client import BaseClient

    return {id(o): o for o in gc.get_objects()
            if isinstance(o, BaseClient) and o.meta.service_model.service_name == "dynamodb"}


@contextmanager
def dynamodb_requests_everywhere() -> Iterator[Counter]:
    """Like `dynamodb_requests`, on every DynamoDB client of the process. A client created while
    the block runs could not be counted, so it fails the block: warm the code path first."""
    counts: Counter = Counter()

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    clients = _every_client()
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", count, unique_id="test-count-all")
    try:
        yield counts
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", unique_id="test-count-all")
    new = set(_every_client()) - set(clients)
    assert not new, f"{len(new)} DynamoDB client(s) were built inside the block; their calls went uncounted"
