"""What every console page shares: the blueprint, the session check with the API's role rules,
CSRF on every POST, HTML error pages, and rendering (jinja2, autoescaped).

Adding a page is small: a `NAV` entry (if it belongs in the menu), a view decorated with
`@console.route(...)` and `@staff_page(ROLES)`, and a template extending `console/base.html`.
"""

from __future__ import annotations

import functools
import re
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Request, Response

from chalicelib import deps, logs
from chalicelib.api.http import STATUS
from chalicelib.errors import DomainError
from chalicelib.staff.auth import may

if TYPE_CHECKING:
    from chalicelib.staff.signin import SignedIn

console = Blueprint(__name__)

ORGANIZERS = ("organizer",)
FINANCE = ("finance",)
STAFF = ("organizer", "finance")
PII_ROLES = ("finance", "admin")
FORM = "application/x-www-form-urlencoded"
LOGIN_COOKIE = "gs_login"  # the sign-in forms' CSRF token, before there is a session

HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # sign-in links carry tokens
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; "
                                "script-src 'unsafe-inline' 'self'; frame-src 'self'; "
                                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
}


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: tuple[str, ...]


# The menu, in order; each entry shows only to the roles that may open it.
NAV: list[NavItem] = [
    NavItem("Dashboard", "/admin/", ORGANIZERS),
    NavItem("New page", "/admin/pages/new", ORGANIZERS),
    NavItem("Refcodes", "/admin/reports/refcodes", STAFF),
    NavItem("Participation", "/admin/reports/participation", ORGANIZERS),
    NavItem("Actions", "/admin/actions", ORGANIZERS),
    NavItem("Proposed actions", "/admin/proposals", ORGANIZERS),
    NavItem("Recruiters", "/admin/recruiters", ORGANIZERS),
    NavItem("Donations", "/admin/donations", FINANCE),
    NavItem("Exports", "/admin/exports", FINANCE),
    NavItem("Payouts", "/admin/payouts", FINANCE),
    NavItem("Deposits", "/admin/deposits", FINANCE),
    NavItem("FEC reports", "/admin/filings", FINANCE),
    NavItem("48-hour notices", "/admin/notices", FINANCE),
    NavItem("Reviews", "/admin/reviews", FINANCE),
    NavItem("Enter a receipt", "/admin/receipts", FINANCE),
    NavItem("Import receipts", "/admin/receipts/import", FINANCE),
]


HOMES = {"finance": "/admin/donations"}


def home_for(role: str) -> str:
    """Where a role lands after signing in (organizers and admins: the dashboard)."""
    return HOMES.get(role, "/admin/")


def request() -> Request:
    current = console.current_request
    assert current is not None
    return current


