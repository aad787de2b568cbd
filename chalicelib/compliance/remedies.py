"""Remedies for an excessive contribution (11 CFR 110.1(b)(5), 103.3(b)(3)), short of a refund.

A success that passes the donor's limit stands (the money moved). What is over the limit is,
in this order:
- *presumptively redesignated* (`excess_remedy`): when the committee keeps the setting on
  (`Committee.presumptive_redesignation`, default on for candidate committees), the excess of a
  gift for a primary received before that primary moves to the next open election of the cycle,
  as far as it fits within the limit there; the donor is told the same day, with a signed link
  (`/redesignation/{token}`, purpose `redesig`, 60 days) to have the redesignated amount
  refunded instead (`RedesignationRefunds`);
- refunded, through the outbox and its one refund path (`compliance/excess.refund_handler`),
  for whatever the redesignation does not take.
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


def redesignation_target(committee: Committee, donation: Donation) -> Election | None:
    """The election the excess of `donation` would be presumed to be for: the next election
    of its cycle still open when the gift was received, when the gift is for a primary it was
    received before (or on the day of); None when the committee keeps the setting off, the gift
    retires a held election's debts, or nothing of the cycle comes after it."""
    if not committee.presumptive_redesignation or donation.toward_debt:
        return None
    election = committee.election(donation.election)
    if election is None or election.kind not in PRESUMABLE_KINDS:
        return None
    received = committee.local_date(donation.created_at)
    if election.held_before(received):
        return None
    later = [e for e in committee.open_elections(received) if e.date > election.date]
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
    if moved <= 0:
        return ExcessRemedy(excess_cents)
    return ExcessRemedy(excess_cents - moved, moved, target.code,
                        committee.limit_scope(target.code, when), committee.local_date(when),
                        ceiling(committee.limit_cents, moved))


def redesignation_notice(donation: Donation, remedy: ExcessRemedy, now: datetime) -> OutboxMessage:
    """The donor's email the same day (transactional), with the link to ask for a refund of
    the redesignated amount instead."""
    return OutboxMessage(f"{REDESIGNATION_NOTICE}#{donation.donation_id}", REDESIGNATION_NOTICE, now, {
        "donation_id": donation.donation_id, "amount_cents": remedy.redesignate_cents,
        "from_election": donation.election, "to_election": remedy.to_election,
        "refund_cents": remedy.refund_cents})


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


def undo_redesignation(donation: Donation, now: datetime) -> Undo:
    """The refund of a presumed redesignation the donor asked for (Conflict when there is
    none standing, or nothing left to refund, or the 60 days are over)."""
    if donation.redesignation_status != PRESUMED or not donation.redesignated_cents:
        raise Conflict("not_redesignated", "Nothing of this contribution is redesignated any more.")
    state = donation.state
    if (not state.paid or not donation.payment_intent_id or state.dispute in ("open", "lost")
            or state.amount_cents - max(state.refunded_cents, donation.excess_refund_cents)
            < donation.redesignated_cents):
        raise Conflict("not_refundable", "This contribution has no money left to refund.")
    if now > refund_deadline(donation):
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
