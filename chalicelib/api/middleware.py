"""Middleware: refuse to serve when misconfigured (fail closed); refuse oversized bodies before
any route parses them; Chalice's own error answers in the project's error body; every log line of
an invocation tagged with its request id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib import logs
from chalicelib.api.html import for_people, status_page
from chalicelib.api.http import error_response
from chalicelib.config import NotConfigured, problems, settings

_reported: list[tuple[str, ...]] = []


def fail_closed(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """A container whose configuration has problems (no STAGE; outside local dev a missing
    secret, a public URL that is not https, no trusted SNS topic) serves nothing: 503 on every
    route, and every job refuses to run. The problems (setting names, never values) are logged
    once per container."""
    found = problems()
    if not found:
        return get_response(event)
    if found not in _reported:
        _reported.append(found)
        logs.error("refusing to serve: configuration problems", problems=list(found))
    if isinstance(event, Request):
        response = error_response(503, "not_configured",
                                  "This service is not configured to take requests yet.")
        response.headers["Retry-After"] = "60"
        return response
    raise NotConfigured("refusing to run: " + "; ".join(found))


def limit_body_size(event: Request, get_response: Callable[[Request], Response]) -> Response:
    limit = settings().max_body_bytes
    if len(event.raw_body or b"") > limit:
        message = f"The request body exceeds {limit} bytes."
        return (status_page(413, message) if for_people(event.path or "")
                else error_response(413, "body_too_large", message))
    return get_response(event)


# Chalice answers these itself, before or around a view, as `{"Code", "Message"}`.
_CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type", "MethodNotAllowedError": "method_not_allowed",
    "BadRequest": "invalid_request", "BadRequestError": "invalid_request",
    "InternalServerError": "internal_error", "NotFoundError": "not_found",
}


def project_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice's own error answers (415 for a media type a route does not take, 405, and the 500
    it gives for an unhandled exception, which it has logged) in the project's error body, or as
    a page on the routes people's browsers open."""
    response = get_response(event)
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    code = _CHALICE_CODES.get(str(body["Code"]), "error")
    message = ("Something went wrong on our side; it has been logged." if response.status_code >= 500
               else str(body["Message"]))
    converted = (status_page(response.status_code, message) if for_people(event.path or "")
                 else error_response(response.status_code, code, message))
    for name, value in response.headers.items():
        if name.lower() != "content-type":
            converted.headers[name] = value
    return converted


def request_context(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Every log line of an invocation carries `request_id`: API Gateway's request id (the one
    in its access logs and the `x-amzn-RequestId` header), else the Lambda invocation's (jobs,
    queues, and `chalice local`, which has no API Gateway id)."""
    if isinstance(event, Request):
        request_id = (event.context or {}).get("requestId") or _invocation_id(event.lambda_context)
    else:
        request_id = _invocation_id(getattr(event, "context", None))
    with logs.context(request_id=request_id or "-"):
        return get_response(event)


def _invocation_id(lambda_context: Any) -> str | None:
    return getattr(lambda_context, "aws_request_id", None)
