"""Who is looking at a page: their variant bucket, the visitor cookie, and what their link carried.

The cookie `gs_vid` holds only a random id (no PII, no variant): the variant is derived from it
through its bucket (chalicelib/pages/experiments.py). Behind the CloudFront distribution the
edge's viewer-request function reads (or mints) the cookie and sends the bucket in the
`X-Gs-Bucket` header, which is in the cache key; the origin then answers the same page to every
visitor of the bucket (cacheable) and never sets a cookie (the viewer-response function does).
Without the edge (`make run`, tests, API Gateway called directly) the origin reads the cookie
itself, or mints one, and the answer is for that visitor alone. The cookie is `HttpOnly;
SameSite=Lax` always, `Secure` when the request came over HTTPS.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from chalice.app import Request

from chalicelib.api import caching
from chalicelib.pages.experiments import bucket_of, valid_bucket
from chalicelib.pages.service import Visit

COOKIE = "gs_vid"
BUCKET_HEADER = "x-gs-bucket"
MAX_AGE_SECONDS = 365 * 24 * 3600
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REFCODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_AMOUNT_CENTS = 99_999_999


@dataclass(frozen=True)
class Audience:
    """Whom a page response is for: the bucket that chooses its variant (None: no visitor id
    at all), and the headers saying who may keep it (and the cookie to set, if new)."""

    bucket: int | None
    headers: dict[str, str] = field(default_factory=dict)


def cookies(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (request.headers.get("cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            found.setdefault(name, value.strip().strip('"'))
    return found


def visitor_id(request: Request) -> str | None:
    """The visitor's id from their cookie, if it is one we could have set."""
    current = cookies(request).get(COOKIE, "")
    return current if VISITOR_ID.fullmatch(current) else None


def audience(request: Request) -> Audience:
    """The bucket of this page view and its caching headers (see the module's docstring)."""
    params: Mapping[str, str] = request.query_params or {}
    edge_bucket = valid_bucket(request.headers.get(BUCKET_HEADER))
    if edge_bucket is not None:
        found = Audience(edge_bucket, {"Cache-Control": caching.SHARED})
    elif (known := visitor_id(request)) is not None:
        found = Audience(bucket_of(known), {"Cache-Control": caching.PERSONAL, "Vary": "Cookie"})
    else:
        new_id = secrets.token_urlsafe(16)
        secure = request.headers.get("x-forwarded-proto", "").lower() == "https"
        cookie = f"{COOKIE}={new_id}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax"
        found = Audience(bucket_of(new_id), {"Cache-Control": caching.NO_STORE,
                                             "Set-Cookie": cookie + ("; Secure" if secure else "")})
    if params.get("t"):  # a donor's own ladder: never kept by any cache
        found.headers["Cache-Control"] = caching.NO_STORE
    return found


def visit(request: Request, bucket: int | None) -> Visit:
    """What the page link carried: `t` (a donor's signed token) and `amount` (cents)."""
    params: Mapping[str, str] = request.query_params or {}
    return Visit(bucket=bucket, donor_token=params.get("t") or None,
                 amount_cents=preselected_amount(params.get("amount", "")))


def preselected_amount(text: str) -> int | None:
    """`?amount=` in cents, if it is a whole number a donor could give."""
    return int(text) if text.isascii() and text.isdigit() and 100 <= int(text) <= MAX_AMOUNT_CENTS else None
