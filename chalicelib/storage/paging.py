"""Cursors for paged reads: DynamoDB's `LastEvaluatedKey` as an opaque URL-safe string, and
back, accepted only with the key attributes the listing expects (a forged cursor is a 400,
never a malformed request to DynamoDB)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from chalicelib.errors import InvalidInput

_BAD = InvalidInput("invalid_request", "This list position is not valid; start from the first page.",
                    fields={"after": "not a position from this list"})


def encode(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str | None, names: Iterable[str]) -> dict[str, Any] | None:
    """The key a cursor names, if it has exactly `names`, each a string or number value."""
    if not cursor:
        return None
    if len(cursor) > 1024:
        raise _BAD
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _BAD from None
    if not isinstance(key, dict) or set(key) != set(names):
        raise _BAD
    for value in key.values():
        if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N")
                and isinstance(next(iter(value.values())), str)):
            raise _BAD
    return key
