"""`/embed/{slug}`: the donation form another site may frame, only from the origins listed on the
page (`embed_origins`, validated as https origins, http only for localhost), sent as CSP
`frame-ancestors`; a page without any, and every other page, refuses framing."""

from __future__ import annotations

import pytest

from tests.helpers import ORGANIZER_KEY, page_body, staff

pytestmark = pytest.mark.stack


def test_the_listed_origins_may_frame_the_form_and_nobody_else(api) -> None:
    slug = api.create_page(embed_origins=["https://Friends.Example.org", "http://localhost:8123",
                                          "https://friends.example.org/"])["slug"]
    status, html = api.call("GET", f"/embed/{slug}")
    assert status == 200 and 'id="donate"' in html
    headers = api.last_headers
    assert headers["Content-Security-Policy"] == (
        "frame-ancestors https://friends.example.org http://localhost:8123")
    assert "X-Frame-Options" not in headers
    assert 'data-embed-origins="https://friends.example.org http://localhost:8123"' in html
    api.call("GET", f"/embed/{slug}", headers={"X-Gs-Bucket": "3"})
    assert api.last_headers["Cache-Control"].startswith("public")  # cached per bucket, as /donate
    status, _ = api.call("GET", f"/donate/{slug}")  # the page itself still refuses frames
    assert status == 200 and api.last_headers["X-Frame-Options"] == "DENY"
    assert api.last_headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_a_page_without_embed_origins_refuses_framing(api) -> None:
    slug = api.create_page()["slug"]
    status, html = api.call("GET", f"/embed/{slug}")
    assert status == 200 and "data-embed-origins" not in html
    assert api.last_headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert api.last_headers["X-Frame-Options"] == "DENY"
    status, _ = api.call("GET", "/embed/no-such-page-here")
    assert status == 404 and api.last_headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("origin", [
    "http://friends.example.org", "https://friends.example.org/donate", "https://a.example.org?x=1",
    "javascript:alert(1)", "https://*.example.org", "https://user:pw@example.org", "friends.example.org",
    "https://example.org 'unsafe-inline'", "https://example.org;script-src *", ""])
def test_embed_origins_must_be_https_origins(api, origin: str) -> None:
    status, body = api.call("POST", "/api/admin/pages", page_body(embed_origins=[origin]),
                            staff(ORGANIZER_KEY))
    assert status == 400, body
    assert any(k.startswith("embed_origins") for k in body["error"]["fields"]), body


def test_embed_origins_are_set_and_cleared_on_update(api) -> None:
    slug = api.create_page()["slug"]
    status, page = api.call("PUT", f"/api/admin/pages/{slug}", {"embed_origins": ["https://allies.example.org"]},
                            staff(ORGANIZER_KEY))
    assert status == 200 and page["embed_origins"] == ["https://allies.example.org"], page
    api.call("GET", f"/embed/{slug}")
    assert api.last_headers["Content-Security-Policy"] == "frame-ancestors https://allies.example.org"
    status, page = api.call("PUT", f"/api/admin/pages/{slug}", {"embed_origins": []}, staff(ORGANIZER_KEY))
    assert status == 200 and page["embed_origins"] == []
    api.call("GET", f"/embed/{slug}")
    assert api.last_headers["X-Frame-Options"] == "DENY"
