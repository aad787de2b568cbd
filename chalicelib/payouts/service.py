"""Payout reconciliation: the webhook acknowledges, a job (off the webhook path) explains.

`acknowledge` puts the payout's id on the payouts queue, then writes the event's marker and the
payout's record in one transaction: a duplicate event finds the marker and writes nothing, and
a queue failure answers 503 before anything is written, so Stripe delivers again. The job
(`reconcile`) asks Stripe for the payout and its balance transactions and records, for each
transaction, its fee, net and payout on the one movement it matches (a conditional write
keyed by the transaction, so a second run finds the work done and changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.clock import utcnow
from chalicelib.errors import NotFound
from chalicelib.paging import Slice
from chalicelib.payouts.model import (
    BalanceTxn,
    Line,
    PaidMovement,
    PayoutEvent,
    PayoutFacts,
    PayoutRecord,
    Reconciliation,
    line_kind,
    pick,
    reconcile,
)

MATCH_ATTEMPTS = 3  # a movement taken by a concurrent run is skipped, then the next tried
# A payout left unreconciled (a webhook for one of its charges came late) is tried again by the
# hourly `recheck_payouts` for this long.
RECHECK_FOR = timedelta(days=30)
RECHECK_SCAN = 500


class PayoutStore(Protocol):
    def record_event(self, event: PayoutEvent, now: datetime) -> bool:
        """The marker and the payout's record in one transaction; False if already processed."""
        ...

    def donation_for_intent(self, payment_intent_id: str) -> str | None: ...
    def movements_of(self, donation_id: str) -> list[PaidMovement]: ...

    def record_payout(self, movement_id: str, txn: BalanceTxn, payout_id: str) -> bool:
        """Fee, net and payout on the movement, unless another transaction has it."""
        ...

    def record_return(self, failed_payout_id: str, returned_in: str) -> bool:
        """A failed payout's money left again in `returned_in`; False if we do not know it."""
        ...

    def save(self, payout: PayoutFacts, result: Reconciliation, now: datetime) -> None: ...
    def get(self, payout_id: str) -> PayoutRecord | None: ...
    def recent(self, limit: int) -> list[PayoutRecord]:
        """The newest payouts first."""
        ...

    def newest(self, limit: int, after: str | None) -> Slice[PayoutRecord]:
        """The newest payouts first, a page at a time (an index, not a scan)."""
        ...

    def between(self, start: datetime, end: datetime) -> list[PayoutRecord]:
        """Payouts created in [start, end), oldest first (the ledger export)."""
        ...


class PayoutSource(Protocol):
    """Stripe, as reconciliation reads it."""

    def retrieve_payout(self, payout_id: str) -> PayoutFacts: ...
    def payout_balance_transactions(self, payout_id: str) -> Iterable[BalanceTxn]: ...


class PayoutQueue(Protocol):
    def send(self, payout_id: str) -> None: ...


@dataclass(frozen=True)
class Outcome:
    applied: bool

    @property
    def value(self) -> str:
        return "applied" if self.applied else "duplicate"



class PayoutService:
    def __init__(self, store: PayoutStore, stripe: Callable[[], PayoutSource], queue: PayoutQueue,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self._stripe = stripe  # built only by the job: the webhook never calls Stripe
        self.queue = queue
        self.clock = clock

    # --- the webhook ----------------------------------------------------------------------
    def acknowledge(self, event: PayoutEvent) -> Outcome:
        self.queue.send(event.payout.payout_id)
        return Outcome(self.store.record_event(event, self.clock()))

    # --- the job --------------------------------------------------------------------------
    def reconcile(self, payout_id: str) -> Reconciliation:
        stripe = self._stripe()
        payout = stripe.retrieve_payout(payout_id)
        lines = [self._line(payout_id, txn) for txn in stripe.payout_balance_transactions(payout_id)
                 if not (txn.type == "payout" and txn.source_id == payout_id)]
        result = reconcile(payout, lines)
        self.store.save(payout, result, self.clock())
        return result

    def recheck(self) -> list[str]:
        """Queue the recent payouts that did not reconcile (or whose job never finished), so a
        movement recorded after the job ran (a late webhook) is matched without anyone asking."""
        since = self.clock() - RECHECK_FOR
        due = [r.facts.payout_id for r in self.store.recent(RECHECK_SCAN)
               if not r.reconciled and r.facts.status != "failed" and r.facts.created_at >= since]
        for payout_id in due:
            self.queue.send(payout_id)
        return due

    def _line(self, payout_id: str, txn: BalanceTxn) -> Line:
        kind = line_kind(txn)
        if kind is None:
            return Line(txn, None, reason=f"not a donation's money ({txn.type})")
        if kind == "payout_failure":
            if txn.source_id and self.store.record_return(txn.source_id, payout_id):
                return Line(txn, kind)
            return Line(txn, kind, reason="a returned payout this backend has no record of")
        if not txn.payment_intent_id:
            return Line(txn, kind, reason="no payment intent on the transaction's source")
        donation_id = self.store.donation_for_intent(txn.payment_intent_id)
        if donation_id is None:
            return Line(txn, kind, reason="no donation for this payment")
        candidates = self.store.movements_of(donation_id)
        for _ in range(MATCH_ATTEMPTS):
            movement = pick(txn, kind, candidates)
            if movement is None:
                break
            if self.store.record_payout(movement.movement_id, txn, payout_id):
                return Line(txn, kind, movement.movement_id, donation_id)
            candidates = [c for c in candidates if c.movement_id != movement.movement_id]
        return Line(txn, kind, donation_id=donation_id,
                    reason=f"no {kind.replace('_', ' ')} of {txn.amount_cents} cents recorded "
                           "for this donation")

    # --- staff views ----------------------------------------------------------------------
    def view(self, payout_id: str) -> PayoutRecord:
        payout = self.store.get(payout_id)
        if payout is None:
            raise NotFound("payout_not_found", f"No payout '{payout_id}'.")
        return payout

    def recent(self, limit: int) -> list[PayoutRecord]:
        return self.store.recent(limit)

    def page(self, limit: int, after: str | None = None) -> Slice[PayoutRecord]:
        return self.store.newest(limit, after)
