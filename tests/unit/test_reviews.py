"""Signals of prohibited money against in-memory twins: which cards are foreign, one card by
two names in one cycle, and decisions (accept, refund once through the outbox, never twice)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.compliance.committees import CommitteeDefaults, default_committee
from chalicelib.compliance.reviews import CardCheck, ReviewService, card_signals, holder_digest
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from tests.giving_twins import T0, MemoryCommittees, MemoryDonations


def check(n: int, country: str | None = "US", fingerprint: str | None = "fpA") -> CardCheck:
    return CardCheck(f"evt_{n}", "charge.succeeded", f"pi_{n}", f"ch_{n}", country, fingerprint, T0)


def gift(n: int, first: str = "Ana", last: str = "Rivera", cents: int = 5_000) -> Donation:
    donor = DonorSnapshot(first, last, f"{first}.{n}@example.org", "1 Main St", "Springfield", "IL",
                          "62701", "Acme", "Clerk")
    return Donation(f"don_{n}", "spring", "C00000001", "P2026", donor, donor.donor_id, T0, "fp",
                    PaymentState(cents, paid=True), payment_intent_id=f"pi_{n}")


def service(*gifts: Donation) -> tuple[ReviewService, MemoryDonations]:
    store = MemoryDonations()
    for g in gifts:
        store.donations[g.donation_id] = g
    committees = MemoryCommittees(default_committee("C00000001", CommitteeDefaults()))
    return ReviewService(store, committees, lambda: T0), store


@pytest.mark.parametrize(("country", "flagged"), [("US", False), ("PR", False), ("GU", False),
                                                  ("CA", True), ("MX", True), ("GB", True), (None, False)])
def test_a_card_from_outside_the_us_is_a_signal(country: str | None, flagged: bool) -> None:
    assert bool(card_signals(check(1, country))) is flagged


def test_names_are_compared_as_people_write_them() -> None:
    assert holder_digest(gift(1, "José", "Núñez").donor) == holder_digest(gift(2, "jose", "NUNEZ").donor)
    assert holder_digest(gift(1, "Ana").donor) != holder_digest(gift(2, "Bo").donor)


def test_screening_queues_only_signalled_gifts_once() -> None:
    reviews, _ = service(gift(1), gift(2), gift(3, "Bo", "Chen"), gift(4))
    assert reviews.screen(check(1, "CA", "fpX")) == "applied"
    assert reviews.screen(check(1, "CA", "fpX")) == "duplicate"
    assert reviews.screen(check(2)) == "applied"  # first holder of fpA
    assert reviews.screen(check(3)) == "applied"  # another name on fpA
    assert reviews.screen(check(4)) == "applied"  # the first holder again
    stranger = CardCheck("evt_9", "charge.succeeded", "pi_other", "ch_9", "CA", None, T0)
    assert reviews.screen(stranger) == "unmatched"
    queued = {d.donation_id: d.review_signals for d in reviews.queue(10).items}
    assert queued == {"don_1": [{"signal": "foreign_card", "card_country": "CA"}],
                      "don_3": [{"signal": "shared_card", "other_donation_id": "don_2"}]}


def test_another_cycle_starts_the_card_afresh() -> None:
    later = replace(gift(3, "Bo", "Chen"), created_at=datetime(2027, 3, 1, tzinfo=timezone.utc))
    reviews, _ = service(gift(2), later)
    reviews.screen(check(2))
    reviews.screen(check(3))
    assert reviews.queue(10).items == []


def test_a_refund_decision_queues_one_refund_of_what_is_left_and_closes_the_review() -> None:
    partly = replace(gift(1, cents=7_500), state=PaymentState(7_500, paid=True, refunded_cents=2_500))
    reviews, store = service(partly, gift(2))
    reviews.screen(check(1, "MX"))
    reviews.screen(check(2, "MX", "fpB"))
    assert reviews.decide("don_1", "refund", "Dana").review_status == "refunded"
    ((message),) = store.outbox
    assert (message.kind, message.payload["amount_cents"]) == ("refund_review", 5_000)
    with pytest.raises(Conflict):
        reviews.decide("don_1", "refund", "Dana")
    assert len(store.outbox) == 1
    assert reviews.decide("don_2", "accept", "Dana").review_status == "accepted"
    assert reviews.queue(10).items == [] and len(store.outbox) == 1


def test_bad_decisions_change_nothing() -> None:
    failed = replace(gift(1), state=PaymentState(5_000, failed=True))
    reviews, store = service(failed, gift(2))
    reviews.screen(check(1, "BR"))
    with pytest.raises(InvalidInput):
        reviews.decide("don_1", "maybe", "Dana")
    with pytest.raises(Conflict):  # nothing was paid: nothing to refund
        reviews.decide("don_1", "refund", "Dana")
    with pytest.raises(NotFound):  # not under review
        reviews.decide("don_2", "accept", "Dana")
    assert [d.donation_id for d in reviews.queue(10).items] == ["don_1"] and store.outbox == []


def test_a_refusal_for_attestations_carries_a_note_that_names_them() -> None:
    from chalicelib.compliance.reviews import attestation_signals, refusal_note
    from chalicelib.tokens import Tokens

    tokens = Tokens("unit-test-secret-0123456789", lambda: T0)
    assert refusal_note(tokens, {"donor.email": "invalid"}) is None
    note = refusal_note(tokens, {"attestations.own_funds": "x", "attestations.personal_card": "x",
                                 "donor.zip": "x"})
    assert note is not None
    assert attestation_signals(tokens, note) == [{"signal": "attestations_changed",
                                                  "refused": "own_funds+personal_card"}]
    assert attestation_signals(tokens, note + "x")[0]["refused"] == "unknown"
    assert attestation_signals(tokens, None) == []
    later = Tokens("unit-test-secret-0123456789", lambda: T0.replace(day=3))
    assert attestation_signals(later, note)[0]["refused"] == "unknown"  # a day later: expired


def test_an_intake_signal_creates_the_donation_in_review() -> None:
    from chalicelib.giving.service import GivingService
    from tests.giving_twins import MemoryPages, MemoryPayments, donation_request, page

    store = MemoryDonations()
    giving = GivingService(store, MemoryPages(page()), MemoryPayments(),
                           MemoryCommittees(default_committee("C00000001", CommitteeDefaults())),
                           clock=lambda: T0)
    signal = {"signal": "attestations_changed", "refused": "own_funds"}
    started = giving.start_donation("spring", donation_request(2_700, "ana@example.org", "key-00001"),
                                    review_signals=[signal])
    stored = store.donations[started.donation.donation_id]
    assert (stored.review_status, stored.review_signals) == ("open", [signal])
    plain = giving.start_donation("spring", donation_request(2_700, "bo@example.org", "key-00002"))
    assert store.donations[plain.donation.donation_id].review_status is None


def charge_event(wallet: object) -> dict:
    card = {"country": "US", "fingerprint": "fpW", "wallet": wallet}
    return {"id": "evt_w", "type": "charge.succeeded", "created": int(T0.timestamp()),
            "data": {"object": {"id": "ch_w", "payment_intent": "pi_w",
                                "payment_method_details": {"card": card}}}}


@pytest.mark.parametrize(("wallet", "expected"), [
    ({"type": "apple_pay", "apple_pay": {}, "dynamic_last4": "4242"}, "apple_pay"),
    ({"type": "google_pay", "google_pay": {}}, "google_pay"),
    (None, None), ({"type": "<script>"}, None), ("apple_pay", None)])
def test_the_wallet_is_read_as_stripe_names_it(wallet: object, expected: str | None) -> None:
    from chalicelib.compliance.reviews import read_card_check

    found = read_card_check(charge_event(wallet))
    assert found is not None and found.wallet == expected and found.fingerprint == "fpW"


def test_a_wallet_is_recorded_on_the_donation_and_moves_its_version() -> None:
    reviews, store = service(gift(1))
    assert reviews.screen(replace(check(1), wallet="apple_pay")) == "applied"
    assert (store.donations["don_1"].card_wallet, store.donations["don_1"].version) == ("apple_pay", 1)
