"""Stripe's rate limit at intake (issue 18), against in-memory twins: a 429 leaves nothing
written (no donation, no reservation, an express link still unused) and the same request a
moment later gives once."""

from __future__ import annotations

import pytest

from chalicelib.errors import ProviderBusy
from chalicelib.giving.model import donor_id_for
from tests.giving_twins import donation_request
from tests.unit.test_express import World as ExpressWorld
from tests.unit.test_reservations import World

SCOPE = "C00000001#P2026"


def test_a_busy_stripe_leaves_no_donation_and_no_reservation_and_the_retry_gives_once() -> None:
    w = World()
    giving, store, payments = w.giving, w.store, w.payments
    request = donation_request(2_700, "ana@example.org", "busy-key-1")
    payments.busy = 1
    with pytest.raises(ProviderBusy) as busy:
        giving.start_donation("spring", request, None)
    assert (busy.value.code, busy.value.kind, busy.value.extra["retry_after"]) == (
        "payment_provider_busy", "unavailable", 2)
    assert store.donations == {} and store.aggregates == {}  # the first gift left no trace
    again = giving.start_donation("spring", request, None)
    assert [c.donation_id for c in payments.charges] == [again.donation.donation_id]
    assert store.aggregate(donor_id_for("ana@example.org"), SCOPE).reserved_cents == 2_700


def test_a_returning_donors_aggregate_goes_back_to_what_it_was() -> None:
    w = World()
    store, payments = w.store, w.payments
    w.succeed(5_000, "ana@example.org")
    before = store.aggregate(donor_id_for("ana@example.org"), SCOPE)
    before_fields = (before.net_cents, before.reserved_cents, before.contributions)
    payments.busy = 1
    with pytest.raises(ProviderBusy):
        w.intake(2_700, "ana@example.org")
    after = store.aggregate(donor_id_for("ana@example.org"), SCOPE)
    assert (after.net_cents, after.reserved_cents, after.contributions) == before_fields == (5_000, 0, 1)
    assert len(store.donations) == 1


def test_a_busy_express_charge_leaves_the_link_unused_and_the_days_count_unchanged() -> None:
    w = ExpressWorld()
    token = w.link()
    request = w.request(token, key="express-busy")
    w.payments.busy = 1
    with pytest.raises(ProviderBusy):
        w.express.give(request, None)
    assert w.store.donations == {} and w.store.used_links == {}
    assert w.store.donors["dnr_ana"].charges == ()
    given = w.express.give(request, None)
    assert [c.donation_id for c in w.payments.charges] == [given.donation.donation_id]


def test_a_busy_stripe_takes_the_addresss_velocity_counts_back() -> None:
    from tests.giving_twins import GivingWorld

    w = GivingWorld()
    w.intake("198.51.100.4")
    counted = dict(w.velocity.hits)
    w.payments.busy = 1
    with pytest.raises(ProviderBusy):
        w.intake("198.51.100.4")
    with pytest.raises(ProviderBusy):
        w.payments.busy = 1
        w.intake("198.51.100.5")
    assert w.velocity.hits == counted  # the returning address as it was, the new one absent
