"""Only real elections: the server designates each gift from the committee's calendar, in its
time zone; a donor chooses only among open elections the page offers; a held election takes
gifts only toward its net debt; renewals are designated again when each invoice is paid."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

import pytest

from chalicelib.compliance.committees import Committee, ElectionNotOpen, OverNetDebt
from chalicelib.compliance.elections import Election
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Fact
from chalicelib.giving.model import RecurringPlan
from chalicelib.giving.service import GivingService
from tests.giving_twins import (
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    donation_request,
    page,
)

HOUSE = Committee("C00000001", "Rivera for Congress", "candidate", 350_000, 20_000,
                  time_zone="America/Chicago", previous_general_date=date(2024, 11, 5),
                  elections=(Election("P2026", date(2026, 6, 2), net_debt_cents=50_000),
                             Election("G2026", date(2026, 11, 3))))
BOTH = ("P2026", "G2026")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(("when", "requested", "cents", "offered", "expected"), [
    ("2026-05-01T12:00", None, 2_700, BOTH, "P2026"),  # the page's election while it is ahead
    ("2026-05-01T12:00", "G2026", 2_700, BOTH, "G2026"),  # a donor's choice among open ones
    ("2026-06-03T04:30", None, 2_700, BOTH, "P2026"),  # 23:30 on primary day in Chicago
    ("2026-06-03T12:00", None, 2_700, BOTH, "G2026"),  # after it: the next election
    ("2026-06-03T12:00", "P2026", 50_000, BOTH, "P2026"),  # toward the primary's net debt
    ("2026-06-03T12:00", "P2026", 50_001, BOTH, OverNetDebt),
    ("2026-05-01T12:00", "G2026", 2_700, ("P2026",), ElectionNotOpen),  # the page does not offer it
    ("2026-05-01T12:00", "P1999", 2_700, BOTH, ElectionNotOpen),
    ("2026-05-01T12:00", "G2030", 2_700, BOTH, ElectionNotOpen),
    ("2026-05-01T12:00", "E9999", 2_700, BOTH, ElectionNotOpen),
    ("2026-11-04T12:00", "G2026", 2_700, BOTH, OverNetDebt),  # held, and no debt left
    ("2026-11-04T12:00", None, 2_700, BOTH, ElectionNotOpen),  # nothing on the calendar is ahead
])
def test_designation(when: str, requested: str | None, cents: int, offered: tuple[str, ...],
                     expected: str | type[Exception]) -> None:
    if isinstance(expected, str):
        assert HOUSE.designate(at(when), requested, "P2026", offered, cents) == expected
    else:
        with pytest.raises(expected):
            HOUSE.designate(at(when), requested, "P2026", offered, cents)


def test_the_refusal_names_the_elections_still_open_on_the_page() -> None:
    with pytest.raises(ElectionNotOpen) as refused:
        HOUSE.designate(at("2026-06-03T12:00"), "G2030", "P2026", BOTH, 2_700)
    assert (refused.value.code, refused.value.kind) == ("election_not_open", "invalid")
    assert refused.value.extra["open_elections"] == ["G2026"]


def test_a_committee_without_a_calendar_takes_only_the_pages_election() -> None:
    bare = Committee("C00000001", "Rivera", "candidate", 350_000, 20_000)
    assert bare.designate(at("2026-05-01T12:00"), None, "P2026", ("P2026",), 100) == "P2026"
    assert bare.designate(at("2026-05-01T12:00"), "P2026", "P2026", ("P2026",), 100) == "P2026"
    with pytest.raises(ElectionNotOpen):
        bare.designate(at("2026-05-01T12:00"), "G2026", "P2026", ("P2026",), 100)


class World:
    def __init__(self, when: str) -> None:
        self.clock = Clock(at(when))
        self.store = MemoryDonations()
        self.payments = MemoryPayments()
        self.giving = GivingService(self.store, MemoryPages(page(election="P2026")), self.payments,
                                    MemoryCommittees(HOUSE), self.clock)


@pytest.mark.parametrize("code", ["P1999", "G2030", "E9999"])
def test_intake_refuses_an_election_that_is_not_open_and_writes_nothing(code: str) -> None:
    w = World("2026-05-01T12:00")
    with pytest.raises(ElectionNotOpen):
        w.giving.start_donation("spring", donation_request(2_700, "ana@example.org", "key-00001", code))
    assert (w.store.donations, w.store.aggregates, w.payments.intents) == ({}, {}, {})


def test_an_undesignated_gift_after_the_primary_counts_toward_the_general() -> None:
    w = World("2026-06-10T12:00")
    started = w.giving.start_donation("spring", donation_request(2_700, "ana@example.org", "key-00001"))
    assert started.donation.election == "G2026"
    assert started.donation.limit_scope == "C00000001#G2026"


def renewal(invoice: str, when: str) -> PaymentEvent:
    return PaymentEvent(f"evt_{invoice}", "invoice.paid", Fact("paid"), None, f"pi_{invoice}", at(when),
                        subscription_id="sub_1", invoice_id=invoice, amount_cents=2_500,
                        committee_id="C00000001", currency="usd")


def test_each_renewal_is_designated_when_its_invoice_is_paid() -> None:
    w = World("2026-05-01T12:00")
    request = donation_request(2_500, "ana@example.org", "key-00001")
    first = w.giving.start_donation("spring", request).donation
    w.store.save_plan(RecurringPlan("sub_1", first.donation_id, first.donor_id, first.donor, "spring",
                                    "C00000001", first.election, 2_500, "cus_1", "active",
                                    first.created_at))
    for invoice, when in [("in_may", "2026-06-01T12:00"), ("in_primary_night", "2026-06-03T04:00"),
                          ("in_june", "2026-06-30T12:00")]:
        w.giving.apply_event(renewal(invoice, when))
    elections = {d.invoice_id: (d.election, d.limit_scope) for d in w.store.donations.values()
                 if d.invoice_id}
    assert elections == {"in_may": ("P2026", "C00000001#P2026"),
                         "in_primary_night": ("P2026", "C00000001#P2026"),  # still June 2 locally
                         "in_june": ("G2026", "C00000001#G2026")}
    assert w.store.aggregate(first.donor_id, "C00000001#G2026").net_cents == 2_500


@pytest.mark.parametrize("status", ["lost_primary", "withdrawn"])
def test_after_a_lost_primary_or_a_withdrawal_no_later_election_takes_gifts(status: str) -> None:
    lost = replace(HOUSE, status=status, status_date=date(2026, 6, 3))  # type: ignore[arg-type]
    assert lost.designate(at("2026-06-03T04:30"), None, "P2026", BOTH, 100) == "P2026"  # June 2 there
    for requested in (None, "G2026"):
        with pytest.raises(ElectionNotOpen):
            lost.designate(at("2026-06-10T12:00"), requested, "G2026", BOTH, 2_700)
    # The primary's debts may still be retired.
    assert lost.designate(at("2026-06-10T12:00"), "P2026", "G2026", BOTH, 50_000) == "P2026"


def test_gifts_toward_a_held_elections_debts_are_summed_against_them() -> None:
    from chalicelib.giving.events import PaymentEvent as Event
    from tests.giving_twins import paid

    w = World("2026-06-10T12:00")  # the primary is held, with $500 of debts
    debt = ("debt#C00000001", "P2026")

    def give(cents: int, n: int) -> Any:
        request = donation_request(cents, f"d{n}@example.org", f"key-debt-{n:04d}", "P2026",
                                   first=f"D{n}", last="Doe", zip_=f"6070{n}")
        return w.giving.start_donation("spring", request).donation

    first = give(30_000, 1)
    assert first.toward_debt and w.store.aggregate(*debt).exposure_cents == 30_000
    with pytest.raises(OverNetDebt):  # $300 pending + $300 > $500: nothing written
        give(30_000, 2)
    assert w.store.aggregate(*debt).exposure_cents == 30_000
    give(20_000, 3)  # exactly to the debts
    # A failure gives its room back; a success keeps it; a refund gives it back again.
    w.giving.apply_event(Event("evt_f", "payment_intent.payment_failed", Fact("failed"), first.donation_id,
                               first.payment_intent_id, w.clock.now, amount_cents=30_000, currency="usd"))
    assert w.store.aggregate(*debt).exposure_cents == 20_000
    fourth = give(30_000, 4)
    w.giving.apply_event(paid(w.giving.donation(fourth.donation_id)))
    assert (w.store.aggregate(*debt).net_cents, w.store.aggregate(*debt).exposure_cents) == (30_000, 50_000)
    w.giving.apply_event(Event("evt_r", "charge.refunded", Fact("refunded", refunded_cents=30_000), None,
                               fourth.payment_intent_id, w.clock.now))
    assert w.store.aggregate(*debt).exposure_cents == 20_000
    # A gift to an election still ahead touches no debt counter.
    ahead = w.giving.start_donation("spring", donation_request(2_700, "e@example.org", "key-ahead-0001"))
    assert not ahead.donation.toward_debt
