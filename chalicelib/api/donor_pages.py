"""HTML pages for donors: the donation form, the thank-you page and their scripts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.http import handles_errors
from chalicelib.config import settings

donor_pages = Blueprint(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Stripe.js may come from another origin (js.stripe.com, or the local stand-in).
HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def _html(body: str, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers=HTML_HEADERS)


@donor_pages.route("/donate/{slug}", methods=["GET"])
@handles_errors
def donate(slug: str) -> Response:
    from chalicelib.pages.render import render_donate

    service = deps.page_service()
    page = service.get(slug)
    params: Mapping[str, str] = donor_pages.current_request.query_params or {}
    amount = params.get("amount", "")
    preselect = int(amount) if amount.isdigit() and 100 <= int(amount) <= 99_999_999 else None
    return _html(render_donate(page, service.public(slug), settings().stripe_js_url, preselect))


@donor_pages.route("/donate/{slug}/thanks", methods=["GET"])
@handles_errors
def thanks(slug: str) -> Response:
    from chalicelib.pages.render import render_thanks

    service = deps.page_service()
    return _html(render_thanks(service.get(slug), service.public(slug)))


@donor_pages.route("/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    if name not in {"donate.js", "thanks.js"}:
        return Response(body="Not found", status_code=404, headers={"Content-Type": "text/plain"})
    return Response(body=(ASSETS / name).read_text(), status_code=200, headers={
        "Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "max-age=300"})
