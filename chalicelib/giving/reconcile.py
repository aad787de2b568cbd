"""Finding donations stuck in `pending` and settling them from Stripe's own record.

A webhook that never arrived is not money lost: a scheduled job asks Stripe for each stale
donation's PaymentIntent and applies what it finds through the same exactly-once path as the
webhook (synthetic event ids, so a late real event merges harmlessly). An intent still
unconfirmed when its reservation expires (`RESERVATION_MINUTES`, 30 by default) is cancelled at
Stripe, and the failure then releases the reservation through that same exactly-once path: a
reservation nobody confirms cannot hold a donor's limit for long.

Each run asks about at most `limit` donations, fairly across the pending index's shards, the
ones checked longest ago first; a donation still waiting is marked checked, so the next runs
page past it to the others. A flood of abandoned intakes cannot hold the reconciler on the same
donations run after run, nor keep it from the shards after the flooded one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Fact
from chalicelib.giving.model import Donation
from chalicelib.giving.service import EventOutcome, GivingService


@dataclass(frozen=True)
class IntentStatus:
    status: str  # Stripe's PaymentIntent status
    charge_id: str | None = None


class IntentLookup(Protocol):
    def payment_intent_status(self, payment_intent_id: str) -> IntentStatus: ...
    def cancel_payment_intent(self, payment_intent_id: str, idempotency_key: str) -> IntentStatus: ...


class PendingSource(Protocol):
    def stale_pending(self, checked_before: datetime, limit: int) -> list[Donation]: ...
    def mark_checked(self, donation_id: str, when: datetime) -> None: ...


@dataclass
class ReconcileReport:
    checked: int = 0
    settled: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.settled[what] = self.settled.get(what, 0) + 1


class Reconciler:
    def __init__(self, giving: GivingService, pending: PendingSource, stripe: IntentLookup,
                 clock: Callable[[], datetime], stale_after: timedelta = timedelta(minutes=15),
                 expire_after: timedelta = timedelta(minutes=30)) -> None:
        self.giving = giving
        self.pending = pending
        self.stripe = stripe
        self.clock = clock
        self.stale_after = stale_after
        self.expire_after = expire_after

    def run(self, limit: int = 200) -> ReconcileReport:
        now = self.clock()
        report = ReconcileReport()
        # A reservation shorter than the staleness wait still expires on time.
        checked_before = now - min(self.stale_after, self.expire_after)
        for donation in self.pending.stale_pending(checked_before, limit):
            report.checked += 1
            outcome = self._settle(donation, now)
            if outcome == "waiting":  # look again after the others had their turn
                self.pending.mark_checked(donation.donation_id, self._checked_as_of(donation, now))
            report.count(outcome)
        return report

    def _checked_as_of(self, donation: Donation, now: datetime) -> datetime:
        """The check time to record for a donation still waiting: now, except that one whose
        reservation has yet to expire is recorded early enough to come up again right when it
        does (a check is due `min(stale_after, expire_after)` after the recorded time)."""
        expires = donation.created_at + self.expire_after
        if expires <= now:
            return now
        return min(now, expires - min(self.stale_after, self.expire_after))

    def _settle(self, donation: Donation, now: datetime) -> str:
        expired = donation.created_at <= now - self.expire_after
        if not donation.payment_intent_id:
            # Intake never reached Stripe (an outage); nothing can be charged any more.
            return self._apply(donation, "abandoned", Fact("failed"), None, now) if expired else "waiting"
        intent = self.stripe.payment_intent_status(donation.payment_intent_id)
        if intent.status == "succeeded":
            return self._apply(donation, "succeeded", Fact("paid"), intent.charge_id, now)
        if intent.status == "canceled":
            return self._apply(donation, "canceled", Fact("failed"), None, now)
        if expired and intent.status in ("requires_payment_method", "requires_confirmation",
                                         "requires_action"):
            cancelled = self.stripe.cancel_payment_intent(
                donation.payment_intent_id, f"groundswell-expire-{donation.donation_id}")
            if cancelled.status == "succeeded":  # it went through after all
                return self._apply(donation, "succeeded", Fact("paid"), cancelled.charge_id, now)
            return self._apply(donation, "canceled", Fact("failed"), None, now)
        return "waiting"

    def _apply(self, donation: Donation, what: str, fact: Fact, charge_id: str | None,
               now: datetime) -> str:
        event = PaymentEvent(
            event_id=f"reconcile:{donation.donation_id}:{what}", type=f"reconcile.{what}",
            fact=fact, donation_id=donation.donation_id,
            payment_intent_id=donation.payment_intent_id, occurred_at=now, charge_id=charge_id,
        )
        outcome = self.giving.apply_event(event)
        return what if outcome is EventOutcome.APPLIED else outcome.value
