"""The one place where domain errors become HTTP responses, plus request-body helpers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import Request, Response

from chalicelib import logs
from chalicelib.errors import DomainError, InvalidInput, failure_cause, invalid_fields, transient

if TYPE_CHECKING:
    from pydantic import BaseModel

STATUS = {
    "invalid": 400, "unauthenticated": 401, "forbidden": 403, "not_found": 404,
    "conflict": 409, "gone": 410, "too_large": 413, "rule": 422, "rate_limited": 429,
    "unavailable": 503,
}
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
M = TypeVar("M", bound="BaseModel")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra or {})
    return json_response({"error": error}, status)


def handles_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Turn domain errors into the project's error body; never leak internals to clients."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except DomainError as err:
            extra = {k: v for k, v in err.extra.items() if k != "provider_code"}
            if err.kind == "unavailable":
                logs.warning("upstream unavailable", code=err.code, **err.extra)
            response = error_response(STATUS[err.kind], err.code, err.message, err.fields, extra)
            if "retry_after" in extra:
                response.headers["Retry-After"] = str(extra["retry_after"])
            return response
        except Exception as exc:
            if not transient(exc):
                raise
            # Storage throttled or timed out after botocore's own retries, or a write kept
            # conflicting: nothing was committed, so the client (or Stripe) may simply retry.
            logs.warning("storage unavailable, retry asked", error=type(exc).__name__,
                         cause=failure_cause(exc))
            response = error_response(503, "try_again", "The request could not be completed now; retry.")
            response.headers["Retry-After"] = "1"
            return response

    return wrapper


def read_json(request: Request) -> Any:
    """The request body as JSON, or a 400 `invalid_json`."""
    raw = request.raw_body or b""
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_json", "The request body is not valid JSON.") from None


def validated(model: type[M], body: Any) -> M:
    """`body` checked against a pydantic model; failures name each offending field."""
    from pydantic import ValidationError

    if not isinstance(body, dict):
        raise InvalidInput("invalid_request", "The request body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_fields(exc.errors(include_url=False, include_input=False)) from None
    except OverflowError:  # a validator converting an extreme value (a year-1 date to UTC)
        raise InvalidInput("invalid_request", "A date or number is out of range.") from None
