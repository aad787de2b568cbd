"""HTTP middleware: refuse oversized bodies before any route parses them."""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.api.http import error_response
from chalicelib.config import settings


def limit_body_size(event: Request, get_response: Callable[[Request], Response]) -> Response:
    limit = settings().max_body_bytes
    if len(event.raw_body or b"") > limit:
        return error_response(413, "body_too_large", f"The request body exceeds {limit} bytes.")
    return get_response(event)
