"""Payouts for finance: what each Stripe deposit holds, and the SQS handler that reconciles one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, CloudWatchEvent, Rate, Response, SQSEvent

from chalicelib import deps, logs
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response
from chalicelib.config import queue_name
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.pages.model import isoformat_utc

if TYPE_CHECKING:
    from chalicelib.payouts.model import PayoutRecord

payouts = Blueprint(__name__)
FINANCE = ("finance",)
MAX_LIST = 500


@payouts.route("/api/admin/payouts", methods=["GET"])
@handles_errors
def list_payouts() -> Response:
    require_staff(payouts.current_request, *FINANCE)
    params: Mapping[str, str] = payouts.current_request.query_params or {}
    raw = params.get("limit", "100")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIST:
        raise InvalidInput("invalid_request", f"`limit` is a whole number from 1 to {MAX_LIST}.",
                           fields={"limit": f"a whole number from 1 to {MAX_LIST}"})
    records = deps.payout_service().recent(int(raw))
    return json_response({"payouts": [payout_view(r, detail=False) for r in records]})


@payouts.route("/api/admin/payouts/{payout_id}", methods=["GET"])
@handles_errors
def get_payout(payout_id: str) -> Response:
    require_staff(payouts.current_request, *FINANCE)
    return json_response(payout_view(deps.payout_service().view(payout_id), detail=True))


@payouts.on_sqs_message(queue=queue_name("payouts"), batch_size=1)
def reconcile_payout(event: SQSEvent) -> None:
    """Reconcile each payout named on the queue. A failure (Stripe unreachable after the SDK's
    retries, storage throttled) is raised, so SQS delivers the message again and, after five
    tries, moves it to the dead-letter queue."""
    for record in event:
        try:
            payout_id = str(json.loads(record.body)["payout_id"])
        except (ValueError, KeyError, TypeError):
            logs.warning("not a payout message")
            continue
        try:
            result = deps.payout_service().reconcile(payout_id)
        except NotFound:  # not this account's payout: retrying will not change that
            logs.warning("payout unknown to Stripe, message dropped", payout_id=payout_id)
            continue
        logs.info("payout reconciled", payout_id=payout_id, reconciled=result.reconciled,
                  unmatched=len(result.unmatched))


@payouts.schedule(Rate(1, unit=Rate.HOURS), name="recheck_payouts")
def recheck_payouts(event: CloudWatchEvent) -> dict[str, int]:
    """Queue again the last 30 days' payouts that did not reconcile (see docs/payouts.md)."""
    queued = deps.payout_service().recheck()
    if queued:
        logs.info("unreconciled payouts queued again", count=len(queued))
    return {"queued": len(queued)}


def payout_view(record: PayoutRecord, *, detail: bool) -> dict[str, Any]:
    facts = record.facts
    body: dict[str, Any] = {
        "payout_id": facts.payout_id,
        "amount_cents": facts.amount_cents,
        "currency": facts.currency,
        "status": facts.status,
        "arrival_date": isoformat_utc(facts.arrival_date),
        "created_at": isoformat_utc(facts.created_at),
        "reconciled": record.reconciled,
        "reconciled_at": isoformat_utc(record.reconciled_at) if record.reconciled_at else None,
        "unmatched_count": len(record.unmatched),
        **(record.summary or {}),
    }
    if facts.status == "failed":
        body.update(failure_code=facts.failure_code, failure_message=facts.failure_message,
                    failed_at=isoformat_utc(record.failed_at) if record.failed_at else None,
                    returned_in=record.returned_in)
    if detail:
        body["unmatched"] = record.unmatched
    return body
