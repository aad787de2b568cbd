"""The ledger adapter: our donations, their money movements and Stripe's fees as the filing
domain's transactions (`filing.model`), in local dates of the committee's time zone.

Each movement becomes one transaction under an id derived from our own ids, so every rebuild
(and every amendment) gives the same ids:
- a contribution: a `Receipt` (`SA` + the donation id, as the Schedule A export names it);
- a refund: a `Refund` (`SB` + the movement id); the donation's excess refund is the first
  refund that fits in `excess_refund_cents`;
- a dispute (chargeback): a `ReturnedContribution` (`SA` + the movement id);
- a dispute won back: a `Receipt` of the money that came back (`SA` + the movement id);
- Stripe's fee on any of them, once its payout is reconciled: a `ProcessingFee`;
- a standing presumptive redesignation (part of the gift counted for the next election, on the
  committee's local day `redesignated_on`): a `Redesignation`, whose memo entries the report of
  that day carries (`REDESIGNATION TO GENERAL` / `REDESIGNATION FROM PRIMARY`);
- a confirmed reattribution (part of the gift attributed to another holder of the card account,
  on the committee's local day `reattributed_on`): a `Reattribution`, whose memo entries the
  report of that day carries (`REATTRIBUTION TO …` / `REATTRIBUTION FROM …`); from that day the
  amount counts in the other person's aggregate, not the donor's;
- a best-efforts answer (employer and occupation received after the gift, on the committee's
  local day `best_efforts_answered_on`): a `BestEffortsAnswer`, which the report of the answer's
  day carries as a memo entry when the gift was in an earlier report.
A donor's aggregate is the signed sum of their movements in the aggregation period (the
election cycle or the calendar year), through this one, as the itemization rule reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol, get_args
from zoneinfo import ZoneInfo

from chalicelib.errors import Conflict
from chalicelib.exports.fec import contributor
from chalicelib.exports.model import DonationFacts, LedgerMovement
from chalicelib.exports.service import DONATIONS_PER_READ, chunks
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import (
    Address,
    BestEffortsAnswer,
    FilingCommittee,
    Organization,
    ProcessingFee,
    Reattribution,
    Receipt,
    ReceiptMethod,
    Redesignation,
    Refund,
    ReturnedContribution,
    Transaction,
)
from chalicelib.giving.model import Conduit


class Ledger(Protocol):
    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterable[LedgerMovement]:
        """A committee's movements with `start <= occurred_at < end`, in time order."""
        ...

    def donations(self, donation_ids: Collection[str]) -> dict[str, DonationFacts]: ...


class DonationMissing(Conflict):
    """A movement whose donation cannot be read: the report would be incomplete."""


def day_start(committee: FilingCommittee, day: date) -> datetime:
    """The instant `day` begins in the committee's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(committee.time_zone))


def transactions(committee: FilingCommittee, ledger: Ledger, first_day: date,
                 last_day: date) -> list[Transaction]:
    """Every transaction of the committee's local days `first_day` through `last_day`."""
    start, end = day_start(committee, first_day), day_start(committee, last_day + timedelta(days=1))
    totals: dict[tuple[str, date], int] = defaultdict(int)
    excess_left: dict[str, int] = {}
    waiting: Waiting = []  # reattributions, placed in the ledger on the day they were made
    placed: dict[str, tuple[Key, int]] = {}  # gift → the other person's period and cents
    kept: dict[str, int] = defaultdict(int)  # what each gift still holds, in ledger order
    out: list[Transaction] = []
    for chunk in chunks(ledger.movements(committee.fec_id, start, end), DONATIONS_PER_READ):
        donations = ledger.donations({m.donation_id for m in chunk})
        for movement in chunk:
            donation = donations.get(movement.donation_id)
            if donation is None:
                raise DonationMissing("donation_missing", f"Movement {movement.movement_id} has no "
                                      f"donation {movement.donation_id}.")
            day = committee.local_date(movement.occurred_at)
            out.extend(_moved(waiting, totals, placed, before=day))
            period = (movement.donor_id, committee.aggregation_start(day))
            # Money leaving a reattributed gift comes off the donor's own part first, then the
            # other person's (as `giving.service.reattributed_share` has the aggregates do).
            before, kept[movement.donation_id] = (kept[movement.donation_id],
                                                  kept[movement.donation_id] + movement.amount_cents)
            theirs = 0
            if movement.donation_id in placed:
                to, cents = placed[movement.donation_id]
                theirs = (min(cents, max(kept[movement.donation_id], 0)) - min(cents, max(before, 0)))
                totals[to] += theirs
            totals[period] += movement.amount_cents - theirs
            for txn in _transactions(committee, movement, donation, day, totals[period], excess_left):
                if isinstance(txn, Reattribution) and donation.reattributed_donor_id:
                    waiting.append((txn, period, (donation.reattributed_donor_id, period[1]),
                                    movement.donation_id))
                else:
                    out.append(txn)
    out.extend(_moved(waiting, totals, placed, before=None))
    return out


