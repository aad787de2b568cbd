"""Refunding the part of a contribution over the legal limit (an outbox message's handler)."""

from __future__ import annotations

from typing import Protocol

from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure


class Refunds(Protocol):
    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str: ...


def refund_handler(payments: Refunds, purpose: str = "excess"):  # type: ignore[no-untyped-def]
    """The handler for a refund message (`refund_excess`, `refund_review`): one Stripe refund
    per donation and purpose, idempotently (the Stripe idempotency key is derived from the
    purpose and the donation id, so a retried or re-claimed message cannot refund twice). Its
    `charge.refunded` webhook then lowers the aggregates."""

    def refund(message: OutboxMessage) -> Delivered:
        payload = message.payload
        if not payload.get("payment_intent_id") or int(payload.get("amount_cents", 0)) <= 0:
            raise PermanentFailure("nothing to refund")
        refund_id = payments.refund(
            payment_intent_id=payload["payment_intent_id"], amount_cents=int(payload["amount_cents"]),
            reason=str(payload.get("reason", "over_limit")),
            idempotency_key=f"groundswell-{purpose}-{payload['donation_id']}",
        )
        return Delivered(refund_id)

    return refund


def excess_refund_handler(payments: Refunds):  # type: ignore[no-untyped-def]
    """`refund_excess`: the part of a contribution over the legal limit."""
    return refund_handler(payments, "excess")
