"""HTML pages for donors: the donation form, the thank-you page and their scripts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib import deps, logs
from chalicelib.api import caching, visitors
from chalicelib.api.html import html_errors, language
from chalicelib.api.http import error_response
from chalicelib.config import settings

donor_pages = Blueprint(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Stripe.js may come from another origin (js.stripe.com, or the local stand-in).
HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": caching.NO_STORE,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    merged = {**HTML_HEADERS, **(headers or {})}
    if "frame-ancestors 'none'" not in str(merged["Content-Security-Policy"]):
        del merged["X-Frame-Options"]  # framing allowed: CSP names who may, XFO cannot
    return Response(body=body, status_code=status, headers=merged)


@donor_pages.route("/donate/{slug}", methods=["GET"])
@html_errors
def donate(slug: str) -> Response:
    """The donation page as this visitor sees it (their bucket's A/B variant; a returning
    donor's own ladder with `?t=`, never cached; `?amount=` preselected). Counts nothing: its
    script's beacon does (POST /api/pages/{slug}/visits)."""
    from chalicelib.pages.render import render_donate

    request = donor_pages.current_request
    audience = visitors.audience(request)
    visit = visitors.visit(request, audience.bucket)
    page, view = deps.page_service().view(slug, visit)
    html = render_donate(page, view, settings().stripe_js_url, visit.amount_cents,
                         committee_type=deps.committee_service().get(page.committee_id).type,
                         locale=language(request, page.locale))
    return _html(html, headers=audience.headers)


@donor_pages.route("/embed/{slug}", methods=["GET"])
@html_errors
def embed(slug: str) -> Response:
    """The donation form for another site's page (docs/embed.md): framed only by the origins
    listed on the page (CSP `frame-ancestors`); a page without any keeps `'none'` and
    `X-Frame-Options: DENY`, as every other page. It tells its parent its height and a completed
    gift with postMessage, to the embedding origin only. Cached like /donate/{slug}."""
    from chalicelib.pages.render import render_donate

    request = donor_pages.current_request
    audience = visitors.audience(request)
    visit = visitors.visit(request, audience.bucket)
    page, view = deps.page_service().view(slug, visit)
    html = render_donate(page, view, settings().stripe_js_url, visit.amount_cents,
                         committee_type=deps.committee_service().get(page.committee_id).type,
                         embed_origins=page.embed_origins or None, locale=language(request, page.locale))
    return _html(html, headers={**audience.headers, **frame_headers(page.embed_origins)})


def frame_headers(origins: list[str]) -> dict[str, str]:
    """Who may frame a page: the listed origins (validated as origins when the page was saved),
    or nobody."""
    if not origins:
        return {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}
    return {"Content-Security-Policy": "frame-ancestors " + " ".join(origins)}


@donor_pages.route("/donate/{slug}/thanks", methods=["GET"])
@html_errors
def thanks(slug: str) -> Response:
    from chalicelib.pages.render import render_thanks

    service = deps.page_service()
    page, view = service.view(slug)
    params: Mapping[str, str] = donor_pages.current_request.query_params or {}
    outcome = payment_outcome(params.get("redirect_status"))
    share_url, invitations = (_after_giving(slug, params.get("donation_id", ""))
                              if outcome == "succeeded" else (None, []))
    start_url = _start_url(slug, params.get("donation_id", "")) if share_url else None
    # Personal (the donor's share link and invitations): NO_STORE, as every HTML page by default.
    return _html(render_thanks(page, view, share_url, invitations, outcome, start_url,
                               locale=language(donor_pages.current_request, page.locale)))


def payment_outcome(redirect_status: str | None) -> str:
    """What Stripe's redirect after `confirmPayment` says of the payment: `succeeded` (also
    when there is no redirect status: a gift confirmed without one), `processing` (the bank
    has not answered yet), or `failed` for anything else Stripe sends (`failed`,
    `requires_payment_method`…). The page says so honestly; the webhook decides what counts."""
    if redirect_status in (None, "", "succeeded"):
        return "succeeded"
    return "processing" if redirect_status == "processing" else "failed"


# The thank-you page shows a donation's share link and invitations only this long after it began.
THANKS_WINDOW = timedelta(hours=24)


def _after_giving(slug: str, donation_id: str) -> tuple[str | None, list[dict[str, object]]]:
    """The donor's share link and invitations (the follow-up service decides); never fails the
    page, which shows without them."""
    if not re.fullmatch(r"don_[0-9a-f]{32}", donation_id):
        return None, []
    try:
        return deps.audience().after_giving(slug, donation_id, THANKS_WINDOW)
    except Exception as exc:  # the invitations also arrive by email
        logs.warning("thank-you extras unavailable", error=type(exc).__name__)
        return None, []


def _start_url(slug: str, donation_id: str) -> str | None:
    """The donor's signed link to start their own page under this one (none on a supporter's
    page); never fails the page."""
    try:
        return deps.supporters().start_url_for_donation(slug, donation_id, THANKS_WINDOW)
    except Exception as exc:  # the thank-you email carries it too
        logs.warning("supporter link unavailable", error=type(exc).__name__)
        return None


@donor_pages.route("/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    if name not in {"donate.js", "thanks.js", "express.js", "card.js"}:
        return error_response(404, "not_found", "No such asset.")
    return Response(body=(ASSETS / name).read_text(), status_code=200, headers={
        "Content-Type": "application/javascript; charset=utf-8", "Cache-Control": caching.ASSET})
