"""Every route of the app, discovered from the app itself, says what caches may keep: each answer
(the success a staff key gets, the refusal without one, an unknown id) carries a Cache-Control
that is one of chalicelib/api/caching.py's, and only page reads and assets are ever shareable.
A new route is covered without anyone listing it here."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

import pytest

from chalicelib.api import caching
from chalicelib.staff.auth import hash_key
from chalicelib.storage.staff_keys import StaffKeyRepository
from tests.helpers import staff

pytestmark = pytest.mark.stack

DELIBERATE = {caching.SHARED, caching.ASSET, caching.PERSONAL, caching.NO_STORE}
# The only routes whose answer may be kept by a shared cache (the edge): the same for everyone
# of a variant bucket, or for everyone.
SHAREABLE = {("GET", "/donate/{slug}"), ("GET", "/embed/{slug}"), ("GET", "/api/pages/{slug}"),
             ("GET", "/api/pages/{slug}/progress"),
             ("GET", "/assets/{name}"), ("GET", "/api/openapi.json")}


def routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((method, path) for path, entries in app.routes.items() for method in entries)


def test_routes_are_discovered() -> None:
    assert len(routes()) > 40 and ("POST", "/webhooks/stripe") in routes()


@pytest.fixture(scope="module")
def admin_key(local_stack) -> str:
    key = f"cache-admin-{uuid.uuid4().hex}"
    StaffKeyRepository().save(hash_key(key), "admin", "cache-control test", datetime.now(timezone.utc))
    return key


@pytest.mark.parametrize(("method", "path"), routes())
def test_every_answer_says_what_may_be_cached(api, admin_key, method: str, path: str) -> None:
    slug = api.create_page()["slug"] if "{slug}" in path else "x"
    filled = path.replace("{slug}", slug).replace("{name}", "donate.js")
    filled = re.sub(r"\{[^}]+\}", "C00000009" if "committee" in path else "x-cache", filled)
    body = "{}" if method in ("POST", "PUT") else None
    # With staff's key (a success where the route has one), without (a refusal), from the edge.
    for headers in (staff(admin_key), {}, {"X-Gs-Bucket": "3"}, {"Cookie": "gs_vid=cache-control-visitor"}):
        response = getattr(api.client.http, method.lower())(
            filled, headers={"Content-Type": "application/json", **headers}, body=body)
        control = response.headers.get("Cache-Control")
        assert control in DELIBERATE, (method, path, response.status_code, control)
        if control in (caching.SHARED, caching.ASSET):
            assert (method, path) in SHAREABLE, (method, path, control)
            assert response.status_code == 200 and "Set-Cookie" not in response.headers
        if response.status_code >= 400:
            assert control == caching.NO_STORE, (method, path, response.status_code)
