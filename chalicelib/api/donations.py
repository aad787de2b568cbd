"""Donation intake (public) and the staff view of one donation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Request, Response

from chalicelib import deps, logs
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.clock import utcnow
from chalicelib.config import settings
from chalicelib.errors import InvalidInput
from chalicelib.giving.model import Donation
from chalicelib.pages.model import isoformat_utc

if TYPE_CHECKING:
    from chalicelib.giving.deposits import DepositView

donations = Blueprint(__name__)
PII_ROLES = ("finance", "admin")


@donations.route("/api/pages/{slug}/donations", methods=["POST"])
@handles_errors
def start_donation(slug: str) -> Response:
    from chalicelib.compliance.reviews import attestation_signals, refusal_note
    from chalicelib.giving.intake import DonationRequest

    http = donations.current_request
    try:
        request = validated(DonationRequest, read_json(http))
    except InvalidInput as err:
        note = refusal_note(deps.tokens(), err.fields)
        if note:  # nothing is written; the page sends the note back with its next attempt
            err.extra["attestations_refused"] = note
        raise
    signals = attestation_signals(deps.tokens(), request.attestations_refused)
    started = deps.giving_service().start_donation(slug, request, client_ip(http),
                                                   review_signals=signals)
    d = started.donation
    logs.info("donation started", donation_id=d.donation_id, page=slug, amount_cents=d.amount_cents)
    return json_response({
        "donation_id": d.donation_id,
        "status": d.status,
        "amount_cents": d.amount_cents,
        "client_secret": started.client_secret,
        "publishable_key": settings().stripe_publishable_key,
    }, 201)


@donations.route("/api/admin/contributions", methods=["POST"])
@handles_errors
def record_contribution() -> Response:
    """A check, cash, a wire, an in-kind or an earmarked gift finance received (docs/reports.md,
    "Enter checks")."""
    from chalicelib.giving.offline import OfflineContribution

    require_staff(donations.current_request, "finance")
    entry = validated(OfflineContribution, read_json(donations.current_request))
    d = deps.giving_service().record_offline(entry)
    logs.info("offline contribution recorded", donation_id=d.donation_id, method=entry.method,
              amount_cents=d.amount_cents)
    return json_response(offline_view(d), 201)


@donations.route("/api/admin/contributions/import", methods=["POST"],
                 content_types=["text/csv", "text/plain", "application/octet-stream",
                                "application/json"])
@handles_errors
def import_contributions() -> Response:
    """A CSV file of offline contributions (docs/reports.md, "Import a file"): checked whole,
    each problem with its line; `?dry_run=false` records it (a 422 with the report while any
    row has errors, nothing written)."""
    from chalicelib.giving.imports import read_rows

    request = donations.current_request
    require_staff(request, "finance")
    raw = request.raw_body or b""
    rows = read_rows(raw.encode() if isinstance(raw, str) else raw, settings().import_max_rows)
    report = deps.offline_import().run(rows, dry_run=dry_run(request.query_params or {}))
    logs.info("contributions import", dry_run=report.dry_run, rows=report.rows,
              errors=len(report.errors), committed=report.committed)
    return json_response(report.view(), 200)


def dry_run(params: Mapping[str, str]) -> bool:
    """`?dry_run=` is true unless it says `false` (or `0`, `no`): a typo checks, never writes."""
    value = params.get("dry_run", "true").strip().lower()
    if value in ("false", "0", "no"):
        return False
    if value in ("true", "1", "yes", ""):
        return True
    raise InvalidInput("invalid_request", "dry_run is true or false.",
                       fields={"dry_run": "true or false"})


@donations.route("/api/admin/deposits/{batch}", methods=["PUT"])
@handles_errors
def declare_deposit(batch: str) -> Response:
    """Declare (or correct) a bank deposit's total from its slip (docs/reports.md, "Deposits")."""
    from chalicelib.giving.deposits import Deposit
    from chalicelib.giving.offline import DepositDeclaration

    request = donations.current_request
    staff = require_staff(request, "finance")
    body = validated(DepositDeclaration, read_json(request))
    view = deps.deposits().declare(Deposit(_batch(batch), body.committee_id,
                                           body.expected_total_cents, staff.name or staff.role,
                                           utcnow(), body.deposited_on))
    return json_response(deposit_view(view))


@donations.route("/api/admin/deposits/{batch}", methods=["GET"])
@handles_errors
def get_deposit(batch: str) -> Response:
    """A deposit's entries, their total and whether it matches the declared total."""
    require_staff(donations.current_request, "finance")
    return json_response(deposit_view(deps.deposits().view(_batch(batch))))


def _batch(batch: str) -> str:
    from chalicelib.giving.offline import checked_batch

    return checked_batch(batch)


