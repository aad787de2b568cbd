"""The routes people's browsers open answer errors as pages (issue 12, finding 10, HTML errors):
a bad, expired or used link, a wrong form or an unknown page gives a 4xx HTML page in the donor
pages' look, with the status, never the JSON error body and never a 5xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.followups_kit import now

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def expired(purpose: str, *subjects: str) -> str:
    from chalicelib import deps
    from chalicelib.tokens import Tokens

    return Tokens(deps.settings().token_secret, clock=lambda: now() - timedelta(days=800)).issue(
        purpose, *subjects)


def tampered(purpose: str, *subjects: str) -> str:
    from chalicelib import deps

    good = deps.tokens().issue(purpose, *subjects)
    return good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")


def assert_page(response: Any, status: int, where: str) -> str:
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert response.status_code == status, (where, response.status_code, body[:300])
    assert response.headers["Content-Type"].startswith("text/html"), (where, response.headers)
    assert body.lstrip().startswith("<!doctype html>") and '"error"' not in body, where
    assert '<section class="card" role="status">' in body, where  # the donor pages' notice
    assert response.headers["Cache-Control"] == "no-store", where
    return body


def cases(slug: str) -> list[tuple[str, str, int, dict[str, str] | None]]:
    from chalicelib import tokens

    return [
        # (method, path, status, headers): each link with a tampered token (400) and an expired one (410)
        *[(method, f"{prefix}{tampered(purpose, *subjects)}", 400, FORM if method == "POST" else None)
          for prefix, purpose, subjects in (
              ("/c/", tokens.CANCEL_PLAN, ("sub_x",)), ("/u/", tokens.UNSUBSCRIBE, ("p",)),
              ("/i/", tokens.RSVP, ("i",)), ("/s/", tokens.CONFIRM, ("p",)),
              ("/e/", tokens.EMPLOYMENT, ("d", "don_x")), ("/h/", tokens.HOST, ("act_x", "ref")))
          for method in ("GET", "POST")],
        *[("GET", f"{prefix}{expired(purpose, *subjects)}", 410, None)
          for prefix, purpose, subjects in (
              ("/c/", tokens.CANCEL_PLAN, ("sub_x",)), ("/u/", tokens.UNSUBSCRIBE, ("p",)),
              ("/i/", tokens.RSVP, ("i",)), ("/s/", tokens.CONFIRM, ("p",)),
              ("/e/", tokens.EMPLOYMENT, ("d", "don_x")))],
        ("GET", f"/express/{slug}?t={tampered(tokens.EXPRESS, 'dnr_x', 'C00123456')}", 400, None),
        ("GET", f"/express/{slug}?t={expired(tokens.EXPRESS, 'dnr_x', 'C00123456')}", 410, None),
        ("GET", f"/express/{slug}", 400, None),  # no token at all
        ("GET", f"/me?t={tampered(tokens.PORTAL, 'dnr_x')}", 400, None),
        ("GET", f"/me?t={expired(tokens.PORTAL, 'dnr_x')}", 410, None),
        ("POST", "/me/signin", 415, {"Content-Type": "application/json"}),
        ("GET", f"/c/{tampered(tokens.UNSUBSCRIBE, 'p')}", 400, None),  # another purpose's token
        ("GET", "/donate/no-such-page", 404, None),
        ("GET", "/donate/no-such-page/thanks", 404, None),
        ("GET", "/r/nosuchcode", 404, None),
        # A form post Chalice refuses before any view (a media type the route does not take).
        ("POST", f"/c/{tampered(tokens.CANCEL_PLAN, 'sub_x')}", 415, {"Content-Type": "image/png"}),
    ]


def test_each_donor_route_answers_a_bad_link_with_a_page(api) -> None:
    slug = api.create_page()["slug"]
    for method, path, status, headers in cases(slug):
        response = api.client.http.request(method, path, headers=headers or {}, body=b"")
        assert_page(response, status, f"{method} {path[:40]}")


def test_an_oversized_form_is_a_413_page(api) -> None:
    from chalicelib import deps, tokens

    path = f"/u/{deps.tokens().issue(tokens.UNSUBSCRIBE, 'p')}"
    too_big = b"x=" + b"a" * (deps.settings().max_body_bytes + 1)
    assert_page(api.client.http.post(path, headers=FORM, body=too_big), 413, "oversized")
    response = api.client.http.post("/api/unsubscribe/x", headers=FORM, body=too_big)
    assert response.status_code == 413 and response.json_body["error"]["code"] == "body_too_large"
