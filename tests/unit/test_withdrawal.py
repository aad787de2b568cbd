"""A lost primary or a withdrawal: which elections are forgone, and the one refund of each gift
for them (what the donor still has in, none for a held or an active election)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from chalicelib.compliance.committees import Committee
from chalicelib.compliance.elections import Election
from chalicelib.compliance.excess import refund_handler
from chalicelib.compliance.withdrawal import (
    FORGONE_REFUND,
    forgone_elections,
    forgone_refund,
    newly_forgone,
)
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot

D = date.fromisoformat
NOW = datetime(2026, 6, 10, 15, tzinfo=timezone.utc)
ACTIVE = Committee("C00000001", "Rivera for Congress", "candidate", 350_000, 20_000,
                   time_zone="America/Chicago", previous_general_date=D("2024-11-05"),
                   elections=(Election("P2026", D("2026-06-02")), Election("R2026", D("2026-08-04")),
                              Election("G2026", D("2026-11-03"))))


def status(committee: Committee, value: str, day: str) -> Committee:
    return replace(committee, status=value, status_date=D(day))  # type: ignore[arg-type]


def gift(n: int, election: str, cents: int = 5_000, **state: object) -> Donation:
    donor = DonorSnapshot("Ana", "Rivera", f"ana.{n}@example.org", "1 Main St", "Springfield", "IL",
                          "62701", "Acme", "Clerk")
    return Donation(f"don_{n}", "spring", "C00000001", election, donor, donor.donor_id, NOW, "fp",
                    PaymentState(cents, paid=True, **state), payment_intent_id=f"pi_{n}")  # type: ignore[arg-type]


def test_an_active_committee_forgoes_nothing() -> None:
    assert forgone_elections(ACTIVE) == frozenset()
    assert forgone_refund(gift(1, "G2026"), ACTIVE, NOW) is None


@pytest.mark.parametrize(("value", "day", "forgone"), [
    ("lost_primary", "2026-06-03", {"R2026", "G2026"}),
    ("withdrawn", "2026-08-05", {"G2026"}),
    ("withdrawn", "2026-11-04", set()),
])
def test_elections_after_the_status_date_are_forgone(value: str, day: str, forgone: set[str]) -> None:
    assert forgone_elections(status(ACTIVE, value, day)) == forgone


def test_setting_the_same_status_again_forgoes_nothing_new() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    assert newly_forgone(ACTIVE, lost) == {"R2026", "G2026"}
    assert newly_forgone(lost, lost) == frozenset()
    assert newly_forgone(None, lost) == {"R2026", "G2026"}


def test_a_general_gift_is_refunded_in_full_once_and_a_primary_gift_is_kept() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    message = forgone_refund(gift(1, "G2026"), lost, NOW)
    assert message is not None
    assert (message.message_id, message.kind) == (f"{FORGONE_REFUND}#don_1", FORGONE_REFUND)
    assert message.payload["amount_cents"] == 5_000 and message.payload["payment_intent_id"] == "pi_1"
    assert "lost the primary" in message.payload["why"]
    assert forgone_refund(gift(2, "P2026"), lost, NOW) is None


def test_only_what_is_left_is_refunded_and_nothing_under_dispute() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    partly = forgone_refund(gift(1, "G2026", refunded_cents=2_000), lost, NOW)
    assert partly is not None and partly.payload["amount_cents"] == 3_000
    assert forgone_refund(gift(2, "G2026", refunded_cents=5_000), lost, NOW) is None
    assert forgone_refund(gift(3, "G2026", dispute="open"), lost, NOW) is None
    unpaid = replace(gift(4, "G2026"), state=PaymentState(5_000))
    assert forgone_refund(unpaid, lost, NOW) is None


class Payments:
    def __init__(self) -> None:
        self.refunds: dict[str, tuple[str, int]] = {}

    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str:
        self.refunds.setdefault(idempotency_key, (payment_intent_id, amount_cents))
        return f"re_{len(self.refunds)}"


def test_delivering_the_refund_twice_sends_one_idempotency_key() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    message = forgone_refund(gift(1, "G2026"), lost, NOW)
    assert message is not None
    payments = Payments()
    deliver = refund_handler(payments, "forgone")
    deliver(message)
    deliver(message)
    assert payments.refunds == {"groundswell-forgone-don_1": ("pi_1", 5_000)}
