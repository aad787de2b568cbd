"""Every staff route, discovered from the app itself, refuses callers without the right role:
no key 401, unknown or revoked key 401, wrong role 403. A new staff route without an entry
here fails this test."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

import pytest

from chalicelib.staff.auth import hash_key
from chalicelib.storage.staff_keys import StaffKeyRepository
from tests.helpers import staff

pytestmark = pytest.mark.stack

ORGANIZER, FINANCE = ("organizer",), ("finance",)
BOTH = ("organizer", "finance")
# (method, path) -> roles allowed besides admin.
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/api/admin/pages"): ORGANIZER,
    ("POST", "/api/admin/pages"): ORGANIZER,
    ("GET", "/api/admin/pages/{slug}"): ORGANIZER,
    ("PUT", "/api/admin/pages/{slug}"): ORGANIZER,
    ("GET", "/api/admin/pages/{slug}/history"): ORGANIZER,
    ("GET", "/api/admin/pages/{slug}/results"): ORGANIZER,
    ("GET", "/api/admin/pages/{slug}/supporters"): ORGANIZER,
    ("POST", "/api/admin/pages/{slug}/approve"): ORGANIZER,
    ("POST", "/api/admin/pages/{slug}/decline"): ORGANIZER,
    ("GET", "/api/admin/reports/refcodes"): BOTH,
    ("GET", "/api/admin/reports/participation"): BOTH,
    ("GET", "/api/admin/donations/{donation_id}"): BOTH,
    ("POST", "/api/admin/contributions"): FINANCE,
    ("POST", "/api/admin/contributions/import"): FINANCE,
    ("GET", "/api/admin/deposits/{batch}"): FINANCE,
    ("PUT", "/api/admin/deposits/{batch}"): FINANCE,
    ("GET", "/api/admin/committees"): FINANCE,
    ("GET", "/api/admin/committees/{committee_id}"): FINANCE,
    ("PUT", "/api/admin/committees/{committee_id}"): FINANCE,
    ("POST", "/api/exports"): FINANCE,
    ("GET", "/api/exports/{export_id}"): FINANCE,
    ("GET", "/api/admin/actions"): ORGANIZER,
    ("POST", "/api/admin/actions"): ORGANIZER,
    ("GET", "/api/admin/actions/{action_id}"): ORGANIZER,
    ("PUT", "/api/admin/actions/{action_id}"): ORGANIZER,
    ("POST", "/api/admin/actions/{action_id}/approve"): ORGANIZER,
    ("POST", "/api/admin/actions/{action_id}/decline"): ORGANIZER,
    ("GET", "/api/admin/donors/{donor_id}"): BOTH,
    ("GET", "/api/admin/payouts"): FINANCE,
    ("GET", "/api/admin/payouts/{payout_id}"): FINANCE,
    ("POST", "/api/admin/reports"): FINANCE,
    ("GET", "/api/admin/reports"): FINANCE,
    ("GET", "/api/admin/reports/{report_id}"): FINANCE,
    ("POST", "/api/admin/reports/{report_id}/finalize"): FINANCE,
    ("GET", "/api/admin/reports/{report_id}/file"): FINANCE,
    ("POST", "/api/admin/reports/{report_id}/amend"): FINANCE,
    ("GET", "/api/admin/notices"): FINANCE,
    ("GET", "/api/admin/notices/{notice_id}/file"): FINANCE,
    ("POST", "/api/admin/notices/{notice_id}/filed"): FINANCE,
    ("GET", "/api/admin/reviews"): FINANCE,
    ("POST", "/api/admin/reviews/{donation_id}"): FINANCE,
}
STAFF_PATH = re.compile(r"^/api/(admin|exports)(/|$)")

# The console's pages: (method, path) -> roles allowed besides admin. Sign-in pages are public.
CONSOLE_PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login"), ("POST", "/admin/login/email"),
                  ("GET", "/admin/login/link"), ("POST", "/admin/login/link")}
CONSOLE_ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/admin"): ORGANIZER,
    ("GET", "/admin/pages/new"): ORGANIZER,
    ("POST", "/admin/pages"): ORGANIZER,
    ("GET", "/admin/pages/{slug}"): ORGANIZER,
    ("POST", "/admin/pages/{slug}"): ORGANIZER,
    ("GET", "/admin/pages/{slug}/results"): ORGANIZER,
    ("GET", "/admin/pages/{slug}/supporters"): ORGANIZER,
    ("POST", "/admin/pages/{slug}/approve"): ORGANIZER,
    ("POST", "/admin/pages/{slug}/decline"): ORGANIZER,
    ("GET", "/admin/preview"): ORGANIZER,
    ("GET", "/admin/reports/refcodes"): BOTH,
    ("GET", "/admin/actions"): ORGANIZER,
    ("GET", "/admin/actions/{action_id}"): ORGANIZER,
    ("GET", "/admin/proposals"): ORGANIZER,
    ("POST", "/admin/proposals/{action_id}"): ORGANIZER,
    ("GET", "/admin/recruiters"): ORGANIZER,
    ("GET", "/admin/reports/participation"): ORGANIZER,
    ("GET", "/admin/exports"): FINANCE,
    ("POST", "/admin/exports"): FINANCE,
    ("GET", "/admin/exports/{export_id}"): FINANCE,
    ("GET", "/admin/exports/{export_id}/download"): FINANCE,
    ("GET", "/admin/payouts"): FINANCE,
    ("GET", "/admin/payouts/{payout_id}"): FINANCE,
    ("GET", "/admin/deposits"): FINANCE,
    ("GET", "/admin/deposits/{batch}"): FINANCE,
    ("POST", "/admin/deposits/{batch}"): FINANCE,
    ("GET", "/admin/reviews"): FINANCE,
    ("POST", "/admin/reviews/{donation_id}"): FINANCE,
    ("GET", "/admin/receipts"): FINANCE,
    ("POST", "/admin/receipts"): FINANCE,
    ("GET", "/admin/receipts/import"): FINANCE,
    ("POST", "/admin/receipts/import"): FINANCE,
    ("GET", "/admin/donations"): FINANCE,
    ("GET", "/admin/donations/{donation_id}"): FINANCE,
    ("GET", "/admin/donors/{donor_id}"): FINANCE,
    ("GET", "/admin/filings"): FINANCE,
    ("POST", "/admin/filings"): FINANCE,
    ("GET", "/admin/filings/{report_id}"): FINANCE,
    ("POST", "/admin/filings/{report_id}/finalize"): FINANCE,
    ("POST", "/admin/filings/{report_id}/amend"): FINANCE,
    ("GET", "/admin/filings/{report_id}/download"): FINANCE,
    ("GET", "/admin/notices"): FINANCE,
    ("GET", "/admin/notices/{notice_id}/download"): FINANCE,
    ("POST", "/admin/notices/{notice_id}/filed"): FINANCE,
    ("POST", "/admin/logout"): BOTH,
}
CONSOLE_PATH = re.compile(r"^/admin(/|$)")


def staff_routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((method, path) for path, entries in app.routes.items() if STAFF_PATH.match(path)
                  for method in entries)


@pytest.fixture(scope="module")
def keys(local_stack) -> dict[str, str]:
    repo = StaffKeyRepository()
    now = datetime.now(timezone.utc)
    made = {}
    for role in ("organizer", "finance", "admin", "revoked"):
        key = f"matrix-{role}-{uuid.uuid4().hex}"
        repo.save(hash_key(key), "organizer" if role == "revoked" else role, f"matrix {role}", now)
        made[role] = key
    repo.revoke(hash_key(made["revoked"]), now)
    return made


def console_routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((method, path) for path, entries in app.routes.items() if CONSOLE_PATH.match(path)
                  for method in entries if (method, path) not in CONSOLE_PUBLIC)


def test_every_console_route_has_an_entry() -> None:
    missing = [route for route in console_routes() if route not in CONSOLE_ALLOWED]
    assert not missing, f"add these console routes to CONSOLE_ALLOWED: {missing}"
    assert not set(CONSOLE_ALLOWED) - set(console_routes()), "stale CONSOLE_ALLOWED entries"


@pytest.mark.parametrize(("method", "path"), console_routes())
def test_console_role_matrix(client, keys, method: str, path: str) -> None:
    """No session: 303 to the sign-in page (a revoked key's session too). Wrong role: a 403
    page. The right role (and admin) gets past the guard (its CSRF check, for a POST)."""
    from tests.console_kit import Console

    url = re.sub(r"\{[^}]+\}", "x-matrix", path)
    anonymous = Console(client)
    response = anonymous.post(url, {}) if method == "POST" else anonymous.get(url)
    assert response.status_code == 303 and response.headers["Location"].startswith("/admin/login")
    revoked = Console(client)
    revoked.sign_in_with_key(keys["revoked"])
    assert "gs_console" not in revoked.cookies
    for role in ("organizer", "finance", "admin"):
        browser = Console(client)
        assert browser.sign_in_with_key(keys[role]).status_code == 303
        response = browser.post(url, {}) if method == "POST" else browser.get(url)
        body = response.body.decode() if isinstance(response.body, bytes) else response.body
        if role == "admin" or role in CONSOLE_ALLOWED.get((method, path), ()):
            assert response.status_code not in (303, 401), (role, response.status_code)
            assert "Not for your role" not in body, role
        else:
            assert response.status_code == 403 and "Not for your role" in body, (role, response.status_code)
            assert response.headers["Content-Type"].startswith("text/html")


def test_every_staff_route_has_an_entry() -> None:
    missing = [route for route in staff_routes() if route not in ALLOWED]
    assert not missing, f"add these staff routes to ALLOWED: {missing}"


@pytest.mark.parametrize(("method", "path"), staff_routes())
def test_role_matrix(api, keys, method: str, path: str) -> None:
    url = re.sub(r"\{[^}]+\}", "C00000009" if "committee" in path else "x-matrix", path)
    body = {} if method in ("POST", "PUT") else None
    assert api.call(method, url, body)[0] == 401
    assert api.call(method, url, body, {"Authorization": "Bearer nope"})[0] == 401
    assert api.call(method, url, body, staff(keys["revoked"]))[0] == 401
    for role in ("organizer", "finance"):
        status, _ = api.call(method, url, body, staff(keys[role]))
        if role in ALLOWED.get((method, path), ()):
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)
    assert api.call(method, url, body, staff(keys["admin"]))[0] not in (401, 403)
