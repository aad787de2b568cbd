"""What a donation's payment events mean for the money, as a pure, order-free merge.

Stripe delivers events at least once and in any order (a refund can arrive before the success).
Each event is turned into a `Fact`; a donation's `PaymentState` is the merge of all facts seen.
The merge is monotonic (paid never becomes unpaid, refunds only grow since `amount_refunded` is
cumulative, a closed dispute outranks an open one), so it is idempotent and commutative: any
delivery order converges to the same state. Totals are a function of the state, and storage
applies `totals(new) - totals(old)`, so page and donor sums always equal the sum over donations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["pending", "succeeded", "failed", "refunded", "disputed"]
DisputeState = Literal["none", "open", "won", "lost"]
# A closed dispute outranks an open one; should both outcomes ever be seen for one charge,
# `lost` wins, so the merge stays order-free and never counts money the campaign may not keep.
_DISPUTE_RANK: dict[str, int] = {"none": 0, "open": 1, "won": 2, "lost": 3}


@dataclass(frozen=True)
class PaymentState:
    """Everything known about a donation's payment, merged from its events."""

    amount_cents: int
    paid: bool = False
    failed: bool = False
    refunded_cents: int = 0
    dispute: DisputeState = "none"

    @property
    def status(self) -> Status:
        if self.dispute in ("open", "lost"):
            return "disputed"
        if self.paid and self.refunded_cents >= self.amount_cents:
            return "refunded"
        if self.paid:
            return "succeeded"
        if self.failed:
            return "failed"
        return "pending"

    @property
    def counted_cents(self) -> int:
        """Money this donation adds to its page and donor totals (net of refunds)."""
        if self.status in ("succeeded", "refunded"):
            return max(self.amount_cents - self.refunded_cents, 0)
        return 0

    @property
    def counted_contributions(self) -> int:
        """1 while the donation counts as a contribution on the thermometer."""
        return 1 if self.status == "succeeded" else 0


@dataclass(frozen=True)
class Fact:
    """One thing an event tells us. `kind` is one of the event kinds below."""

    kind: Literal["paid", "failed", "refunded", "dispute_opened", "dispute_closed"]
    refunded_cents: int = 0
    dispute_outcome: DisputeState = "none"


def merge(state: PaymentState, fact: Fact) -> PaymentState:
    """The state after learning `fact`; merging the same fact twice changes nothing."""
    if fact.kind == "failed":
        return replace(state, failed=True)
    # Every other fact implies the money moved: a refund or a dispute needs a paid charge.
    state = replace(state, paid=True)
    if fact.kind == "refunded":
        return replace(state, refunded_cents=max(state.refunded_cents, fact.refunded_cents))
    if fact.kind == "dispute_opened":
        return replace(state, dispute=_higher(state.dispute, "open"))
    if fact.kind == "dispute_closed":
        return replace(state, dispute=_higher(state.dispute, fact.dispute_outcome))
    return state


def _higher(current: DisputeState, new: DisputeState) -> DisputeState:
    return new if _DISPUTE_RANK[new] > _DISPUTE_RANK[current] else current


@dataclass(frozen=True)
class TotalsDelta:
    """What to add to the page's and the donor's counters for one state change."""

    cents: int
    contributions: int

    @property
    def is_zero(self) -> bool:
        return self.cents == 0 and self.contributions == 0


def totals_delta(old: PaymentState, new: PaymentState) -> TotalsDelta:
    return TotalsDelta(
        cents=new.counted_cents - old.counted_cents,
        contributions=new.counted_contributions - old.counted_contributions,
    )


MovementKind = Literal["contribution", "refund", "dispute", "dispute_reversal"]


@dataclass(frozen=True)
class Movement:
    """Money moving for one donation, signed from the campaign's side (+ in, - out)."""

    kind: MovementKind
    cents: int


def _components(state: PaymentState) -> dict[MovementKind, int]:
    """`counted_cents` split by cause; each movement is the change in one component."""
    paid = state.amount_cents if state.paid else 0
    at_stake = paid - state.refunded_cents if state.paid else 0
    return {
        "contribution": paid,
        "refund": -state.refunded_cents if state.paid else 0,
        "dispute": -at_stake if state.dispute != "none" else 0,
        "dispute_reversal": at_stake if state.dispute == "won" else 0,
    }


def movements(old: PaymentState, new: PaymentState) -> list[Movement]:
    """The money movements a state change stands for. They telescope: summed over a donation's
    life they equal `counted_cents`, so a ledger of movements reconciles with the totals."""
    before, after = _components(old), _components(new)
    return [Movement(kind, after[kind] - before[kind]) for kind in after if after[kind] != before[kind]]
