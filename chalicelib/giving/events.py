"""Reading Stripe events (already verified) into facts about a donation.

Only the verified payload is used: the webhook path never calls Stripe back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from chalicelib.errors import InvalidInput
from chalicelib.giving.ledger import Fact

HANDLED_TYPES = frozenset({
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
})


@dataclass(frozen=True)
class PaymentEvent:
    """A handled Stripe event reduced to what the ledger needs."""

    event_id: str
    type: str
    fact: Fact
    donation_id: str | None
    payment_intent_id: str | None
    occurred_at: datetime
    charge_id: str | None = None


def read_event(event: Any, *, livemode: bool) -> PaymentEvent | None:
    """The event's fact, or None for types we do not handle.

    Raises InvalidInput when the payload is not a Stripe event or its mode does not match ours.
    """
    if not isinstance(event, dict) or event.get("object") != "event":
        raise InvalidInput("not_an_event", "The body is not a Stripe event.")
    event_id, event_type = event.get("id"), event.get("type")
    obj = (event.get("data") or {}).get("object")
    created = event.get("created")
    if (not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict)
            or not isinstance(created, int)):
        raise InvalidInput("not_an_event", "The event lacks an id, a type, a time or a data object.")
    if bool(event.get("livemode")) != livemode:
        raise InvalidInput("livemode_mismatch",
                           "The event's livemode does not match this deployment's Stripe key.")
    if event_type not in HANDLED_TYPES:
        return None
    fact = _fact(event_type, obj)
    occurred_at = datetime.fromtimestamp(created, timezone.utc)
    if event_type.startswith("payment_intent."):
        metadata = obj.get("metadata") or {}
        return PaymentEvent(event_id, event_type, fact, _str_or_none(metadata.get("donation_id")),
                            _str_or_none(obj.get("id")), occurred_at,
                            _str_or_none(obj.get("latest_charge")))
    charge_id = obj.get("id") if event_type == "charge.refunded" else obj.get("charge")
    return PaymentEvent(event_id, event_type, fact, None, _str_or_none(obj.get("payment_intent")),
                        occurred_at, _str_or_none(charge_id))


def _fact(event_type: str, obj: dict[str, Any]) -> Fact:
    if event_type == "payment_intent.succeeded":
        return Fact("paid")
    if event_type == "payment_intent.payment_failed":
        return Fact("failed")
    if event_type == "charge.refunded":
        refunded = obj.get("amount_refunded")
        if not isinstance(refunded, int) or refunded < 0:
            raise InvalidInput("not_an_event", "charge.refunded lacks amount_refunded.")
        return Fact("refunded", refunded_cents=refunded)
    if event_type == "charge.dispute.created":
        return Fact("dispute_opened")
    # charge.dispute.closed: `lost` keeps the money with the card holder; `won` and an inquiry
    # closed without a chargeback (`warning_closed`) leave it with the campaign.
    return Fact("dispute_closed", dispute_outcome="lost" if obj.get("status") == "lost" else "won")


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) and value else None
