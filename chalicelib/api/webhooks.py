"""Stripe's webhook: verify, then apply the event exactly once. No call back to Stripe."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import deps, logs, metrics
from chalicelib.api.http import error_response, handles_errors, json_response
from chalicelib.compliance.reviews import SCREENING_EVENT_TYPES
from chalicelib.config import settings
from chalicelib.giving.events import PAYOUT_EVENT_TYPES, read_event
from chalicelib.giving.service import StaleRead

webhooks = Blueprint(__name__)


def counted(view: Callable[[], Response]) -> Callable[[], Response]:
    """Every answer to Stripe as metrics: its outcome, and whether it was a 2xx (an exception
    becomes Chalice's 500, counted as such)."""

    @functools.wraps(view)
    def wrapper() -> Response:
        try:
            response = view()
        except Exception:
            metrics.webhook(None, 500)
            raise
        outcome = "refused" if 400 <= response.status_code < 500 else None
        if response.status_code < 300:
            try:
                outcome = json.loads(response.body).get("outcome")
            except (TypeError, ValueError, AttributeError):
                outcome = None
        metrics.webhook(outcome, response.status_code)
        return response

    return wrapper


@webhooks.route("/webhooks/stripe", methods=["POST"])
@counted
@handles_errors
def stripe_webhook() -> Response:
    request = webhooks.current_request
    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    payload = deps.stripe_gateway().verified_event(raw, request.headers.get("stripe-signature"))
    event = read_event(payload, livemode=settings().stripe_livemode)
    if event is None and payload.get("type") in PAYOUT_EVENT_TYPES:
        return _payout_event(payload)
    if event is None and payload.get("type") in SCREENING_EVENT_TYPES:
        return _card_check(payload)
    if event is None:
        return json_response({"received": True, "outcome": "ignored"})
    return _applied(event.event_id, event.type, lambda: deps.giving_service().apply_event(event).value)


def _applied(event_id: str, event_type: str, apply: Callable[[], str]) -> Response:
    """The outcome of applying an event, or 503 when it could not be applied now: answering
    non-2xx makes Stripe deliver again, and nothing was written."""
    try:
        outcome = apply()
    except StaleRead:
        logs.warning("event not applied, will be retried", event_id=event_id)
        return error_response(503, "try_again", "The event could not be applied now; retry.")
    logs.info("stripe event", event_id=event_id, type=event_type, outcome=outcome)
    return json_response({"received": True, "outcome": outcome})


def _payout_event(payload: dict[str, Any]) -> Response:
    """Acknowledged at once: the payout's id goes on the payouts queue and the reconciliation job
    asks Stripe for the rest (docs/payouts.md)."""
    from chalicelib.payouts.model import read_payout_event

    event = read_payout_event(payload)
    outcome = deps.payout_service().acknowledge(event)
    logs.info("stripe event", event_id=event.event_id, type=event.type, outcome=outcome.value)
    return json_response({"received": True, "outcome": outcome.value})


def _card_check(payload: dict[str, Any]) -> Response:
    """A successful charge's card: recorded on its contribution, which a signal of prohibited
    money puts in the review queue (docs/elections.md#review-queue). Nothing is refunded here."""
    from chalicelib.compliance.reviews import read_card_check

    check = read_card_check(payload)
    if check is None:
        return json_response({"received": True, "outcome": "ignored"})
    return _applied(check.event_id, check.event_type, lambda: deps.reviews().screen(check))