Key = tuple[str, date]  # a donor's aggregation period
Waiting = list[tuple[Reattribution, Key, Key, str]]


def _moved(waiting: Waiting, totals: dict[Key, int], placed: dict[str, tuple[Key, int]],
           before: date | None) -> list[Transaction]:
    """The reattributions made before the local day `before` (all of them when None), in the
    order made: from then the amount leaves the donor's aggregate and joins the other person's
    (in the gift's aggregation period), and each memo carries both aggregates after the move."""
    due = sorted((w for w in waiting if before is None or w[0].date < before), key=lambda w: w[0].date)
    done: list[Transaction] = []
    for entry in due:
        waiting.remove(entry)
        txn, theirs_from, theirs_to, donation_id = entry
        totals[theirs_from] -= txn.amount_cents
        totals[theirs_to] += txn.amount_cents
        placed[donation_id] = (theirs_to, txn.amount_cents)
        done.append(replace(txn, from_aggregate_cents=totals[theirs_from],
                            to_aggregate_cents=totals[theirs_to]))
    return done


def _transactions(committee: FilingCommittee, movement: LedgerMovement, donation: DonationFacts,
                  day: date, aggregate: int, excess_left: dict[str, int]) -> Iterator[Transaction]:
    person = contributor(donation.donor)
    election = donation.election or movement.election
    received = committee.local_date(donation.paid_at) if donation.paid_at else day
    cents = movement.amount_cents
    if movement.kind == "contribution":
        receipt = Receipt(transaction_id("SA", movement.donation_id), day, cents, person, aggregate,
                          election, method=_method(donation.method),
                          in_kind_description=donation.in_kind_description,
                          conduit=_organization(donation.conduit))
        yield receipt
        if donation.redesignated_cents and donation.redesignated_to and donation.redesignated_on:
            yield Redesignation(transaction_id("SA", f"{movement.donation_id}#redesignation"),
                                donation.redesignated_on, receipt, donation.redesignated_cents,
                                election, donation.redesignated_to)
        if donation.reattributed_cents and donation.reattributed_to and donation.reattributed_on:
            yield Reattribution(transaction_id("SA", f"{movement.donation_id}#reattribution"),
                                donation.reattributed_on, receipt, donation.reattributed_cents,
                                contributor(donation.reattributed_to), aggregate, 0)
        answered = donation.best_efforts_answered_on
        if answered is not None:  # the donor's facts hold the answer (see compliance.best_efforts)
            yield BestEffortsAnswer(transaction_id("SA", f"{movement.donation_id}#best_efforts"),
                                    answered, receipt, person.employer or "", person.occupation or "")
    elif movement.kind == "dispute_reversal":
        yield Receipt(transaction_id("SA", movement.movement_id), day, cents, person, aggregate,
                      election)
    elif movement.kind == "dispute":
        yield ReturnedContribution(transaction_id("SA", movement.movement_id), day, -cents, person,
                                   aggregate, received, election, "chargeback")
    elif movement.kind == "refund":
        left = excess_left.setdefault(donation.donation_id, donation.excess_refund_cents)
        excess = 0 < -cents <= left
        if excess:
            excess_left[donation.donation_id] = left + cents
        yield Refund(transaction_id("SB", movement.movement_id), day, -cents, person, received,
                     election, excess=excess)
    if movement.fee_cents:
        yield ProcessingFee(transaction_id("SB", f"{movement.movement_id}#fee"), day,
                            movement.fee_cents)


def _organization(conduit: Conduit | None) -> Organization | None:
    """The conduit of an earmarked gift as the filing's organization."""
    if conduit is None:
        return None
    return Organization(conduit.name, Address(conduit.address_line1, conduit.city, conduit.state,
                                              conduit.zip, conduit.address_line2), conduit.fec_id)


_METHODS: dict[str, ReceiptMethod] = {m: m for m in get_args(ReceiptMethod)}


def _method(method: str) -> ReceiptMethod:
    """The filing's receipt method of a donation's (`online` for one it does not know)."""
    return _METHODS.get(method, "online")
