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
    ("GET", "/api/admin/reports/refcodes"): BOTH,
    ("GET", "/api/admin/donations/{donation_id}"): BOTH,
    ("GET", "/api/admin/committees"): FINANCE,
    ("GET", "/api/admin/committees/{committee_id}"): FINANCE,
    ("PUT", "/api/admin/committees/{committee_id}"): FINANCE,
    ("POST", "/api/exports"): FINANCE,
    ("GET", "/api/exports/{export_id}"): FINANCE,
    ("GET", "/api/admin/actions"): ORGANIZER,
    ("POST", "/api/admin/actions"): ORGANIZER,
    ("GET", "/api/admin/actions/{action_id}"): ORGANIZER,
    ("PUT", "/api/admin/actions/{action_id}"): ORGANIZER,
    ("GET", "/api/admin/donors/{donor_id}"): BOTH,
    ("GET", "/api/admin/payouts"): FINANCE,
    ("GET", "/api/admin/payouts/{payout_id}"): FINANCE,
}
STAFF_PATH = re.compile(r"^/api/(admin|exports)(/|$)")


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
