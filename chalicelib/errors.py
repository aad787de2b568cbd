"""Domain errors: a stable code, a message for people, the offending fields, and a kind.

The kind says what went wrong in the campaign's terms; `api.errors` alone maps it to HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

Kind = Literal[
    "invalid", "unauthenticated", "forbidden", "not_found", "conflict", "too_large",
    "rule", "rate_limited", "unavailable", "gone",
]


class DomainError(Exception):
    """An error a client (or an upstream provider) caused, described without HTTP."""

    kind: Kind = "invalid"

    def __init__(self, code: str, message: str, *, fields: dict[str, str] | None = None,
                 kind: Kind | None = None, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if kind is not None:
            self.kind = kind
        self.extra = extra or {}


class InvalidInput(DomainError):
    kind: Kind = "invalid"


class NotFound(DomainError):
    kind: Kind = "not_found"


class Conflict(DomainError):
    kind: Kind = "conflict"


class Unauthenticated(DomainError):
    kind: Kind = "unauthenticated"


class Forbidden(DomainError):
    kind: Kind = "forbidden"


class ProviderUnavailable(DomainError):
    """The payment provider could not be reached or failed; the client may retry."""

    kind: Kind = "unavailable"


class ProviderBusy(ProviderUnavailable):
    """The payment provider is at its request rate limit (Stripe's 429): nothing was done, and
    the same request succeeds a moment later. `retry_after` is how long to wait, in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("payment_provider_busy",
                         "Lots of people are giving right now; one moment, then try again.",
                         extra={"retry_after": retry_after})


def invalid_fields(problems: Iterable[Mapping[str, Any]]) -> InvalidInput:
    """A pydantic `ValidationError`'s `errors()` as the 400 naming each offending field
    (`donor.email`: its message), the first message of each field kept."""
    fields: dict[str, str] = {}
    for problem in problems:
        path = ".".join(str(p) for p in problem["loc"]) or "body"
        fields.setdefault(path, str(problem["msg"]).removeprefix("Value error, "))
    return InvalidInput("invalid_request", "Some fields are missing or invalid.", fields=fields)


def transient(exc: Exception) -> bool:
    """Storage throttled, timed out or conflicting after botocore's retries, or a write that kept
    conflicting: nothing was written, so the client (or Stripe) may simply retry (503)."""
    from chalicelib.giving.service import StaleRead
    from chalicelib.storage.errors import is_transient

    return isinstance(exc, StaleRead) or is_transient(exc)


def failure_cause(exc: Exception) -> str | None:
    """What a storage failure was (its response code, or its cause's type), for the logs."""
    from chalicelib.storage.errors import response_code

    cause = getattr(exc, "cause", None)
    return response_code(exc) or (type(cause).__name__ if cause is not None else None)