def deposit_view(view: DepositView) -> dict[str, object]:
    d = view.deposit
    return {
        "batch": view.batch,
        "committee_id": d.committee_id if d else None,
        "declared": d is not None,
        "expected_total_cents": d.expected_total_cents if d else None,
        "deposited_on": d.deposited_on.isoformat() if d and d.deposited_on else None,
        "declared_at": isoformat_utc(d.declared_at) if d else None,
        "total_cents": view.total_cents,
        "count": len(view.entries),
        "difference_cents": view.difference_cents,
        "reconciled": view.reconciled,
        "unmatched": view.unmatched,
        "entries": [{"donation_id": e.donation_id, "committee_id": e.committee_id,
                     "method": e.channel, "reference": e.reference,
                     "amount_cents": e.amount_cents, "status": e.status,
                     "received_at": isoformat_utc(e.created_at),
                     "donor_name": f"{e.donor.first_name} {e.donor.last_name}"}
                    for e in view.entries],
    }


@donations.route("/api/admin/donations/{donation_id}", methods=["GET"])
@handles_errors
def get_donation(donation_id: str) -> Response:
    staff = require_staff(donations.current_request, "organizer", "finance")
    donation = deps.giving_service().donation(donation_id)
    return json_response(staff_view(donation, with_pii=staff.role in PII_ROLES))


def client_ip(request: Request) -> str | None:
    """The donor's address: CloudFront's `CloudFront-Viewer-Address` (`ip:port`) behind the edge,
    where API Gateway's sourceIp is CloudFront's own; else as API Gateway saw it; locally (dev
    stage only) X-Forwarded-For."""
    if settings().trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    viewer = request.headers.get("cloudfront-viewer-address", "").strip()
    if viewer:
        return viewer.rpartition(":")[0].strip("[]") or None
    identity = (request.context or {}).get("identity") or {}
    return identity.get("sourceIp") or None


def offline_view(d: Donation) -> dict[str, object]:
    """A contribution finance entered, as its entry answers it (with the donor's details)."""
    conduit = None
    if d.conduit is not None:
        c = d.conduit
        conduit = {"name": c.name, "fec_id": c.fec_id,
                   "address": {"line1": c.address_line1, "line2": c.address_line2,
                               "city": c.city, "state": c.state, "zip": c.zip}}
    return {**staff_view(d, with_pii=True), "method": d.channel, "reference": d.reference,
            "deposit_batch": d.deposit_batch, "in_kind_description": d.in_kind_description,
            "conduit": conduit}


def staff_view(d: Donation, *, with_pii: bool) -> dict[str, object]:
    """A donation for staff; donor contact details only for finance and admin."""
    view: dict[str, object] = {
        "donation_id": d.donation_id,
        "status": d.status,
        "amount_cents": d.amount_cents,
        "refunded_cents": d.state.refunded_cents,
        "donor_id": d.donor_id,
        "page": d.page_slug,
        "committee_id": d.committee_id,
        "election": d.election,
        "refcode": d.refcode,
        "payment_intent_id": d.payment_intent_id,
        "dispute": d.state.dispute,
        "excess_refund_cents": d.excess_refund_cents,
        "excess_reason": d.excess_reason,
        # Presumptive redesignation of the excess (docs/elections.md#remedies-for-an-excessive-gift).
        "redesignated_cents": d.redesignated_cents,
        "redesignated_to": d.redesignated_to,
        "redesignated_on": d.redesignated_on.isoformat() if d.redesignated_on else None,
        "redesignation_status": d.redesignation_status,
        # The excess held for the donor's remedies until its day 60 (local), then refunded.
        "excess_held_cents": d.excess_held_cents,
        "excess_held_until": d.excess_held_until.isoformat() if d.excess_held_until else None,
        "reattribution_status": d.reattribution_status,
        "reattribution_cents": d.reattribution_cents,
        "reattributed_on": d.reattributed_on.isoformat() if d.reattributed_on else None,
        "failure_reason": d.failure_reason,
        "best_efforts_flag": d.best_efforts_flag,
        "best_efforts_answered_on": (d.best_efforts_answered_on.isoformat()
                                     if d.best_efforts_answered_on else None),
        "recurring": d.recurring,
        "subscription_id": d.subscription_id,
        "created_at": isoformat_utc(d.created_at),
    }
    if with_pii:
        view["donor"] = {
            "first_name": d.donor.first_name, "last_name": d.donor.last_name,
            "email": d.donor.email, "phone": d.donor.phone,
            "address": {"line1": d.donor.address_line1, "line2": d.donor.address_line2,
                        "city": d.donor.city, "state": d.donor.state, "zip": d.donor.zip},
            "employer": d.donor.employer, "occupation": d.donor.occupation,
        }
        if d.best_efforts_answered_on:
            view["best_efforts_answer"] = {"employer": d.best_efforts_employer,
                                           "occupation": d.best_efforts_occupation}
    return view
