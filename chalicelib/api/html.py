"""Donor-facing HTML answers: the token pages (`/c/`, `/u/`, `/i/`, `/s/`, `/e/`) and their
error pages, in the donation pages' look.

A route that answers a person's browser answers errors the same way: a page with the status the
JSON API would give (400 bad link, 410 expired or used, 404, 409, 422, 429), never the JSON error
body and never a 5xx for anything a client can send.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Request, Response

from chalicelib import logs
from chalicelib.api.http import STATUS, read_json
from chalicelib.errors import DomainError, transient

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# The routes a person's browser opens, and their forms: every error there is a page, including
# the ones Chalice or the middleware answer before a view runs (415, 405, 413, 503).
PEOPLES_ROUTES = ("/c/", "/u/", "/i/", "/s/", "/e/", "/h/", "/f/", "/r/", "/express/", "/donate/", "/embed/",
                  "/me", "/redesignation/", "/join/", "/support/")

HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # token URLs must not leak to other sites
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}

# What a person reads at the top of an error page, by status.
HEADINGS = {
    400: "This link or form is not valid",
    403: "This link is not for this page",
    404: "Not found",
    409: "That did not go through",
    410: "This link has expired or was already used",
    422: "That did not go through",
    429: "Too many tries",
    503: "Please try again in a moment",
}


def language(request: Request, default: str) -> str:
    """A donor page's language: `?lang=es|en` overrides the page's (or person's) `default`;
    any other value is ignored (docs/i18n.md)."""
    from chalicelib.i18n import pick

    params: Mapping[str, str] = request.query_params or {}
    return pick(params.get("lang"), default)


def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form body (or a JSON object) as a flat dict."""
    raw = request.raw_body or b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if (request.headers.get("content-type") or "").startswith(FORM):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(text).items()}
    body = read_json(request)
    return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}


def page(template: str, status: int = 200, headers: dict[str, str | list[str]] | None = None,
         locale: str = "en", **context: Any) -> Response:
    """`template` (extending the donor pages' base.html) as an HTML answer, in `locale`."""
    from chalicelib.followups.compose import render_page

    body = render_page(template, locale, **context)
    return Response(body=body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


def notice(heading: str, message: str, status: int = 200,
           headers: dict[str, str | list[str]] | None = None, locale: str = "en") -> Response:
    """A one-message page (a result, or an error), its words already in `locale`."""
    return page("notice.html", status, headers, locale, heading=heading, message=message, link=None)


def for_people(route: str) -> bool:
    """Whether `route` (a request's resource path) answers a person's browser."""
    return route.startswith(PEOPLES_ROUTES)


def status_page(status: int, message: str, headers: dict[str, str | list[str]] | None = None) -> Response:
    """An error answered before any view ran, as a page."""
    return notice(HEADINGS.get(status, "That did not go through"), message, status, headers)


def error_page(err: DomainError) -> Response:
    """A domain error as the page a person sees, with the status the API would answer."""
    status = STATUS[err.kind]
    headers: dict[str, str | list[str]] = {}
    if "retry_after" in err.extra:
        headers["Retry-After"] = str(err.extra["retry_after"])
    return status_page(status, err.message, headers)


def html_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Errors on an HTML route become pages: domain errors with their status, storage that is
    still failing after botocore's retries a 503 page (nothing was written; reload to retry)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except DomainError as err:
            if err.kind == "unavailable":
                logs.warning("upstream unavailable", code=err.code)
            return error_page(err)
        except Exception as exc:
            if not transient(exc):
                raise
            logs.warning("storage unavailable, retry asked", error=type(exc).__name__)
            return notice(HEADINGS[503], "We could not finish that just now. Please reload the page.",
                          503, {"Retry-After": "1"})

    return wrapper
