"""Remedies for an excessive contribution (11 CFR 110.1(b)(5), 103.3(b)(3)), short of a refund.

A success that passes the donor's limit stands (the money moved). What is over the limit is,
in this order:
- *presumptively redesignated* (`excess_remedy`): when the committee keeps the setting on
  (`Committee.presumptive_redesignation`, default on for candidate committees), the excess of a
  gift for a primary received before that primary moves to the next open election of the cycle,
  as far as it fits within the limit there; the donor is told the same day, with a signed link
  (`/redesignation/{token}`, purpose `redesig`, 60 days) to have the redesignated amount
  refunded instead (`RedesignationRefunds`);
- held, when the gift had an election to be presumed for but the excess does not (all) fit
  there: the rest waits for the donor's other remedies until day 60 of its receipt (local),
  when the daily job refunds what is still held (`held_refund_cents`, `HeldExcessRefunds`);
- refunded at once, through the outbox and its one refund path
  (`compliance/excess.refund_handler`), for every other excess (the setting off, a gift for a
  general or toward a held election's debts, a PAC).
This module decides; the stores only write what it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chalicelib import tokens as purposes
from chalicelib.compliance.limits import Ceiling, ceiling, remaining_cents
from chalicelib.errors import Conflict, NotFound
from chalicelib.outbox.model import OutboxMessage

if TYPE_CHECKING:
    from chalicelib.compliance.committees import Committee
    from chalicelib.compliance.elections import Election
    from chalicelib.giving.model import Donation

# Every remedy of an excessive contribution must be had within 60 days of its receipt.
REMEDY_DAYS = 60
REDESIGNATION_NOTICE = "redesignation_notice"
EXCESS_NOTICE = "excess_notice"  # an excess held with no redesignation: the donor is told
REDESIGNATED_REFUND = "refund_redesignated"
# The elections whose early gifts may be presumed to be for the next one: primaries (and
# their runoffs), whose excess moves on to the general.
PRESUMABLE_KINDS = frozenset("PR")
PRESUMED = "presumed"  # the redesignation stands
REFUNDED = "refunded"  # the donor asked for the redesignated amount back instead


@dataclass(frozen=True)
class ExcessRemedy:
    """What happens to the excess of one contribution: `refund_cents` refunded at once, and
    `redesignate_cents` moved to `to_election` (the donor's limit period `to_scope` there),
    recorded on the committee's local day `on`, provided the donor's net giving there is at
    most `to_ceiling` when it is written."""

    refund_cents: int
    redesignate_cents: int = 0
    to_election: str | None = None
    to_scope: str | None = None
    on: date | None = None
    to_ceiling: Ceiling | None = None
    # Held for the donor's other remedies until `hold_until` (day 60, local), then refunded.
    hold_cents: int = 0
    hold_until: date | None = None


def redesignation_target(committee: Committee, donation: Donation) -> Election | None:
    """The election the excess of `donation` would be presumed to be for: the next election
    of its cycle still open when the gift was received, when the gift is for a primary it was
    received before (or on the day of); None when the committee keeps the setting off, the gift
    retires a held election's debts, or nothing of the cycle comes after it. Never an election
    the candidate no longer takes part in (a lost primary or a withdrawal since the gift was
    received, compliance/withdrawal.py): that excess is refunded."""
    from chalicelib.compliance.withdrawal import forgone_elections

    if not committee.presumptive_redesignation or donation.toward_debt:
        return None
    election = committee.election(donation.election)
    if election is None or election.kind not in PRESUMABLE_KINDS:
        return None
    received = committee.local_date(donation.created_at)
    if election.held_before(received):
        return None
    forgone = forgone_elections(committee)
    later = [e for e in committee.open_elections(received)
             if e.date > election.date and e.code not in forgone]
    return later[0] if later else None


def excess_remedy(committee: Committee, donation: Donation, excess_cents: int,
                  target_net_cents: int, when: datetime) -> ExcessRemedy:
    """The one decision about an excess: as much as fits within the limit of the next open
    election (the donor has `target_net_cents` there) is presumed to be for it; the rest is
    refunded. With the setting off, or nowhere to go, the whole excess is refunded at once."""
    target = redesignation_target(committee, donation)
    if target is None or excess_cents <= 0:
        return ExcessRemedy(max(excess_cents, 0))
    moved = min(excess_cents, remaining_cents(committee.limit_cents, target_net_cents))
    held = excess_cents - max(moved, 0)
    until = remedy_due_on(committee.local_date(donation.created_at)) if held else None
    if moved <= 0:
        return ExcessRemedy(0, hold_cents=held, hold_until=until)
    return ExcessRemedy(0, moved, target.code,
                        committee.limit_scope(target.code, when), committee.local_date(when),
                        ceiling(committee.limit_cents, moved), held, until)


def remedy_due_on(received_on: date) -> date:
    """Day 60 of a contribution received on the committee's local day `received_on`: the last
    day a remedy may be had, and the day what none resolved is refunded."""
    return received_on + timedelta(days=REMEDY_DAYS)


def held_refund_cents(held_cents: int, received_on: date, today: date) -> int:
    """The day-60 rule: of an excess held for the donor's remedies (`held_cents`, what no
    remedy has resolved yet), the cents owed back today, the committee's local day, for a
    gift received on its local day `received_on`: nothing before day 60, all of it from then."""
    return max(held_cents, 0) if today >= remedy_due_on(received_on) else 0


def redesignation_notice(donation: Donation, remedy: ExcessRemedy, now: datetime) -> OutboxMessage:
    """The donor's email the same day (transactional), with the link to ask for a refund of
    the redesignated amount instead."""
    return OutboxMessage(f"{REDESIGNATION_NOTICE}#{donation.donation_id}", REDESIGNATION_NOTICE, now, {
        "donation_id": donation.donation_id, "amount_cents": remedy.redesignate_cents,
        "from_election": donation.election, "to_election": remedy.to_election,
        "refund_cents": remedy.refund_cents, "held_cents": remedy.hold_cents,
        "refund_on": remedy.hold_until.isoformat() if remedy.hold_until else None})


def excess_notice(donation: Donation, remedy: ExcessRemedy, now: datetime) -> OutboxMessage:
    """The donor's email the same day when nothing of the excess could be redesignated: how
    much is over the limit, and the day it is refunded unless another remedy resolves it."""
    return OutboxMessage(f"{EXCESS_NOTICE}#{donation.donation_id}", EXCESS_NOTICE, now, {
        "donation_id": donation.donation_id, "held_cents": remedy.hold_cents,
        "election": donation.election,
        "refund_on": remedy.hold_until.isoformat() if remedy.hold_until else None})


def refund_deadline(donation: Donation) -> datetime:
    """The last moment the donor may still choose the refund: 60 days after receipt."""
    return donation.created_at + timedelta(days=REMEDY_DAYS)


@dataclass(frozen=True)
class Undo:
    """What the donor's refund request writes: the redesignated amount goes back to the gift's
    own election (`from_scope`) and off the other's (`to_scope`), it joins the excess being
    refunded (`excess_refund_cents`), and its refund is queued, all only while the
    redesignation still stands."""

    donation_id: str
    donor_id: str
    cents: int
    from_scope: str
    to_scope: str
    excess_refund_cents: int
    refund: OutboxMessage
    version: int  # the donation as read: a payment event since means deciding again


def undo_redesignation(donation: Donation, now: datetime, any_day: bool = False) -> Undo:
    """The refund of a presumed redesignation the donor asked for (Conflict when there is
    none standing, or nothing left to refund, or the 60 days are over; `any_day`: the election
    it went to is forgone, compliance/withdrawal.py, and it is refunded whenever that is)."""
    if donation.redesignation_status != PRESUMED or not donation.redesignated_cents:
        raise Conflict("not_redesignated", "Nothing of this contribution is redesignated any more.")
    state = donation.state
    if (not state.paid or not donation.payment_intent_id or state.dispute in ("open", "lost")
            or state.amount_cents - max(state.refunded_cents, donation.excess_refund_cents)
            < donation.redesignated_cents):
        raise Conflict("not_refundable", "This contribution has no money left to refund.")
    if now > refund_deadline(donation) and not any_day:
        raise Conflict("remedy_expired", "The 60 days to ask for this refund are over.")
    cents = donation.redesignated_cents
    refund = OutboxMessage(f"{REDESIGNATED_REFUND}#{donation.donation_id}", REDESIGNATED_REFUND, now, {
        "donation_id": donation.donation_id, "payment_intent_id": donation.payment_intent_id,
        "amount_cents": cents, "reason": "requested_by_customer"})
    return Undo(donation.donation_id, donation.donor_id, cents, donation.limit_scope,
                donation.redesignated_scope or "", donation.excess_refund_cents + cents, refund,
                donation.version)


class RedesignationStore(Protocol):
    def get(self, donation_id: str) -> Donation | None: ...
    def undo_redesignation(self, undo: Undo, now: datetime) -> bool: ...


class Tokens(Protocol):
    def read(self, token: str, purpose: str) -> str: ...


class RedesignationRefunds:
    """The donor's signed link: `show` reads (changes nothing); `refund` acts, once."""

    def __init__(self, store: RedesignationStore, tokens: Tokens, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.tokens = tokens
        self.clock = clock

    def show(self, token: str) -> Donation:
        donation_id = self.tokens.read(token, purposes.REDESIGNATION)
        donation = self.store.get(donation_id)
        if donation is None or not donation.redesignated_cents:
            raise NotFound("donation_not_found", "This link names no redesignated contribution.")
        return donation

    def refund(self, token: str) -> Donation:
        """Queue the refund of the redesignated amount and move it back, in one transaction:
        a second request (or a concurrent one) finds it done and queues nothing more."""
        donation = self.show(token)
        if donation.redesignation_status == REFUNDED:
            return donation
        if not self.store.undo_redesignation(undo_redesignation(donation, self.clock()), self.clock()):
            found = self.store.get(donation.donation_id)
            if found is None or found.redesignation_status != REFUNDED:
                raise Conflict("not_redesignated", "Nothing of this contribution is redesignated any more.")
            return found
        found = self.store.get(donation.donation_id)
        assert found is not None
        return found


EXCESS_REFUND = "refund_excess"


@dataclass(frozen=True)
class HeldRefund:
    """What day 60 writes for a held excess: nothing held any more, the excess refunded grown by
    it, and its refund queued, only while the donation is as read."""

    donation_id: str
    cents: int
    excess_refund_cents: int
    refund: OutboxMessage | None  # None when the gift has no money left to refund
    version: int


def expire_hold(committee: Committee, donation: Donation, now: datetime) -> HeldRefund | None:
    """The refund day 60 owes for `donation` (None when nothing is owed today, or the gift has
    no money left to refund: a refund or a chargeback took it already)."""
    received_on = committee.local_date(donation.created_at)
    cents = held_refund_cents(donation.excess_held_cents, received_on, committee.local_date(now))
    state = donation.state
    left = state.amount_cents - max(state.refunded_cents, donation.excess_refund_cents)
    if state.dispute in ("open", "lost"):
        left = 0
    if cents <= 0:
        return None
    cents = min(cents, max(left, 0))
    refund = None if cents <= 0 else OutboxMessage(
        f"{EXCESS_REFUND}#{donation.donation_id}", EXCESS_REFUND, now, {
            "donation_id": donation.donation_id, "payment_intent_id": donation.payment_intent_id,
            "amount_cents": cents, "reason": "over_limit"})
    return HeldRefund(donation.donation_id, cents, donation.excess_refund_cents + cents, refund,
                      donation.version)


class HeldStore(Protocol):
    def held_due(self, until: date) -> list[Donation]: ...
    def refund_held(self, refund: HeldRefund, now: datetime) -> bool: ...


class CommitteesOf(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class HeldExcessRefunds:
    """The daily job: every excess still held on its day 60 (local) is refunded, once."""

    def __init__(self, store: HeldStore, committees: CommitteesOf, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.committees = committees
        self.clock = clock

    def run(self) -> int:
        """Queue the refund of each held excess due today; returns how many were queued. The
        index is read up to tomorrow in UTC (no committee's local day is later), and the rule
        decides per committee."""
        now = self.clock()
        queued = 0
        for donation in self.store.held_due(now.date() + timedelta(days=1)):
            refund = expire_hold(self.committees.get(donation.committee_id), donation, now)
            if refund is not None and self.store.refund_held(refund, now) and refund.cents:
                queued += 1
        return queued
