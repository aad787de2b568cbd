"""The giving service decides what a commit writes and storage only writes it: the limit's
ceiling (one function), the A/B conversion, the decline counters and the best-efforts flag."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from chalicelib.compliance.limits import Ceiling, ceiling
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Fact
from chalicelib.giving.service import CommitCounters, GivingService, Reservation
from chalicelib.giving.velocity import VelocityLimits, pending_key
from tests.giving_twins import (
    T0,
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    donation_request,
    page,
    paid,
)


@pytest.mark.parametrize(("limit", "adding", "elsewhere", "counted", "fits"), [
    (350_000, 100_000, 0, 250_000, True),  # exactly to the limit
    (350_000, 100_000, 0, 250_001, False),
    (350_000, 100_000, 200_000, 50_000, True),  # a linked person's net counts too
    (350_000, 100_000, 200_000, 50_001, False),
    (9_000, 10_000, 0, 0, False),  # more than the limit on its own: even a first gift fails
])
def test_the_ceiling_is_the_limit_less_what_is_added_and_counted_elsewhere(
        limit: int, adding: int, elsewhere: int, counted: int, fits: bool) -> None:
    top = ceiling(limit, adding, elsewhere)
    assert top.allows(counted) is fits
    assert top.allows_none_yet is (adding + elsewhere <= limit)
    r = Reservation("dnr_a", "dnr_b", "C1#P2026", adding, limit, elsewhere)
    assert r.exposure_ceiling == top and r.person_unchanged == Ceiling(elsewhere)


class Guard:
    limits = VelocityLimits()

    def card_counts(self, fingerprint: str, now: datetime) -> dict[str, int]:
        return {}


def world() -> tuple[GivingService, MemoryDonations]:
    store = MemoryDonations()
    giving = GivingService(store, MemoryPages(page()), MemoryPayments(), MemoryCommittees(),
                           Clock(), velocity=Guard())
    return giving, store


def start(giving: GivingService, key: str, **changes: Any) -> Any:
    request = donation_request(2_700, f"{key}@example.org", f"key-{key}-0001")
    request = request.model_copy(update=changes)
    return giving.start_donation("spring", request, "203.0.113.9").donation


def test_a_success_converts_its_variant_and_a_repeat_of_the_same_state_does_not() -> None:
    giving, store = world()
    donation = start(giving, "ana", variant_id="b")
    giving.apply_event(paid(giving.donation(donation.donation_id), "evt_1"))
    # Leaving `pending` is one pending donation fewer from its address (PENDING_PER_IP).
    assert store.counters["evt_1"] == CommitCounters("b", (), pending_key("203.0.113.9", donation.created_at))
    # A second success event for a paid donation changes no totals: no conversion.
    giving.apply_event(paid(giving.donation(donation.donation_id), "evt_2"))
    assert store.counters["evt_2"] == CommitCounters(None, ())


def test_a_decline_counts_on_the_ip_email_and_card_counters() -> None:
    giving, store = world()
    donation = giving.donation(start(giving, "ben").donation_id)
    failed = PaymentEvent("evt_f", "payment_intent.payment_failed", Fact("failed"), donation.donation_id,
                          donation.payment_intent_id, T0, card_fingerprint="fp_1",
                          amount_cents=donation.amount_cents, currency="usd")
    giving.apply_event(failed)
    keys = store.counters["evt_f"].decline_keys
    assert [k.split("#")[1] for k in keys] == ["ip", "email", "card"]
    assert store.counters["evt_f"].variant_id is None


def test_the_best_efforts_flag_is_decided_at_intake() -> None:
    giving, store = world()
    flagged = start(giving, "cy", donor=replace_employer("N/A"))
    answered = start(giving, "di")
    assert store.donations[flagged.donation_id].best_efforts_flag is True
    assert store.donations[answered.donation_id].best_efforts_flag is False


def replace_employer(employer: str) -> Any:
    request = donation_request(2_700, "cy@example.org", "key-cy-0001")
    return request.donor.model_copy(update={"employer": employer})

