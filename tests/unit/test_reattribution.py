"""Reattribution of a held excess, against the in-memory twins: the donor names the other card
holder and an amount; nothing moves until that person confirms with their own details; then the
amount leaves the donor's aggregate and joins theirs, within their limit, once; money that
leaves the gift later comes off the donor's own part first; what is not reattributed by day 60
is refunded by the daily job."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib import tokens as purposes
from chalicelib.compliance.limits import OverLimit
from chalicelib.compliance.reattribution import (
    REATTRIBUTION_REQUEST,
    OtherHolder,
    Reattributions,
    read_confirmation,
    read_request,
)
from chalicelib.errors import Conflict, DomainError, InvalidInput
from chalicelib.giving.ledger import Fact
from chalicelib.giving.model import Donation, donor_id_for, identity_keys
from tests.unit.test_remedies import CALENDAR, P, World

BEN = "ben@example.org"
BEN_FORM = {"first_name": "Ben", "last_name": "Rivera", "email": BEN, "line1": "1 Main St",
            "city": "Springfield", "state": "IL", "zip": "62701", "employer": "City Library",
            "occupation": "Librarian", "us_citizen_or_permanent_resident": "on", "own_funds": "on",
            "not_federal_contractor": "on", "personal_card": "on"}


class Joint(World):
    def __init__(self) -> None:
        super().__init__()
        self.reattributions = Reattributions(self.store, self.committees, self.tokens, self.clock)

    def held(self) -> Donation:
        """A primary gift 1,000 over the limit with no room in the general: all of it held."""
        self.succeed(self.intake(10_000, "G2026"))
        return self.excessive()

    def links(self, d: Donation) -> tuple[str, str]:
        return (self.tokens.issue(purposes.REATTRIBUTION, d.donation_id),
                self.tokens.issue(purposes.REATTRIBUTION_CONFIRM, d.donation_id))

    def asked(self, cents: int) -> tuple[Donation, str]:
        """A held gift whose donor named Ben for `cents`; Ben's confirmation link."""
        d = self.held()
        ask, confirm = self.links(d)
        self.reattributions.request(ask, OtherHolder("Ben", "Rivera", BEN), cents)
        return d, confirm

    def ben(self) -> int:
        return self.store.aggregate(donor_id_for(BEN), P).net_cents


def test_nothing_moves_until_both_confirm_and_then_it_moves_once() -> None:
    w = Joint()
    d = w.held()
    ask, confirm = w.links(d)
    assert w.reattributions.show(ask).excess_held_cents == 1_000  # opening changes nothing
    for _ in range(2):  # posted twice: one request, one email to Ben
        d = w.reattributions.request(ask, OtherHolder("Ben", "Rivera", BEN), 600)
    assert (d.reattribution_status, d.reattribution_cents) == ("requested", 600)
    assert [m.payload["email"] for m in w.store.outbox if m.kind == REATTRIBUTION_REQUEST] == [BEN]
    assert (w.net(P), w.ben()) == (10_000, 0)  # nothing moved yet
    assert w.reattributions.show_confirmation(confirm).reattribution_status == "requested"
    person, attestations = read_confirmation(BEN_FORM)
    for _ in range(2):  # confirmed twice: moved once
        d = w.reattributions.confirm(confirm, person, attestations)
    assert (d.reattribution_status, d.excess_held_cents) == ("confirmed", 400)
    assert d.reattributed_on == date(2026, 5, 20)
    assert d.reattributed_to is not None and d.reattributed_to.employer == "City Library"
    assert (w.net(P), w.ben()) == (9_400, 600)
    w.clock.advance(days=60)  # what is still held is refunded at day 60
    assert w.day_sixty.run() == 1
    refund = next(m for m in w.store.outbox if m.kind == "refund_excess")
    assert refund.payload["amount_cents"] == 400
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=400))
    assert (w.net(P), w.ben()) == (9_000, 600)


def test_the_other_persons_limit_is_checked_and_nothing_written_past_it() -> None:
    w = Joint()
    d, confirm = w.asked(1_000)
    w.store.aggregates[(donor_id_for(BEN), P)] = type(w.store.aggregate(d.donor_id, P))(net_cents=8_500)
    with pytest.raises(OverLimit):  # 8,500 + 1,000 > the 9,000 limit
        w.reattributions.confirm(confirm, *read_confirmation(BEN_FORM))
    assert w.giving.donation(d.donation_id).reattribution_status == "requested"
    assert (w.net(P), w.ben()) == (10_000, 8_500)


