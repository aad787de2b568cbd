"""Checks, cash and wires finance enters (giving/service.py `record_offline`), against the
in-memory twins: one commit with no Stripe call, the limit and the cash rules, idempotency."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.compliance.limits import OverLimit
from chalicelib.compliance.offline import AnonymousCashOverLimit, CashOverLimit, received_at
from chalicelib.errors import Conflict
from chalicelib.giving.offline import OfflineContribution
from tests.giving_twins import ATTESTATIONS, GivingWorld, donation_request, donor_fields


def entry(cents: int, method: str = "check", key: str = "offline-key-1",
          email: str | None = "ana@example.org", **more: Any) -> OfflineContribution:
    body: dict[str, Any] = {"committee_id": "C00000001", "method": method, "amount_cents": cents,
                            "received_on": "2026-03-02", "election": "P2026",
                            "idempotency_key": key, "attestations": ATTESTATIONS, **more}
    if email is not None:
        body["donor"] = donor_fields(email)
    return OfflineContribution.model_validate(body)


def test_a_check_is_recorded_succeeded_at_once_without_a_payment_call() -> None:
    world = GivingWorld()
    d = world.giving.record_offline(entry(25_000, reference="1042", deposit_batch="dep-7"))
    assert d.status == "succeeded" and d.channel == "check" and d.reference == "1042"
    assert d.election == "P2026" and world.payments.charges == []
    assert world.store.aggregate(d.donor_id, "C00000001#P2026").net_cents == 25_000
    # The local date's start in the committee's zone (New York), stored in UTC.
    assert d.created_at == datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc)


def test_the_same_key_answers_the_same_donation_and_counts_once() -> None:
    world = GivingWorld()
    first = world.giving.record_offline(entry(10_000))
    again = world.giving.record_offline(entry(10_000))
    assert again.donation_id == first.donation_id
    assert world.store.aggregate(first.donor_id, "C00000001#P2026").net_cents == 10_000
    with pytest.raises(Conflict):
        world.giving.record_offline(entry(10_001))


def test_a_check_counts_against_the_limit_of_a_later_online_gift() -> None:
    world = GivingWorld()
    world.giving.record_offline(entry(349_000))
    with pytest.raises(OverLimit):
        world.giving.start_donation("spring", donation_request(2_000, "ana@example.org", "online-key-1"))


def test_over_the_limit_nothing_is_written() -> None:
    world = GivingWorld()
    with pytest.raises(OverLimit):
        world.giving.record_offline(entry(350_001))
    assert world.store.donations == {}


def test_cash_over_100_per_person_per_election_is_refused() -> None:
    world = GivingWorld()
    d = world.giving.record_offline(entry(6_000, "cash", "cash-key-1"))
    with pytest.raises(CashOverLimit) as refused:
        world.giving.record_offline(entry(4_001, "cash", "cash-key-2"))
    assert "110.4" in str(refused.value.extra["rule"])
    assert set(world.store.donations) == {d.donation_id}
    world.giving.record_offline(entry(4_000, "cash", "cash-key-3"))  # exactly $100 in all
    world.giving.record_offline(entry(50_000, "check", "check-key-4"))  # checks do not count


def test_anonymous_cash_over_50_is_refused() -> None:
    world = GivingWorld()
    with pytest.raises(AnonymousCashOverLimit):
        world.giving.record_offline(entry(5_001, "cash", email=None))
    assert world.store.donations == {}


def test_received_on_is_the_committees_local_day() -> None:
    assert received_at(datetime(2026, 7, 4).date(), "America/Los_Angeles") == \
        datetime(2026, 7, 4, 7, 0, tzinfo=timezone.utc)


def test_an_in_kind_gift_says_what_was_given() -> None:
    world = GivingWorld()
    d = world.giving.record_offline(entry(30_000, "in_kind", in_kind_description="Printing"))
    assert (d.channel, d.in_kind_description, d.status) == ("in_kind", "Printing", "succeeded")
    with pytest.raises(ValueError, match="in_kind_description"):
        entry(30_000, "in_kind", "in-kind-key-2")
    with pytest.raises(ValueError, match="in_kind_description"):
        entry(30_000, "check", "check-key-2", in_kind_description="Printing")


def test_a_conduit_gift_keeps_who_forwarded_it_and_counts_like_a_check() -> None:
    world = GivingWorld()
    conduit = {"name": "ActBlue", "fec_id": "C00401224",
               "address": {"line1": "PO Box 441146", "city": "Somerville", "state": "MA",
                           "zip": "02144"}}
    d = world.giving.record_offline(entry(25_000, "conduit", conduit=conduit))
    assert d.channel == "conduit" and d.conduit is not None
    assert (d.conduit.name, d.conduit.fec_id, d.conduit.zip) == ("ActBlue", "C00401224", "02144")
    assert world.store.aggregate(d.donor_id, "C00000001#P2026").net_cents == 25_000


@pytest.mark.parametrize("method, conduit", [("conduit", None), ("check", {
    "name": "ActBlue", "address": {"line1": "1 Way", "city": "Austin", "state": "TX", "zip": "78701"}})])
def test_a_conduit_is_required_for_the_conduit_method_and_only_for_it(method: str, conduit: Any) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="conduit is required"):
        entry(25_000, method, **({"conduit": conduit} if conduit else {}))