def cookies(req: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (req.headers.get("cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            found.setdefault(name, value.strip())
    return found


def secure(req: Request) -> bool:
    """API Gateway says HTTPS in X-Forwarded-Proto; `chalice local` is plain HTTP."""
    return req.headers.get("x-forwarded-proto", "").lower() == "https"


def form(req: Request) -> dict[str, list[str]]:
    """A urlencoded form body, each name with all its values (empty ones kept)."""
    raw = req.raw_body or b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return urllib.parse.parse_qs(text, keep_blank_values=True, max_num_fields=200)


def field(data: dict[str, list[str]], name: str) -> str:
    values = data.get(name) or [""]
    return values[-1].strip()


def params(req: Request) -> dict[str, str]:
    return dict(req.query_params or {})


# --- rendering ----------------------------------------------------------------------------
def render(template: str, signed: SignedIn | None = None, status: int = 200,
           headers: dict[str, str | list[str]] | None = None, **context: Any) -> Response:
    from chalicelib.console.render import render_page

    nav = [n for n in NAV if signed and may(signed.staff.role, n.roles)]
    body = render_page(template, signed=signed, nav=nav,
                       current=request().path if console.current_request else "", **context)
    return Response(body=body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


def error_page(status: int, heading: str, message: str, signed: SignedIn | None = None) -> Response:
    return render("console/error.html", signed, status, heading=heading, message=message)


def redirect(location: str, headers: dict[str, str | list[str]] | None = None) -> Response:
    """303 See Other: after a POST the browser GETs the result."""
    return Response(body="", status_code=303,
                    headers={"Location": location, "Cache-Control": "no-store", **(headers or {})})


_NEXT = re.compile(r"^/admin(/[A-Za-z0-9/_.~%-]*)?(\?[A-Za-z0-9=&_.~%+-]*)?$")


def safe_next(value: str | None) -> str | None:
    """A place in the console to return to after signing in; nothing else (no open redirect)."""
    return value if value and _NEXT.fullmatch(value) and "//" not in value else None


# --- guards -------------------------------------------------------------------------------
def staff_page(roles: tuple[str, ...]) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A console view for `roles` (and admin): no session answers 303 to the sign-in page, the
    wrong role a 403 page; a POST must carry its session's CSRF token. The view gets `signed`
    (the session and its live key) before its URL parameters."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            req = request()
            try:
                signed = deps.signin().current(cookies(req).get(deps.console_sessions().kind.cookie))
            except Exception as exc:
                return _failed(exc, None)
            if signed is None:
                target = req.path + ("?" + urllib.parse.urlencode(req.query_params)
                                     if req.query_params else "")
                back = safe_next(target) if req.method == "GET" else None
                return redirect("/admin/login" + (f"?next={urllib.parse.quote(back)}" if back else ""))
            if not may(signed.staff.role, roles):
                return error_page(403, "Not for your role",
                                  f"This page is for {' or '.join(roles)} staff.", signed)
            if req.method == "POST":
                from chalicelib.sessions.service import csrf_ok

                if not csrf_ok(signed.session.csrf_token, field(form(req), "csrf")):
                    return error_page(403, "This form has expired",
                                      "Reload the page and send the form again.", signed)
            try:
                return view(signed, **kwargs)
            except Exception as exc:
                return _failed(exc, signed)

        return wrapper

    return decorate


def public_form(view: Callable[..., Response]) -> Callable[..., Response]:
    """The sign-in pages: a POST must carry the token of the `gs_login` cookie (a login CSRF
    guard, since there is no session yet); errors are pages."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Response:
        req = request()
        if req.method == "POST":
            from chalicelib.sessions.service import csrf_ok

            if not csrf_ok(cookies(req).get(LOGIN_COOKIE, ""), field(form(req), "csrf")):
                return error_page(403, "This form has expired", "Reload the page and try again.")
        try:
            return view(**kwargs)
        except Exception as exc:
            return _failed(exc, None)

    return wrapper


def login_token(req: Request, name: str = LOGIN_COOKIE,
                path: str = "/admin") -> tuple[str, dict[str, str | list[str]]]:
    """The sign-in forms' CSRF token (the cookie's, or a new one and the cookie to set): a
    double-submit token for forms before there is a session (the portal's too, on its path)."""
    current = cookies(req).get(name, "")
    if re.fullmatch(r"[A-Za-z0-9_-]{32,64}", current):
        return current, {}
    token = secrets.token_urlsafe(32)
    cookie = f"{name}={token}; Path={path}; Max-Age=3600; HttpOnly; SameSite=Strict"
    return token, {"Set-Cookie": cookie + ("; Secure" if secure(req) else "")}


def _failed(exc: Exception, signed: SignedIn | None) -> Response:
    """Domain errors as a page with the API's status; storage trouble as a 503 page."""
    from chalicelib.errors import transient

    if isinstance(exc, DomainError):
        status = STATUS[exc.kind]
        heading = {400: "That did not work", 401: "Please sign in again", 403: "Not allowed",
                   404: "Not found", 409: "That conflicts with something", 410: "This link has expired",
                   422: "That breaks a rule"}.get(status, "Something went wrong")
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        return error_page(status, heading, exc.message + (f" ({details})" if details else ""), signed)
    if transient(exc):
        logs.warning("console: storage unavailable", error=type(exc).__name__)
        response = error_page(503, "Please try again", "The system is busy; reload in a moment.", signed)
        response.headers["Retry-After"] = "1"
        return response
    raise exc
