"""The donor's links about an excessive contribution (compliance/remedies.py).

`GET /redesignation/{token}` shows what was presumed to be for the next election and a button;
it changes nothing (mail scanners open every link). The button's `POST` asks for the refund of
that amount instead: queued once through the outbox's refund path, however often it is posted.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.html import FORM, JSON, html_errors, page
from chalicelib.followups.compose import money
from chalicelib.giving.model import Donation

remedies = Blueprint(__name__)


def _redesignation_page(token: str, donation: Donation) -> Response:
    return page("redesignation.html", amount=money(donation.redesignated_cents),
                gift=money(donation.amount_cents), from_election=donation.election,
                to_election=donation.redesignated_to or "",
                refunded=donation.redesignation_status == "refunded",
                form_action=f"/redesignation/{token}")


@remedies.route("/redesignation/{token}", methods=["GET"])
@html_errors
def redesignation_page(token: str) -> Response:
    return _redesignation_page(token, deps.redesignations().show(token))


@remedies.route("/redesignation/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def redesignation_refund(token: str) -> Response:
    return _redesignation_page(token, deps.redesignations().refund(token))
