"""Express giving: the confirmation step (`/express/{slug}`), the charge it confirms, and
revoking every express link at once."""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps, logs
from chalicelib.api.donations import client_ip
from chalicelib.api.html import html_errors, language
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.pages.model import isoformat_utc

express = Blueprint(__name__)


@express.route("/api/express/donations", methods=["POST"])
@handles_errors
def express_donation() -> Response:
    """Charge the saved card for a confirmed amount; the link works once."""
    from chalicelib.giving.express import ExpressRequest

    http = express.current_request
    body = validated(ExpressRequest, read_json(http))
    started = deps.express_service().give(body, client_ip(http))
    d = started.donation
    logs.info("express donation", donation_id=d.donation_id, page=body.page)
    return json_response({"donation_id": d.donation_id, "status": d.status,
                          "amount_cents": d.amount_cents}, 201)


@express.route("/api/express/revoke", methods=["POST"])
@handles_errors
def revoke_express() -> Response:
    """Stop every express link of the donor the token (express or donor) names."""
    from chalicelib.giving.express import RevokeRequest

    body = validated(RevokeRequest, read_json(express.current_request))
    when = deps.express_service().revoke(body.token)
    logs.info("express links revoked")
    return json_response({"revoked": True, "revoked_at": isoformat_utc(when)})


@express.route("/express/{slug}", methods=["GET"])
@html_errors
def express_page(slug: str) -> Response:
    """The confirmation step: the saved card, the amount, the ZIP code when the amount needs
    it. Opening it charges and changes nothing."""
    from chalicelib.pages.render import render_express

    params: Mapping[str, str] = express.current_request.query_params or {}
    token = params.get("t", "")
    confirmation = deps.express_service().confirmation(slug, token)
    page = confirmation.page
    amount = params.get("amount", "")
    # At most eight digits: Stripe's ceiling for one payment, and never a float overflow.
    preselect = (int(amount) if amount.isascii() and amount.isdigit() and len(amount) <= 8
                 else page.ask_amounts_cents[0])
    html = render_express(page, deps.page_service().public(slug), token, confirmation.card, preselect,
                          confirmation.step_up_cents, locale=language(express.current_request, page.locale))
    return Response(body=html, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"})
