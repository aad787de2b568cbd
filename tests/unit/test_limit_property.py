"""Property: no donor ever keeps more than the limit of any election, whatever the order of
intakes (by their own email, another email linked by name and ZIP, designated or not), successes,
failures, refunds, excess refunds delivered late, presumptive redesignations of an excess to the
general (and donors asking for them back), excesses held until their day 60 and refunded then by
the daily job (run any number of times), reattributions of a held excess to another card holder
(requested, confirmed, confirmed twice, or left to expire at day 60), the primary passing in
between, and the candidate losing it (the forgo job run, gifts for the general paid later
refunded with their success). Run against the
in-memory twins of the stores (tests/giving_twins.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chalicelib import tokens
from chalicelib.compliance.committees import Committee, ElectionNotOpen, OverNetDebt
from chalicelib.compliance.elections import Election
from chalicelib.compliance.limits import OverLimit
from chalicelib.compliance.reattribution import OtherHolder, Reattributions, read_confirmation
from chalicelib.compliance.remedies import (
    REDESIGNATED_REFUND,
    HeldExcessRefunds,
    RedesignationRefunds,
    remedy_due_on,
)
from chalicelib.compliance.withdrawal import (
    FORGO_JOB,
    FORGONE_REFUND,
    ForgonePlanner,
    forgo_handler,
    forgone_elections,
)
from chalicelib.errors import DomainError
from chalicelib.exports.model import LedgerMovement
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Fact, PaymentState, totals_delta
from chalicelib.giving.service import GivingService, reattributed_share, redesignated_share
from chalicelib.outbox.model import OutboxMessage
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

LIMIT = 10_000
COMMITTEE = Committee("C00000001", "Rivera for Congress", "candidate", LIMIT, 20_000,
                      time_zone="America/Chicago", previous_general_date=date(2024, 11, 5),
                      elections=(Election("P2026", date(2026, 6, 2)), Election("G2026", date(2026, 11, 3))))
# Two emails of one person (linked by name and ZIP once either has given), and someone else.
DONORS = [("ana@example.org", "Ana", "Rivera", "62701"), ("ana.work@example.org", "Ana", "Rivera", "62701"),
          ("ben@example.org", "Ben", "Cho", "60601")]
# Other holders of a card account a donor may name for a held excess: a donor of their own
# (Ben), and someone who never gave.
OTHERS = [("ben@example.org", "Ben", "Cho"), ("cy@example.org", "Cy", "Ode")]
ATTESTED = ("us_citizen_or_permanent_resident", "own_funds", "not_federal_contractor", "personal_card")


REFUNDS = ("refund_excess", REDESIGNATED_REFUND, FORGONE_REFUND)


class Giving(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(datetime(2026, 5, 20, 15, tzinfo=timezone.utc))
        self.store = MemoryDonations()
        offered = replace(page(election="P2026"), elections=["P2026", "G2026"])
        self.committees = MemoryCommittees(COMMITTEE)
        self.giving = GivingService(self.store, MemoryPages(offered), MemoryPayments(),
                                    self.committees, self.clock, planners=[ForgonePlanner(self.committees)])
        self.tokens = Tokens("x" * 32, self.clock)
        self.remedies = RedesignationRefunds(self.store, self.tokens, self.clock)
        self.day_sixty = HeldExcessRefunds(self.store, self.committees, self.clock)
        self.reattributions = Reattributions(self.store, self.committees, self.tokens, self.clock)
        self.ids: list[str] = []
        self.events = 0
        self.delivered: set[str] = set()
        self.lost = False

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

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def ask_for_the_redesignated_part_back(self, data: st.DataObject) -> None:
        """The donor posts the notice's link (perhaps twice, perhaps for a gift left alone)."""
        link = self.tokens.issue(tokens.REDESIGNATION, data.draw(st.sampled_from(self.ids)))
        try:
            self.remedies.refund(link)
        except DomainError:
            pass

    @rule()
    def deliver_excess_refunds(self) -> None:
        """The outbox's excess refunds (and redesignated parts asked back) reach Stripe and their
        charge.refunded comes back."""
        for message in [m for m in self.store.outbox if m.kind in REFUNDS]:
            if message.message_id in self.delivered:
                continue
            self.delivered.add(message.message_id)
            d = self.giving.donation(str(message.payload["donation_id"]))
            total = min(d.amount_cents, d.state.refunded_cents + int(message.payload["amount_cents"]))
            self._event("charge.refunded", Fact("refunded", refunded_cents=total), d.donation_id)

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), under=st.integers(1, 3_000), general_full=st.booleans())
    def the_limit_is_lowered_before_a_success(self, data: st.DataObject, under: int,
                                              general_full: bool) -> None:
        """A gift reserved under the old limit succeeds over the new one: its excess is
        redesignated, held until day 60 (when the general has no room: `general_full` lowers
        the limit to what the donor has there) or refunded (the limit only falls, so LIMIT
        stays the highest it was)."""
        d = self.giving.donation(data.draw(st.sampled_from(self.ids)))
        c = self.committees.committees[COMMITTEE.committee_id]
        counted = self.store.aggregate(d.donor_id, d.limit_scope).net_cents + d.amount_cents
        lowered = max(5_000, min(c.limit_cents, counted - under))
        general = self.store.aggregate(d.donor_id, f"{c.committee_id}#G2026").net_cents
        if general_full and general >= 5_000:
            lowered = min(lowered, general)
        self.committees.committees[c.committee_id] = replace(c, limit_cents=lowered)
        self._event("payment_intent.succeeded", Fact("paid"), d.donation_id)

    @rule(who=st.sampled_from(DONORS), general=st.integers(5_000, 10_000), primary=st.integers(5_500, 10_000))
    def an_early_gift_over_the_limit_of_both_elections(self, who: tuple[str, str, str, str],
                                                         general: int, primary: int) -> None:
        """A donor gives to the general, then to the primary; the limit falls to what they have
        in the general before the primary gift succeeds: its excess has nowhere to go and is held
        until its day 60 (when the primary is still ahead)."""
        before = len(self.ids)
        self.intake(who, "G2026", general)
        if len(self.ids) > before:
            self._event("payment_intent.succeeded", Fact("paid"), self.ids[-1])
        self.intake(who, "P2026", primary)
        if len(self.ids) == before + 2:
            d = self.giving.donation(self.ids[-1])
            c = self.committees.committees[COMMITTEE.committee_id]
            there = self.store.aggregate(d.donor_id, f"{c.committee_id}#G2026").net_cents
            counted = self.store.aggregate(d.donor_id, d.limit_scope).net_cents + d.amount_cents
            self.committees.committees[c.committee_id] = replace(
                c, limit_cents=max(5_000, min(c.limit_cents, there, counted - 1)))
            self._event("payment_intent.succeeded", Fact("paid"), d.donation_id)

    @precondition(lambda self: not self.lost)
    @rule()
    def the_candidate_loses_the_primary(self) -> None:
        """Set on a day after the primary: the general is forgone; the job queues the refunds
        of what was paid for it (from a ledger of the paid gifts, as the movements hold them)."""
        if not date(2026, 6, 2) < self.clock.now.date() < date(2026, 11, 3):
            return
        c = self.committees.committees[COMMITTEE.committee_id]
        today = c.local_date(self.clock.now)
        self.committees.committees[c.committee_id] = replace(c, status="lost_primary", status_date=today)
        self.lost = True
        movements = [LedgerMovement(f"mv_{d.donation_id}", "contribution", d.amount_cents, d.created_at,
                                    d.donation_id, d.donor_id, d.committee_id, d.election, d.page_slug, "evt")
                     for d in self.store.donations.values() if d.state.paid]
        ledger = type("Ledger", (), {"movements": lambda _, c_id, start, end: iter(movements)})()
        job = forgo_handler(self.committees, ledger, self.store, self.store, self.clock,
                            redesignations=self.store)
        job(OutboxMessage(f"{FORGO_JOB}#x", FORGO_JOB, self.clock.now, {"committee_id": c.committee_id}))

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), other=st.sampled_from(OTHERS), share=st.integers(1, 100))
    def the_donor_asks_to_reattribute(self, data: st.DataObject, other: tuple[str, str, str],
                                      share: int) -> None:
        """The donor names another card holder for part (`share` %) of a held excess (perhaps for
        a gift with nothing held, perhaps again)."""
        d = self.giving.donation(data.draw(st.sampled_from(self.ids)))
        email, first, last = other
        try:
            self.reattributions.request(self.tokens.issue(tokens.REATTRIBUTION, d.donation_id),
                                        OtherHolder(first, last, email),
                                        max(d.excess_held_cents * share // 100, 1))
        except DomainError:
            pass

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def the_other_person_confirms(self, data: st.DataObject) -> None:
        """The person named confirms with their own details (perhaps twice, perhaps late)."""
        asked = [i for i in self.ids if self.store.donations[i].reattribution_status] or self.ids
        d = self.giving.donation(data.draw(st.sampled_from(asked)))
        request = d.reattribution_request or {}
        form = {"first_name": request.get("first_name", "Cy"),
                "last_name": request.get("last_name", "Ode"),
                "email": request.get("email", "cy@example.org"), "line1": "2 Oak Ave",
                "city": "Springfield", "state": "IL", "zip": "62702", "employer": "Schools",
                "occupation": "Teacher", **{k: "on" for k in ATTESTED}}
        try:
            self.reattributions.confirm(self.tokens.issue(tokens.REATTRIBUTION_CONFIRM, d.donation_id),
                                        *read_confirmation(form))
        except DomainError:
            pass

    @rule(days=st.integers(1, 45))
    def time_passes(self, days: int) -> None:
        if self.clock.now.date() < date(2026, 10, 20):  # the primary passes; the general stays ahead
            self.clock.advance(days=days)

    @rule()
    def the_daily_job_runs(self) -> None:
        """Day 60: every excess still held on its day is queued for refund (a second run the
        same day queues nothing more), and nothing stays held past its day 60."""
        self.day_sixty.run()
        today = COMMITTEE.local_date(self.clock.now)
        before = len(self.store.outbox)
        self.day_sixty.run()
        assert len(self.store.outbox) == before
        for d in self.store.donations.values():
            assert not d.excess_held_cents or today < remedy_due_on(COMMITTEE.local_date(d.created_at))

    def _pending_excess(self, person: str, scope: str) -> int:
        """Refunds queued for the donor's gifts of `scope` that have not come back yet, and the
        excess held for the donor's remedies (refunded at day 60)."""
        queued = sum(int(m.payload["amount_cents"]) for m in self.store.outbox
                     if m.kind in REFUNDS
                     and m.message_id not in self.delivered
                     and (d := self.store.donations[str(m.payload["donation_id"])]).donor_id == person
                     and d.limit_scope == scope)
        return queued + sum(d.excess_held_cents for d in self.store.donations.values()
                            if d.donor_id == person and d.limit_scope == scope)

    @invariant()
    def nobody_keeps_more_than_the_limit_of_any_election(self) -> None:
        for (person, scope), aggregate in self.store.aggregates.items():
            assert aggregate.net_cents - self._pending_excess(person, scope) <= LIMIT, (person, scope)
            assert aggregate.reserved_cents >= 0

    @invariant()
    def after_a_lost_primary_nothing_paid_for_the_general_is_kept(self) -> None:
        if not self.lost:
            return
        forgone = forgone_elections(self.committees.committees[COMMITTEE.committee_id])
        for d in self.store.donations.values():
            if d.election in forgone and d.state.paid:
                pending = sum(int(m.payload["amount_cents"]) for m in self.store.outbox
                              if m.kind in REFUNDS and m.message_id not in self.delivered
                              and m.payload["donation_id"] == d.donation_id)
                assert d.state.refunded_cents + pending >= d.amount_cents, d.donation_id
            if d.state.paid and d.redesignated_to in forgone:  # nothing of it counts there
                assert redesignated_share(d, d.state) == 0 or d.redesignation_status != "presumed", d
        refunds = [m.message_id for m in self.store.outbox if m.kind == FORGONE_REFUND]
        assert len(refunds) == len(set(refunds))  # one each

    @invariant()
    def every_aggregate_is_the_sum_of_its_donations(self) -> None:
        counted: dict[tuple[str, str], int] = {}
        for d in self.store.donations.values():
            key = (d.donor_id, d.limit_scope)
            moved = redesignated_share(d, d.state)  # what counts toward the general instead
            theirs = reattributed_share(d, d.state)  # what counts as the other card holder's
            kept = totals_delta(PaymentState(d.amount_cents), d.state).cents
            counted[key] = counted.get(key, 0) + kept - moved - theirs
            if moved and d.redesignated_scope:
                there = (d.donor_id, d.redesignated_scope)
                counted[there] = counted.get(there, 0) + moved
            if theirs and d.reattributed_donor_id:
                other = (d.reattributed_donor_id, d.limit_scope)
                counted[other] = counted.get(other, 0) + theirs
        for key, aggregate in self.store.aggregates.items():
            assert aggregate.net_cents == counted.get(key, 0), key

    @invariant()
    def only_early_primary_gifts_are_redesignated_and_only_to_the_general(self) -> None:
        for d in self.store.donations.values():
            if d.redesignated_cents:
                assert d.election == "P2026" and d.redesignated_to == "G2026"
                assert d.created_at.date() <= date(2026, 6, 2)

    @invariant()
    def every_gift_is_for_a_real_election(self) -> None:
        assert all(d.election in ("P2026", "G2026") for d in self.store.donations.values())
        assert all(d.election == "G2026" for d in self.store.donations.values()
                   if d.created_at.date() > date(2026, 6, 3))


Giving.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])
TestNoDonorPassesTheLimit = Giving.TestCase
