"""HTML pages for donors: the donation form, the thank-you page and their scripts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib import deps, logs
from chalicelib.api import caching, visitors
from chalicelib.api.http import error_response, handles_errors
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
}


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


@donor_pages.route("/donate/{slug}", methods=["GET"])
@handles_errors
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
                         committee_type=deps.committees().get(page.committee_id).type)
    return _html(html, headers=audience.headers)


@donor_pages.route("/donate/{slug}/thanks", methods=["GET"])
@handles_errors
def thanks(slug: str) -> Response:
    from chalicelib.pages.render import render_thanks

    service = deps.page_service()
    page, view = service.view(slug)
    params: Mapping[str, str] = donor_pages.current_request.query_params or {}
    share_url, invitations = _after_giving(slug, params.get("donation_id", ""))
    # Personal (the donor's share link and invitations): NO_STORE, as every HTML page by default.
    return _html(render_thanks(page, view, share_url, invitations))


# The thank-you page shows a donation's share link and invitations only this long after it began.
THANKS_WINDOW = timedelta(hours=24)


def _after_giving(slug: str, donation_id: str) -> tuple[str | None, list[dict[str, object]]]:
    """The donor's share link (this page, with their personal refcode, so their friends' gifts
    are credited to them) and the invitations already sent to them, each with its RSVP link.
    Nothing for an unknown, old or other page's donation; never fails the page."""
    from chalicelib.followups.planning import share_refcode
    from chalicelib.giving.model import donor_id_for

    if not re.fullmatch(r"don_[0-9a-f]{32}", donation_id):
        return None, []
    try:
        found = deps.page_service().donors.donation_contact(donation_id)  # type: ignore[union-attr]
        if found is None or found[0] != slug or datetime.now(timezone.utc) - found[2] > THANKS_WINDOW:
            return None, []
        person_id = donor_id_for(found[1])
        base = settings().public_base_url.rstrip("/")
        share_url = f"{base}/donate/{slug}?refcode={share_refcode(deps.tokens().share_code(person_id))}"
    except Exception as exc:  # the thank-you page shows without the extras
        logs.warning("thank-you extras unavailable", error=type(exc).__name__)
        return None, []
    return share_url, _invitations(person_id)


def _invitations(person_id: str) -> list[dict[str, object]]:
    """Upcoming actions the donor is invited to (recorded when the thank-you email goes out)."""
    from chalicelib.storage.followups import FollowupRepository
    from chalicelib.tokens import RSVP

    try:
        store = FollowupRepository(settings().region, deps.outbox_store())
        now = datetime.now(timezone.utc)
        found: list[dict[str, object]] = []
        for invitation in store.invitations_of_person(person_id):
            action = store.get_action(invitation.action_id)
            if action is None or not action.is_upcoming(now):
                continue
            token = deps.tokens().issue(RSVP, invitation.invitation_id)
            found.append({"title": action.title, "kind": action.kind, "status": invitation.status,
                          "starts_at": action.starts_at, "url": f"/i/{token}"})
        return found
    except Exception as exc:  # the invitations also arrive by email
        logs.warning("thank-you invitations unavailable", error=type(exc).__name__)
        return []


@donor_pages.route("/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    if name not in {"donate.js", "thanks.js", "express.js"}:
        return error_response(404, "not_found", "No such asset.")
    return Response(body=(ASSETS / name).read_text(), status_code=200, headers={
        "Content-Type": "application/javascript; charset=utf-8", "Cache-Control": caching.ASSET})
