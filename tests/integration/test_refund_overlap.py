"""Two refunds of one gift asked for at once, at the Stripe stand-in: a lost primary's whole
refund and day 60's refund of the held excess, each queued before the other's charge.refunded
arrived. Whichever Stripe takes first, the donor gets the whole charge back once, never more,
and neither message fails."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.compliance.excess import refund_handler
from chalicelib.outbox.model import OutboxMessage
from chalicelib.payments.gateway import ALREADY_REFUNDED, StripeGateway
from tests.standin.helpers import paid_pi

pytestmark = pytest.mark.stack
NOW = datetime(2026, 7, 1, tzinfo=timezone.utc)


def gateway() -> StripeGateway:
    s = deps.settings()
    return StripeGateway(s.stripe_secret_key, s.stripe_webhook_secret, s.stripe_api_base)


def message(purpose: str, pi: Any, cents: int) -> OutboxMessage:
    return OutboxMessage(f"{purpose}#don_1", purpose, NOW, {
        "donation_id": f"don_{pi.id}", "payment_intent_id": pi.id, "amount_cents": cents})


def refunded(g: StripeGateway, pi: Any) -> tuple[int, int]:
    charge = g.client.v1.charges.retrieve(g.client.v1.payment_intents.retrieve(pi.id).latest_charge)
    return charge.amount_refunded, len(charge.refunds.data)


@pytest.mark.parametrize("first", ["forgone", "excess"])
def test_overlapping_refunds_return_the_charge_once(local_stack: dict[str, Any], first: str) -> None:
    g = gateway()
    pi = paid_pi(g.client, amount=10_000)
    forgone, excess = refund_handler(g, "forgone"), refund_handler(g, "excess")
    whole, held = message("refund_forgone", pi, 10_000), message("refund_excess", pi, 1_000)
    if first == "forgone":
        assert forgone(whole).result.startswith("re_")
        assert excess(held).result == ALREADY_REFUNDED  # nothing left: done, not failed
        assert refunded(g, pi) == (10_000, 1)
    else:
        assert excess(held).result.startswith("re_")
        assert forgone(whole).result.startswith("re_")  # the 9,000 still there
        assert refunded(g, pi) == (10_000, 2)
    for handler, m in ((forgone, whole), (excess, held)):  # each delivered again: nothing more
        handler(m)
    assert refunded(g, pi)[0] == 10_000
