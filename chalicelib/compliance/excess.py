"""Refunding the part of a contribution over the legal limit (an outbox message's handler)."""

from __future__ import annotations

from typing import Protocol

from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure


class Refunds(Protocol):
    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str: ...


def excess_refund_handler(payments: Refunds):  # type: ignore[no-untyped-def]
    """The handler for `refund_excess` messages: one Stripe refund per donation, idempotently
    (the Stripe idempotency key is derived from the donation id, so a retried or re-claimed
    message cannot refund twice). Its `charge.refunded` webhook then lowers the aggregates."""

    def refund_excess(message: OutboxMessage) -> Delivered:
        payload = message.payload
        if not payload.get("payment_intent_id") or int(payload.get("amount_cents", 0)) <= 0:
            raise PermanentFailure("nothing to refund")
        refund_id = payments.refund(
            payment_intent_id=payload["payment_intent_id"], amount_cents=int(payload["amount_cents"]),
            reason=str(payload.get("reason", "over_limit")),
            idempotency_key=f"groundswell-excess-{payload['donation_id']}",
        )
        return Delivered(refund_id)

    return refund_excess
