"""Express giving: the confirmation step (`/express/{slug}`) and the charge it confirms."""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps, logs
from chalicelib.api.donations import client_ip
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.errors import Conflict

express = Blueprint(__name__)


@express.route("/api/express/donations", methods=["POST"])
@handles_errors
def express_donation() -> Response:
    from chalicelib.giving.express import ExpressRequest, as_donation_request
    from chalicelib.tokens import EXPRESS

    http = express.current_request
    body = validated(ExpressRequest, read_json(http))
    donor_id = deps.tokens().read(body.token, EXPRESS)
    service = deps.giving_service()
    found = service.store.donor(donor_id)  # type: ignore[attr-defined]
    if found is None or not found[1]:
        raise Conflict("no_saved_card", "There is no saved card for express giving.")
    snapshot, customer_id = found
    started = service.start_donation(body.page, as_donation_request(body, snapshot), client_ip(http),
                                     express_customer=customer_id)
    d = started.donation
    logs.info("express donation", donation_id=d.donation_id, page=body.page)
    return json_response({"donation_id": d.donation_id, "status": d.status,
                          "amount_cents": d.amount_cents}, 201)


@express.route("/express/{slug}", methods=["GET"])
@handles_errors
def express_page(slug: str) -> Response:
    from chalicelib.pages.render import render_express
    from chalicelib.tokens import EXPRESS

    params: Mapping[str, str] = express.current_request.query_params or {}
    token = params.get("t", "")
    donor_id = deps.tokens().read(token, EXPRESS)
    page = deps.page_service().get(slug)
    found = deps.giving_service().store.donor(donor_id)  # type: ignore[attr-defined]
    card = deps.stripe_gateway().saved_card(found[1]) if found and found[1] else None
    amount = params.get("amount", "")
    preselect = int(amount) if amount.isascii() and amount.isdigit() else page.ask_amounts_cents[0]
    html = render_express(page, deps.page_service().public(slug), token, card, preselect)
    return Response(body=html, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"})
