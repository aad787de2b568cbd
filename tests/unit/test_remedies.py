"""Presumptive redesignation of an excessive gift, against the in-memory twins: the excess of a
primary gift received before the primary counts toward the general as far as it fits there, the
rest is held until day 60 (local) and then refunded by the daily job, once; the donor is told
the same day and may have the redesignated part refunded instead (once); with the setting off
the whole excess is refunded at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib import tokens as purposes
from chalicelib.compliance.committees import Committee
from chalicelib.compliance.elections import Election
from chalicelib.compliance.remedies import (
    EXCESS_NOTICE,
    REDESIGNATED_REFUND,
    REDESIGNATION_NOTICE,
    HeldExcessRefunds,
    RedesignationRefunds,
    excess_remedy,
    held_refund_cents,
)
from chalicelib.errors import Conflict, DomainError
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Fact
from chalicelib.giving.model import Donation, donor_id_for
from chalicelib.giving.service import GivingService
from chalicelib.tokens import Tokens
from tests.giving_twins import (
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    donation_request,
    page,
)

CID = "C00000001"
P, G = f"{CID}#P2026", f"{CID}#G2026"
ANA = "ana@example.org"
CALENDAR = Committee(CID, "Rivera for Congress", "candidate", 10_000, 20_000, time_zone="America/Chicago",
                     previous_general_date=date(2024, 11, 5),
                     elections=(Election("P2026", date(2026, 6, 2)), Election("G2026", date(2026, 11, 3))))
BEFORE_PRIMARY = datetime(2026, 5, 20, 15, tzinfo=timezone.utc)


class World:
    def __init__(self, committee: Committee = CALENDAR, when: datetime = BEFORE_PRIMARY) -> None:
        self.clock = Clock(when)
        self.store = MemoryDonations()
        self.committees = MemoryCommittees(committee)
        offered = replace(page(election="P2026"), elections=["P2026", "G2026"])
        self.giving = GivingService(self.store, MemoryPages(offered), MemoryPayments(), self.committees,
                                    self.clock)
        self.tokens = Tokens("x" * 32, self.clock)
        self.remedies = RedesignationRefunds(self.store, self.tokens, self.clock)
        self.day_sixty = HeldExcessRefunds(self.store, self.committees, self.clock)
        self.n = 0

    def intake(self, cents: int, election: str | None = None) -> Donation:
        self.n += 1
        request = donation_request(cents, ANA, f"key-{self.n:04d}", election)
        return self.giving.start_donation("spring", request).donation

    def event(self, donation_id: str, type_: str, fact: Fact) -> None:
        d = self.giving.donation(donation_id)
        self.n += 1
        charge = type_.startswith("charge.")
        self.giving.apply_event(PaymentEvent(f"evt_{self.n}", type_, fact, None if charge else donation_id,
                                             d.payment_intent_id, self.clock.now,
                                             amount_cents=d.amount_cents, currency="usd"))

    def succeed(self, donation: Donation) -> Donation:
        self.event(donation.donation_id, "payment_intent.succeeded", Fact("paid"))
        return self.giving.donation(donation.donation_id)

    def lower_limit(self, cents: int) -> None:
        """The committee lowers the limit after the gifts were reserved (how a success passes it)."""
        c = self.committees.committees[CID]
        self.committees.committees[CID] = replace(c, limit_cents=cents)

    def net(self, scope: str) -> int:
        return self.store.aggregate(donor_id_for(ANA), scope).net_cents

    def kinds(self) -> list[str]:
        return [m.kind for m in self.store.outbox if m.kind in (REDESIGNATION_NOTICE, REDESIGNATED_REFUND,
                                                                "refund_excess", EXCESS_NOTICE)]

    def excessive(self, first: int = 8_000, second: int = 2_000, limit: int = 9_000) -> Donation:
        a, b = self.intake(first), self.intake(second)
        self.lower_limit(limit)
        self.succeed(a)
        return self.succeed(b)


def test_the_excess_of_an_early_primary_gift_counts_toward_the_general() -> None:
    w = World()
    d = w.excessive()
    assert (d.redesignated_cents, d.redesignated_to, d.redesignation_status) == (1_000, "G2026", "presumed")
    assert d.redesignated_on == date(2026, 5, 20) and d.excess_refund_cents == 0
    assert (w.net(P), w.net(G)) == (9_000, 1_000)
    assert w.kinds() == [REDESIGNATION_NOTICE]  # told the same day; nothing refunded
    notice = next(m for m in w.store.outbox if m.kind == REDESIGNATION_NOTICE)
    assert notice.due_at == w.clock.now and notice.payload["to_election"] == "G2026"


def test_only_what_fits_under_the_generals_limit_moves_and_the_rest_is_held_to_day_60() -> None:
    w = World()
    w.succeed(w.intake(8_000, "G2026"))
    d = w.excessive(limit=8_500)  # 1,500 over in the primary; the general has room for 500
    assert (d.redesignated_cents, d.excess_refund_cents, d.excess_held_cents) == (500, 0, 1_000)
    assert d.excess_held_until == date(2026, 7, 19)  # day 60 of May 20, Chicago
    assert (w.net(P), w.net(G)) == (9_500, 8_500)  # the primary's 1,000 goes with its refund
    assert w.kinds() == [REDESIGNATION_NOTICE]  # told the same day; nothing refunded yet
    notice = next(m for m in w.store.outbox if m.kind == REDESIGNATION_NOTICE)
    assert (notice.payload["held_cents"], notice.payload["refund_on"]) == (1_000, "2026-07-19")
    w.clock.advance(days=60)
    assert w.day_sixty.run() == 1
    refund = next(m for m in w.store.outbox if m.kind == "refund_excess")
    assert refund.payload["amount_cents"] == 1_000
    d = w.giving.donation(d.donation_id)
    assert (d.excess_held_cents, d.excess_refund_cents) == (0, 1_000)


def test_an_excess_nothing_of_which_fits_is_held_and_the_donor_told() -> None:
    w = World()
    w.succeed(w.intake(10_000, "G2026"))  # the general is full
    d = w.excessive()
    assert (d.redesignated_cents, d.excess_held_cents, d.excess_refund_cents) == (0, 1_000, 0)
    assert w.kinds() == [EXCESS_NOTICE]
    notice = next(m for m in w.store.outbox if m.kind == EXCESS_NOTICE)
    assert (notice.payload["held_cents"], notice.payload["refund_on"]) == (1_000, "2026-07-19")


def test_the_day_60_rule() -> None:
    received = date(2026, 5, 20)
    assert held_refund_cents(1_000, received, date(2026, 7, 18)) == 0  # day 59: nothing
    assert held_refund_cents(1_000, received, date(2026, 7, 19)) == 1_000  # day 60: all of it
    assert held_refund_cents(1_000, received, date(2026, 9, 1)) == 1_000  # a late run still refunds
    assert held_refund_cents(0, received, date(2026, 9, 1)) == 0  # resolved: nothing owed


def test_day_60_is_the_committees_local_day() -> None:
    """Received at 23:30 on May 19 in Chicago (04:30 UTC on the 20th): day 60 is July 18 there,
    so a run at 23:59 on July 17 in Chicago (already July 18 in UTC) refunds nothing."""
    w = World(when=datetime(2026, 5, 20, 4, 30, tzinfo=timezone.utc))
    w.succeed(w.intake(10_000, "G2026"))
    d = w.excessive()
    assert d.excess_held_until == date(2026, 7, 18)
    w.clock.now = datetime(2026, 7, 18, 4, 59, tzinfo=timezone.utc)  # 23:59 on July 17 in Chicago
    assert w.day_sixty.run() == 0 and "refund_excess" not in w.kinds()
    w.clock.now = datetime(2026, 7, 18, 5, 0, tzinfo=timezone.utc)  # midnight, July 18, Chicago
    assert w.day_sixty.run() == 1


def test_the_job_run_twice_refunds_once() -> None:
    w = World()
    w.succeed(w.intake(10_000, "G2026"))
    d = w.excessive()
    w.clock.advance(days=59)
    assert w.day_sixty.run() == 0 and "refund_excess" not in w.kinds()
    w.clock.advance(days=1)
    assert [w.day_sixty.run(), w.day_sixty.run()] == [1, 0]
    assert w.kinds().count("refund_excess") == 1
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=1_000))
    assert w.net(P) == 9_000


def test_a_hold_whose_money_is_gone_is_closed_without_a_refund() -> None:
    w = World()
    w.succeed(w.intake(10_000, "G2026"))
    d = w.excessive()
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=2_000))  # all of it back
    w.clock.advance(days=60)
    assert w.day_sixty.run() == 0 and "refund_excess" not in w.kinds()
    assert w.giving.donation(d.donation_id).excess_held_cents == 0


@pytest.mark.parametrize("committee, when", [
    (replace(CALENDAR, presumptive_redesignation_setting=False), BEFORE_PRIMARY),  # the setting off
    (CALENDAR, datetime(2026, 7, 1, 15, tzinfo=timezone.utc)),  # a general gift: nothing after it
    (replace(CALENDAR, type="pac"), BEFORE_PRIMARY),  # a PAC never redesignates
])
def test_otherwise_the_whole_excess_is_refunded_at_once(committee: Committee, when: datetime) -> None:
    w = World(committee, when)
    d = w.excessive()
    assert (d.redesignated_cents, d.excess_refund_cents) == (0, 1_000)
    assert w.kinds() == ["refund_excess"]


def test_the_decision_never_passes_the_next_elections_limit() -> None:
    d = World().intake(3_000)
    remedy = excess_remedy(CALENDAR, d, 2_000, target_net_cents=9_000, when=BEFORE_PRIMARY)
    assert (remedy.hold_cents, remedy.redesignate_cents, remedy.to_scope) == (1_000, 1_000, G)
    assert remedy.refund_cents == 0
    assert excess_remedy(CALENDAR, d, 2_000, 10_000, BEFORE_PRIMARY).redesignate_cents == 0


def test_the_donors_link_shows_without_acting_and_refunds_once() -> None:
    w = World()
    d = w.excessive()
    token = w.tokens.issue(purposes.REDESIGNATION, d.donation_id)
    for _ in range(2):  # opening the link changes nothing
        assert w.remedies.show(token).redesignation_status == "presumed"
    assert (w.net(P), w.net(G)) == (9_000, 1_000) and REDESIGNATED_REFUND not in w.kinds()
    for _ in range(2):  # posted twice: one refund
        assert w.remedies.refund(token).redesignation_status == "refunded"
    refunds = [m for m in w.store.outbox if m.kind == REDESIGNATED_REFUND]
    assert len(refunds) == 1 and refunds[0].payload["amount_cents"] == 1_000
    assert (w.net(P), w.net(G)) == (10_000, 0)  # back on the primary until its refund lands
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=1_000))
    assert (w.net(P), w.net(G)) == (9_000, 0)
    assert w.giving.donation(d.donation_id).excess_refund_cents == 1_000


def test_the_link_is_for_sixty_days_and_for_its_own_purpose() -> None:
    w = World()
    d = w.excessive()
    token = w.tokens.issue(purposes.REDESIGNATION, d.donation_id)
    with pytest.raises(DomainError):
        w.remedies.refund(w.tokens.issue(purposes.DONOR, d.donation_id))
    w.clock.advance(days=61)
    with pytest.raises(DomainError) as expired:
        w.remedies.refund(token)
    assert expired.value.code == "token_expired"
    assert REDESIGNATED_REFUND not in w.kinds()


def test_a_gift_refunded_in_full_leaves_neither_election_counting_it() -> None:
    w = World()
    d = w.excessive()
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=500))
    assert (w.net(P), w.net(G)) == (8_500, 1_000)  # the gift's own election gives first
    w.event(d.donation_id, "charge.refunded", Fact("refunded", refunded_cents=2_000))
    assert (w.net(P), w.net(G)) == (8_000, 0)
    with pytest.raises(Conflict):
        w.remedies.refund(w.tokens.issue(purposes.REDESIGNATION, d.donation_id))


def test_the_setting_defaults_on_for_candidates_and_is_kept_as_set() -> None:
    assert CALENDAR.presumptive_redesignation
    assert not replace(CALENDAR, presumptive_redesignation_setting=False).presumptive_redesignation
    assert not replace(CALENDAR, type="pac").presumptive_redesignation
    assert timedelta(days=60) == purposes.PURPOSES[purposes.REDESIGNATION].lifetime
