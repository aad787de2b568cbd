"""Organizers' page routes and the public page, through chalice's test client on moto's server."""

from __future__ import annotations

import pytest

from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, page_body, staff

pytestmark = pytest.mark.stack


def test_organizer_creates_updates_and_lists_a_page(api) -> None:
    created = api.create_page()
    slug = created["slug"]
    assert created["ask_amounts_cents"] == [1000, 2700, 5000]
    status, updated = api.call("PUT", f"/api/admin/pages/{slug}", {"goal_cents": 2_000_000,
                               "headline": "New"}, staff(ORGANIZER_KEY))
    assert status == 200 and updated["goal_cents"] == 2_000_000 and updated["headline"] == "New"
    assert updated["title"] == created["title"]
    status, listed = api.call("GET", "/api/admin/pages", headers=staff(ORGANIZER_KEY))
    assert status == 200 and slug in [p["slug"] for p in listed["pages"]]
    public = api.public(slug)
    assert public["status"] == "open" and public["raised_cents"] == 0
    assert public["contribution_count"] == 0 and public["seconds_remaining"] > 0
    assert public["publishable_key"].startswith("pk_test_")
    assert public["deadline"] == "2099-11-03T04:59:00Z"


ADMIN_ROUTES = [
    ("POST", "/api/admin/pages", page_body()),
    ("GET", "/api/admin/pages", None),
    ("GET", "/api/admin/pages/demo", None),
    ("PUT", "/api/admin/pages/demo", {"goal_cents": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_page_admin_role_matrix(api, method: str, path: str, body: object) -> None:
    assert api.call(method, path, body)[0] == 401
    assert api.call(method, path, body, {"Authorization": "Bearer not-a-key"})[0] == 401
    status, error = api.call(method, path, body, staff(FINANCE_KEY))
    assert status == 403 and error["error"]["code"] == "forbidden"


def test_invalid_page_names_the_fields_and_writes_nothing(api) -> None:
    body = page_body(ask_amounts_cents=[], election="Z1")
    status, error = api.call("POST", "/api/admin/pages", body, staff(ORGANIZER_KEY))
    assert status == 400
    assert set(error["error"]["fields"]) >= {"ask_amounts_cents", "election"}
    assert api.call("GET", f"/api/pages/{body['slug']}")[0] == 404


def test_slug_is_taken_once(api) -> None:
    page = api.create_page()
    status, error = api.call("POST", "/api/admin/pages", page_body(slug=page["slug"]), staff(ORGANIZER_KEY))
    assert status == 409 and error["error"]["code"] == "page_exists"


def test_update_of_unknown_page_or_with_nulls(api) -> None:
    assert api.call("PUT", "/api/admin/pages/nope-none", {"goal_cents": 1}, staff(ORGANIZER_KEY))[0] == 404
    page = api.create_page()
    status, error = api.call("PUT", f"/api/admin/pages/{page['slug']}", {"title": None}, staff(ORGANIZER_KEY))
    assert status == 400 and "title" in error["error"]["fields"]


def test_unknown_public_page_is_404(api) -> None:
    status, error = api.call("GET", "/api/pages/no-such-page")
    assert status == 404 and error["error"]["code"] == "page_not_found"


def test_page_past_its_deadline_is_closed(api) -> None:
    page = api.create_page(deadline="2020-01-01T00:00:00Z")
    public = api.public(page["slug"])
    assert public["status"] == "closed" and public["seconds_remaining"] == 0


def test_health(api) -> None:
    assert api.call("GET", "/api/health") == (200, {"ok": True})


@pytest.mark.parametrize("digits", ["²", "٣٠٠٠"])  # digits to str.isdigit, not ASCII
def test_unicode_digits_in_numeric_query_parameters_are_not_numbers(api, digits: str) -> None:
    from urllib.parse import quote

    slug = api.create_page()["slug"]
    status, page = api.call("GET", f"/api/pages/{slug}?amount={quote(digits)}")
    assert status == 200 and page["preselected_amount_cents"] is None
    status, html = api.call("GET", f"/donate/{slug}?amount={quote(digits)}")
    assert status == 200 and 'aria-pressed="true"' not in html  # nothing preselected
    status, error = api.call("GET", f"/api/admin/payouts?limit={quote(digits)}", headers=staff(FINANCE_KEY))
    assert status == 400 and error["error"]["fields"] == {"limit": "a whole number from 1 to 500"}
