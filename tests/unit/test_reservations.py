"""Reservations against the legal limit, against in-memory twins: a pending gift counts only
against the email that made it, the name-and-ZIP link joins net giving, the public refusal
gives no figure, and an unconfirmed reservation is released after RESERVATION_MINUTES."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.compliance.committees import Committee
from chalicelib.compliance.limits import OverLimit
from chalicelib.giving.model import donor_id_for
from chalicelib.giving.reconcile import Reconciler
from chalicelib.giving.service import GivingService
from tests.giving_twins import (
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    donation_request,
    page,
    paid,
)

SCOPE = "C00000001#P2026"
VICTIM, ATTACKER = "ana@example.org", "mallory@example.net"


class World:
    def __init__(self, limit_cents: int = 350_000) -> None:
        self.clock = Clock()
        self.store = MemoryDonations()
        self.payments = MemoryPayments()
        committee = Committee("C00000001", "Rivera", "candidate", limit_cents, 20_000)
        self.giving = GivingService(self.store, MemoryPages(page()), self.payments,
                                    MemoryCommittees(committee), self.clock)
        self.n = 0

    def intake(self, cents: int, email: str, **donor: str):  # type: ignore[no-untyped-def]
        self.n += 1
        request = donation_request(cents, email, f"key-{self.n:06d}", **donor)
        return self.giving.start_donation("spring", request, None).donation

    def succeed(self, cents: int, email: str, **donor: str) -> None:
        self.giving.apply_event(paid(self.giving.donation(self.intake(cents, email, **donor).donation_id)))


def test_a_stranger_using_a_persons_name_and_zip_reserves_none_of_their_limit() -> None:
    w = World()
    w.succeed(100_000, VICTIM)
    pending = w.intake(250_000, ATTACKER)  # the victim's name and ZIP, another email
    assert pending.donor_id == donor_id_for(VICTIM)  # linked: it would count for the victim
    assert w.store.aggregate(donor_id_for(VICTIM), SCOPE).reserved_cents == 0
    assert w.store.aggregate(donor_id_for(ATTACKER), SCOPE).reserved_cents == 250_000
    w.intake(250_000, VICTIM)  # the victim can still give all they may
    with pytest.raises(OverLimit):
        w.intake(100, VICTIM)


def test_the_name_and_zip_link_still_joins_net_giving() -> None:
    w = World()
    w.succeed(300_000, VICTIM)
    with pytest.raises(OverLimit):
        w.intake(60_000, ATTACKER)  # 3,000 given by the same person + 600 > 3,500
    w.intake(50_000, ATTACKER)
    with pytest.raises(OverLimit):  # the other email's own pending gift counts against it
        w.intake(100, ATTACKER)


def test_a_linked_success_adds_net_to_the_person_and_releases_the_emails_reservation() -> None:
    w = World()
    w.succeed(100_000, VICTIM)
    w.succeed(20_000, ATTACKER)
    person, other = (w.store.aggregate(donor_id_for(e), SCOPE) for e in (VICTIM, ATTACKER))
    assert (person.net_cents, person.reserved_cents) == (120_000, 0)
    assert (other.net_cents, other.reserved_cents) == (0, 0)


def test_a_linked_persons_net_changing_before_the_commit_is_read_again() -> None:
    w = World(limit_cents=100_000)
    w.succeed(50_000, VICTIM)

    def victim_gives_meanwhile() -> None:
        w.store.aggregates[(donor_id_for(VICTIM), SCOPE)].net_cents += 40_000

    w.store.before_commit = victim_gives_meanwhile
    with pytest.raises(OverLimit):  # read again: 90,000 + 20,000 > 100,000
        w.intake(20_000, ATTACKER)
    assert w.store.aggregate(donor_id_for(ATTACKER), SCOPE).reserved_cents == 0


def test_the_refusal_gives_no_figure() -> None:
    w = World()
    w.succeed(100_000, VICTIM)
    with pytest.raises(OverLimit) as err:
        w.intake(300_000, ATTACKER)
    assert err.value.code == "over_limit" and err.value.extra == {}
    assert not re.search(r"\d", err.value.message)


def test_an_unconfirmed_reservation_is_released_after_reservation_minutes() -> None:
    w = World()
    w.intake(250_000, VICTIM)
    reconciler = Reconciler(w.giving, w.store, w.payments, w.clock,
                            stale_after=timedelta(minutes=15), expire_after=timedelta(minutes=30))
    w.clock.advance(minutes=29)
    assert reconciler.run().settled == {"waiting": 1}
    assert w.store.aggregate(donor_id_for(VICTIM), SCOPE).reserved_cents == 250_000
    w.clock.advance(minutes=1)
    assert reconciler.run().settled == {"canceled": 1}
    assert w.payments.cancelled == ["pi_1"]
    assert w.store.aggregate(donor_id_for(VICTIM), SCOPE).reserved_cents == 0
    assert reconciler.run().checked == 0


def test_a_reservation_shorter_than_the_staleness_wait_still_expires_on_time() -> None:
    w = World()
    w.intake(1_000, VICTIM)
    reconciler = Reconciler(w.giving, w.store, w.payments, w.clock,
                            stale_after=timedelta(minutes=15), expire_after=timedelta(minutes=5))
    w.clock.advance(minutes=5)
    assert reconciler.run().settled == {"canceled": 1}
