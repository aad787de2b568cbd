"""The donor's links about an excessive contribution (compliance/remedies.py).

`GET /redesignation/{token}` shows what was presumed to be for the next election and a button;
it changes nothing (mail scanners open every link). The button's `POST` asks for the refund of
that amount instead: queued once through the outbox's refund path, however often it is posted.

`GET /reattribution/{token}` (the donor) and `GET /reattribution/confirm/{token}` (the other
holder of the card account) show their forms; their `POST`s name the other person and the
amount, and confirm with that person's own details: each acts once.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.html import FORM, JSON, form_fields, html_errors, page
from chalicelib.errors import InvalidInput
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


# Reattribution of a held excess (compliance/reattribution.py): the donor's link names the
# other holder of the card account and the amount; that person's own link confirms. GET shows
# (changes nothing), POST acts, once.

def _reattribution_page(token: str, donation: Donation, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    request = donation.reattribution_request or {}
    return page("reattribution.html", status, gift=money(donation.amount_cents),
                held=money(donation.excess_held_cents), held_cents=donation.excess_held_cents,
                election=donation.election, reattribution_status=donation.reattribution_status,
                amount=money(donation.reattribution_cents), other=request.get("first_name", ""),
                refund_on=donation.excess_held_until, form_action=f"/reattribution/{token}", **context)


@remedies.route("/reattribution/{token}", methods=["GET"])
@html_errors
def reattribution_page(token: str) -> Response:
    return _reattribution_page(token, deps.reattributions().show(token))


@remedies.route("/reattribution/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def reattribution_request(token: str) -> Response:
    from chalicelib.compliance.reattribution import read_request

    service = deps.reattributions()
    values = form_fields(remedies.current_request)
    try:
        holder, cents = read_request(values)
        return _reattribution_page(token, service.request(token, holder, cents))
    except InvalidInput as err:
        return _reattribution_page(token, service.show(token), 400, values=values, errors=err.fields)


def _confirmation_page(token: str, donation: Donation, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page("reattribution_confirm.html", status, amount=money(donation.reattribution_cents),
                donor_name=donation.donor.first_name, election=donation.election,
                confirmed=donation.reattribution_status == "confirmed",
                form_action=f"/reattribution/confirm/{token}", **context)


@remedies.route("/reattribution/confirm/{token}", methods=["GET"])
@html_errors
def reattribution_confirmation(token: str) -> Response:
    return _confirmation_page(token, deps.reattributions().show_confirmation(token))


@remedies.route("/reattribution/confirm/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def reattribution_confirm(token: str) -> Response:
    from chalicelib.compliance.reattribution import read_confirmation

    service = deps.reattributions()
    values = form_fields(remedies.current_request)
    try:
        person, attestations = read_confirmation(values)
        return _confirmation_page(token, service.confirm(token, person, attestations))
    except InvalidInput as err:
        return _confirmation_page(token, service.show_confirmation(token), 400, values=values,
                                  errors=err.fields)
