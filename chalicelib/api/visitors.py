"""Who is looking at a page: the first-party visitor cookie, and what their link carried.

The cookie holds only a random id (no PII, no variant): the variant is derived from it and kept
server-side. `HttpOnly; SameSite=Lax` always, `Secure` when the request came over HTTPS (API
Gateway says so in `X-Forwarded-Proto`; `chalice local` serves plain HTTP).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from chalice.app import Request

from chalicelib.pages.service import Visit

COOKIE = "gs_vid"
MAX_AGE_SECONDS = 365 * 24 * 3600
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_REFCODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_AMOUNT_CENTS = 99_999_999


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    set_cookie: str | None  # the Set-Cookie header value when the id is new


def cookies(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (request.headers.get("cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            found.setdefault(name, value.strip().strip('"'))
    return found


def identify(request: Request) -> Visitor:
    """The visitor's id from their cookie, or a new random one and the cookie to set."""
    current = cookies(request).get(COOKIE, "")
    if _VISITOR_ID.fullmatch(current):
        return Visitor(current, None)
    visitor_id = secrets.token_urlsafe(16)
    secure = request.headers.get("x-forwarded-proto", "").lower() == "https"
    cookie = f"{COOKIE}={visitor_id}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax"
    return Visitor(visitor_id, cookie + ("; Secure" if secure else ""))


def visit(request: Request, visitor: Visitor) -> Visit:
    """What the page link carried: `t` (a donor's signed token), `refcode`, `amount` (cents)."""
    params: Mapping[str, str] = request.query_params or {}
    refcode = params.get("refcode") or None
    return Visit(visitor_id=visitor.visitor_id, donor_token=params.get("t") or None,
                 refcode=refcode if refcode and _REFCODE.fullmatch(refcode) else None,
                 amount_cents=preselected_amount(params.get("amount", "")))


def preselected_amount(text: str) -> int | None:
    """`?amount=` in cents, if it is a whole number a donor could give."""
    return int(text) if text.isascii() and text.isdigit() and 100 <= int(text) <= MAX_AMOUNT_CENTS else None


def headers(visitor: Visitor) -> dict[str, str]:
    """Response headers for a page that differs per visitor."""
    found = {"Cache-Control": "private, no-cache", "Vary": "Cookie"}
    if visitor.set_cookie:
        found["Set-Cookie"] = visitor.set_cookie
    return found


def assigned_variant(request: Request, slug: str) -> str | None:
    """The A/B variant this request's visitor was assigned on page `slug`, read server-side from
    the visitor cookie (for intake: a donation converts the variant its donor was shown)."""
    from chalicelib import deps

    visitor_id = cookies(request).get(COOKIE, "")
    if not _VISITOR_ID.fullmatch(visitor_id):
        return None
    service = deps.page_service()
    page = service.store.get(slug)
    if page is None or not page.variants or service.visits is None:
        return None
    return service.visits.assignment(slug, page.experiment, visitor_id)
