"""Property: no donor ever keeps more than the limit of any election, whatever the order of
intakes (by their own email, another email linked by name and ZIP, designated or not), successes,
failures, refunds, excess refunds delivered late and the primary passing in between. Run
against the in-memory twins of the stores (tests/giving_twins.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chalicelib.compliance.committees import Committee, ElectionNotOpen, OverNetDebt
from chalicelib.compliance.elections import Election
from chalicelib.compliance.limits import OverLimit
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Fact, PaymentState, totals_delta
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

LIMIT = 10_000
COMMITTEE = Committee("C00000001", "Rivera for Congress", "candidate", LIMIT, 20_000,
                      time_zone="America/Chicago", previous_general_date=date(2024, 11, 5),
                      elections=(Election("P2026", date(2026, 6, 2)), Election("G2026", date(2026, 11, 3))))
# Two emails of one person (linked by name and ZIP once either has given), and someone else.
DONORS = [("ana@example.org", "Ana", "Rivera", "62701"), ("ana.work@example.org", "Ana", "Rivera", "62701"),
          ("ben@example.org", "Ben", "Cho", "60601")]


class Giving(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(datetime(2026, 5, 20, 15, tzinfo=timezone.utc))
        self.store = MemoryDonations()
        offered = replace(page(election="P2026"), elections=["P2026", "G2026"])
        self.giving = GivingService(self.store, MemoryPages(offered), MemoryPayments(),
                                    MemoryCommittees(COMMITTEE), self.clock)
        self.ids: list[str] = []
        self.events = 0
        self.delivered: set[str] = set()

    def _event(self, type_: str, fact: Fact, donation_id: str) -> None:
        d = self.giving.donation(donation_id)
        self.events += 1
        charge = type_.startswith("charge.")
        self.giving.apply_event(PaymentEvent(
            f"evt_{self.events}", type_, fact, None if charge else d.donation_id, d.payment_intent_id,
            self.clock.now, amount_cents=d.amount_cents, currency="usd"))

    @rule(who=st.sampled_from(DONORS), election=st.sampled_from([None, "P2026", "G2026"]),
          cents=st.integers(100, 12_000))
    def intake(self, who: tuple[str, str, str, str], election: str | None, cents: int) -> None:
        email, first, last, zip_ = who
        request = donation_request(cents, email, f"key-{len(self.ids):06d}", election, first=first,
                                   last=last, zip_=zip_)
        try:
            self.ids.append(self.giving.start_donation("spring", request).donation.donation_id)
        except (OverLimit, ElectionNotOpen, OverNetDebt):
            pass

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def succeed(self, data: st.DataObject) -> None:
        self._event("payment_intent.succeeded", Fact("paid"), data.draw(st.sampled_from(self.ids)))

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        self._event("payment_intent.payment_failed", Fact("failed"), data.draw(st.sampled_from(self.ids)))

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        d = self.giving.donation(data.draw(st.sampled_from(self.ids)))
        if d.state.paid and not d.state.failed:
            total = data.draw(st.integers(d.state.refunded_cents, d.amount_cents))
            self._event("charge.refunded", Fact("refunded", refunded_cents=total), d.donation_id)

    @rule()
    def deliver_excess_refunds(self) -> None:
        """The outbox's excess refunds reach Stripe and their charge.refunded comes back."""
        for message in [m for m in self.store.outbox if m.kind == "refund_excess"]:
            if message.message_id in self.delivered:
                continue
            self.delivered.add(message.message_id)
            d = self.giving.donation(str(message.payload["donation_id"]))
            total = min(d.amount_cents, d.state.refunded_cents + int(message.payload["amount_cents"]))
            self._event("charge.refunded", Fact("refunded", refunded_cents=total), d.donation_id)

    @rule(days=st.integers(1, 20))
    def time_passes(self, days: int) -> None:
        if self.clock.now.date() < date(2026, 10, 20):  # the primary passes; the general stays ahead
            self.clock.advance(days=days)

    def _pending_excess(self, person: str, scope: str) -> int:
        return sum(d.excess_refund_cents for d in self.store.donations.values()
                   if d.donor_id == person and d.limit_scope == scope
                   and f"refund_excess#{d.donation_id}" not in self.delivered)

    @invariant()
    def nobody_keeps_more_than_the_limit_of_any_election(self) -> None:
        for (person, scope), aggregate in self.store.aggregates.items():
            assert aggregate.net_cents - self._pending_excess(person, scope) <= LIMIT, (person, scope)
            assert aggregate.reserved_cents >= 0

    @invariant()
    def every_aggregate_is_the_sum_of_its_donations(self) -> None:
        counted: dict[tuple[str, str], int] = {}
        for d in self.store.donations.values():
            key = (d.donor_id, d.limit_scope)
            counted[key] = counted.get(key, 0) + totals_delta(PaymentState(d.amount_cents), d.state).cents
        for key, aggregate in self.store.aggregates.items():
            assert aggregate.net_cents == counted.get(key, 0), key

    @invariant()
    def every_gift_is_for_a_real_election(self) -> None:
        assert all(d.election in ("P2026", "G2026") for d in self.store.donations.values())
        assert all(d.election == "G2026" for d in self.store.donations.values()
                   if d.created_at.date() > date(2026, 6, 3))


Giving.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])
TestNoDonorPassesTheLimit = Giving.TestCase
