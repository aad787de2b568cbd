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
