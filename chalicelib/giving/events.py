"""Reading Stripe events (already verified) into facts about a donation.

Only the verified payload is used: the webhook path never calls Stripe back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from chalicelib.errors import InvalidInput
from chalicelib.giving.ledger import Fact
from chalicelib.giving.model import CURRENCY, Donation, invoice_donation_id

HANDLED_TYPES = frozenset({
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    # Monthly gifts.
    "invoice.paid",
    "invoice.payment_failed",
    "invoice_payment.paid",
    "customer.subscription.deleted",
    "customer.subscription.updated",
})

# Handled by chalicelib/payouts (the webhook acknowledges them; a job reconciles the payout).
PAYOUT_EVENT_TYPES = frozenset({"payout.paid", "payout.failed"})


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
    card_fingerprint: str | None = None
    # Monthly gifts: the plan and invoice; `first_invoice` when it is the plan's first payment.
    subscription_id: str | None = None
    invoice_id: str | None = None
    first_invoice: bool = False
    amount_cents: int | None = None
    # The donation's committee, as intake tagged the payment (read with the donation).
    committee_id: str | None = None
    # The payment's three-letter currency, lower case as Stripe writes it.
    currency: str | None = None
    # A paid invoice of a monthly gift: the end of the period it paid for, when the next
    # charge falls (its first line's period, as Stripe bills a subscription in advance).
    period_end: datetime | None = None
    # `customer.subscription.updated`: what the plan keeps in step with.
    subscription: SubscriptionFacts | None = None


@dataclass(frozen=True)
class SubscriptionFacts:
    """What a `customer.subscription.updated` says about a monthly gift now."""

    amount_cents: int | None  # the item's price times its quantity
    paused: bool  # `pause_collection` set
    status: str  # Stripe's status
    cancel_at: datetime | None


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
    occurred_at = datetime.fromtimestamp(created, timezone.utc)
    if event_type.startswith(("invoice", "customer.subscription")):
        return _recurring_event(event_id, event_type, obj, occurred_at)
    fact = _fact(event_type, obj)
    if event_type.startswith("payment_intent."):
        metadata = obj.get("metadata") or {}
        return PaymentEvent(event_id, event_type, fact, str_or_id(metadata.get("donation_id")),
                            str_or_id(obj.get("id")), occurred_at,
                            str_or_id(obj.get("latest_charge")), _card_fingerprint(obj),
                            amount_cents=_int(obj.get("amount")), currency=_str(obj.get("currency")),
                            committee_id=str_or_id(metadata.get("committee_id")))
    charge_id = obj.get("id") if event_type == "charge.refunded" else obj.get("charge")
    return PaymentEvent(event_id, event_type, fact, None, str_or_id(obj.get("payment_intent")),
                        occurred_at, str_or_id(charge_id))


def _fact(event_type: str, obj: dict[str, Any]) -> Fact:
    if event_type == "payment_intent.succeeded":
        return Fact("paid")
    if event_type in ("payment_intent.payment_failed", "payment_intent.canceled"):
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


def _recurring_event(event_id: str, event_type: str, obj: dict[str, Any],
                     occurred_at: datetime) -> PaymentEvent | None:
    """Invoice events of a monthly gift. The first invoice pays the donation made at intake
    (named in the subscription's metadata); each later one is a contribution of its own."""
    if event_type == "customer.subscription.deleted":
        return PaymentEvent(event_id, event_type, Fact("failed"), None, None, occurred_at,
                            subscription_id=str_or_id(obj.get("id")))
    if event_type == "customer.subscription.updated":
        return PaymentEvent(event_id, event_type, Fact("paid"), None, None, occurred_at,
                            subscription_id=str_or_id(obj.get("id")),
                            subscription=_subscription_facts(obj))
    if event_type == "invoice_payment.paid":
        payment = obj.get("payment") or {}
        return PaymentEvent(event_id, event_type, Fact("paid"), None,
                            str_or_id(payment.get("payment_intent")), occurred_at,
                            invoice_id=str_or_id(obj.get("invoice")))
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    subscription_id = str_or_id(details.get("subscription"))
    invoice_id = str_or_id(obj.get("id"))
    if not subscription_id or not invoice_id:
        return None  # an invoice that is not a monthly gift of ours
    first = obj.get("billing_reason") == "subscription_create"
    metadata = details.get("metadata") or {}
    donation_id = (str_or_id(metadata.get("first_donation_id")) if first
                   else invoice_donation_id(invoice_id))
    if event_type == "invoice.payment_failed" and not first:
        # Stripe retries a renewal; nothing was pending on our side, but the donor is told once
        # per invoice, with a link to replace the card (GivingService.apply_event).
        return PaymentEvent(event_id, event_type, Fact("failed"), None, None, occurred_at,
                            subscription_id=subscription_id, invoice_id=invoice_id,
                            amount_cents=_int(obj.get("amount_due")), currency=_str(obj.get("currency")))
    fact = Fact("paid") if event_type == "invoice.paid" else Fact("failed")
    return PaymentEvent(event_id, event_type, fact, donation_id, None, occurred_at,
                        subscription_id=subscription_id, invoice_id=invoice_id, first_invoice=first,
                        amount_cents=_int(obj.get("amount_paid")), currency=_str(obj.get("currency")),
                        committee_id=str_or_id(metadata.get("committee_id")),
                        period_end=_period_end(obj) if event_type == "invoice.paid" else None)


def _subscription_facts(sub: dict[str, Any]) -> SubscriptionFacts:
    items = (sub.get("items") or {}).get("data") or []
    item = items[0] if items and isinstance(items[0], dict) else {}
    unit, quantity = _int((item.get("price") or {}).get("unit_amount")), _int(item.get("quantity"))
    cancel_at = _int(sub.get("cancel_at"))
    return SubscriptionFacts(
        amount_cents=unit * (quantity or 1) if unit is not None else None,
        paused=bool(sub.get("pause_collection")), status=str(sub.get("status") or ""),
        cancel_at=datetime.fromtimestamp(cancel_at, timezone.utc) if cancel_at else None)


def _period_end(invoice: dict[str, Any]) -> datetime | None:
    """When the period an invoice paid for ends: its subscription line's `period.end`."""
    lines = (invoice.get("lines") or {}).get("data") or []
    first = lines[0] if lines and isinstance(lines[0], dict) else {}
    end = _int((first.get("period") or {}).get("end"))
    return datetime.fromtimestamp(end, timezone.utc) if end else None


def not_its_payment(event: PaymentEvent, donation: Donation) -> str | None:
    """Why `event` is not about `donation`'s own payment (None when it is).

    The metadata's `donation_id` only says which donation an event claims: any PaymentIntent on
    the account can carry any metadata. A PaymentIntent event must be the donation's own intent
    for its amount in dollars of ours; a plan's invoice must be of the donation's subscription
    (and a paid one for the donation's amount). Charge events need no check: they find their
    donation through its own PaymentIntent. Our reconciler's events are built from the donation.
    """
    if event.type.startswith("payment_intent."):
        if event.payment_intent_id != donation.payment_intent_id:
            return "payment_intent"
        if event.amount_cents != donation.amount_cents:
            return "amount"
        if event.currency != CURRENCY:
            return "currency"
    elif event.type.startswith("invoice.") and donation.stored:
        if event.subscription_id != donation.subscription_id:
            return "subscription"
        if donation.invoice_id is not None and event.invoice_id != donation.invoice_id:
            return "invoice"
        if event.currency != CURRENCY:
            return "currency"
        if event.type == "invoice.paid" and event.amount_cents != donation.amount_cents:
            return "amount"
    return None


def awaits_its_payment(event: PaymentEvent, donation: Donation) -> bool:
    """Intake records the PaymentIntent (or plan) right after Stripe creates it; an event for a
    donation still pending without one may have overtaken that write: try again later."""
    if donation.status != "pending":
        return False
    if event.type.startswith("payment_intent."):
        return donation.payment_intent_id is None
    return event.type.startswith("invoice.") and donation.stored and donation.subscription_id is None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _card_fingerprint(intent: dict[str, Any]) -> str | None:
    """The declined card's fingerprint, where Stripe includes the payment method in the error."""
    method = (intent.get("last_payment_error") or {}).get("payment_method") or {}
    card = method.get("card") if isinstance(method, dict) else None
    return str_or_id((card or {}).get("fingerprint"))


def str_or_id(value: Any) -> str | None:
    """A non-empty string, or the id of an expanded Stripe object; else None."""
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) and value else None