def test_a_refund_after_a_reattribution_comes_off_the_donors_own_part_first() -> None:
    w = Joint()
    d, confirm = w.asked(1_000)
    w.reattributions.confirm(confirm, *read_confirmation(BEN_FORM))
    assert (w.net(P), w.ben()) == (9_000, 1_000)
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=1_500))
    assert (w.net(P), w.ben()) == (8_000, 500)  # the gift keeps 500: the donor's own 1,000 went first
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=2_000))
    assert (w.net(P), w.ben()) == (8_000, 0)


def test_the_request_is_checked() -> None:
    w = Joint()
    d = w.held()
    ask, confirm = w.links(d)
    with pytest.raises(InvalidInput):  # more than is held
        w.reattributions.request(ask, OtherHolder("Ben", "Rivera", BEN), 1_001)
    with pytest.raises(InvalidInput):  # the donor themselves
        w.reattributions.request(ask, OtherHolder("Ana", "Rivera", "ANA@example.org"), 500)
    with pytest.raises(DomainError):  # no request yet: the other link names nothing
        w.reattributions.show_confirmation(confirm)
    with pytest.raises(DomainError):  # each link is for its own purpose
        w.reattributions.show(confirm)
    ask_form = {"first_name": "Ben", "last_name": "Rivera", "email": BEN, "amount": "$6.50"}
    assert read_request(ask_form)[1] == 650
    with pytest.raises(InvalidInput) as bad:
        read_request({"first_name": "", "last_name": "Rivera", "email": "nope", "amount": "6"})
    assert {"first_name", "email"} <= set(bad.value.fields)
    with pytest.raises(InvalidInput) as unticked:
        read_confirmation({**BEN_FORM, "own_funds": ""})
    assert "own_funds" in unticked.value.fields
    with pytest.raises(InvalidInput) as no_city:
        read_confirmation({**BEN_FORM, "city": ""})
    assert "city" in no_city.value.fields


def test_the_confirmation_must_come_from_the_named_address_and_by_day_60() -> None:
    w = Joint()
    _, confirm = w.asked(500)
    with pytest.raises(InvalidInput):
        w.reattributions.confirm(confirm, *read_confirmation({**BEN_FORM, "email": "eve@example.org"}))
    w.clock.advance(days=59, hours=15)  # 01:00 on day 60 in Chicago: the link still reads
    with pytest.raises(Conflict) as late:
        w.reattributions.confirm(confirm, *read_confirmation(BEN_FORM))
    assert late.value.code == "remedy_expired"
    assert w.ben() == 0


def test_nothing_held_nothing_to_reattribute() -> None:
    w = Joint()
    d = w.excessive()  # the general has room: all of it redesignated, nothing held
    assert d.excess_held_cents == 0 and CALENDAR.presumptive_redesignation
    with pytest.raises(Conflict):
        w.reattributions.request(w.links(d)[0], OtherHolder("Ben", "Rivera", BEN), 500)


def test_the_other_person_is_known_by_name_and_zip_as_at_intake() -> None:
    """Ben gave before from another address (same name and ZIP): confirming under this email
    counts his earlier giving, so the reattribution cannot take him past the limit."""
    w = Joint()
    d, confirm = w.asked(1_000)
    person, attestations = read_confirmation(BEN_FORM)
    w.store.identities[identity_keys(person)[1]] = "dnr_ben_before"  # his name and ZIP, known
    w.store.aggregates[("dnr_ben_before", P)] = type(w.store.aggregate(d.donor_id, P))(net_cents=8_500)
    with pytest.raises(OverLimit):  # 8,500 given as the same person + 1,000 > 9,000
        w.reattributions.confirm(confirm, person, attestations)
    assert w.giving.donation(d.donation_id).reattribution_status == "requested"
    w.store.aggregates[("dnr_ben_before", P)] = type(w.store.aggregate(d.donor_id, P))(net_cents=500)
    w.reattributions.confirm(confirm, person, attestations)
    assert w.store.aggregate("dnr_ben_before", P).net_cents == 1_500  # onto the person he is
    assert w.ben() == 0
