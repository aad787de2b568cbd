"""Payouts as plain data, and how a payout's balance transactions are matched to our movements.

A Stripe payout sweeps balance transactions: a charge (+gross, Stripe's fee), a refund (-, no
fee), a dispute withdrawal (-, the dispute fee) and its reversal (+, the fee back), a failed
earlier payout coming back. Each one that is a donation's money matches exactly one of our
movements (same donation, same kind, same gross); the payout reconciles when every transaction
matched and the matched nets add up to the payout's amount to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from chalicelib.errors import InvalidInput
from chalicelib.giving.events import str_or_id

LineKind = Literal["contribution", "refund", "dispute", "dispute_reversal", "payout_failure"]
# How the payout's view groups its lines (a dispute and its reversal are both "disputes").
GROUP: dict[str, str] = {
    "contribution": "contributions", "refund": "refunds", "dispute": "disputes",
    "dispute_reversal": "disputes", "payout_failure": "returned_payouts",
}
GROUPS = ("contributions", "refunds", "disputes", "returned_payouts", "other")


@dataclass(frozen=True)
class PayoutEvent:
    """A verified `payout.paid` or `payout.failed` event."""

    event_id: str
    type: str
    payout: PayoutFacts
    occurred_at: datetime


@dataclass(frozen=True)
class PayoutFacts:
    """A payout as Stripe describes it."""

    payout_id: str
    amount_cents: int
    currency: str
    status: str
    arrival_date: datetime
    created_at: datetime
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class PayoutRecord:
    """A payout as we keep it: Stripe's facts, then what reconciliation found (None before)."""

    facts: PayoutFacts
    failed_at: datetime | None = None
    returned_in: str | None = None
    reconciled_at: datetime | None = None
    reconciled: bool = False
    summary: dict[str, Any] | None = None
    unmatched: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BalanceTxn:
    """One balance transaction of a payout; `payment_intent_id` from its expanded source."""

    txn_id: str
    type: str
    amount_cents: int
    fee_cents: int
    net_cents: int
    source_id: str | None
    payment_intent_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class PaidMovement:
    """One of our movements as reconciliation sees it."""

    movement_id: str
    donation_id: str
    kind: str
    amount_cents: int
    occurred_at: datetime
    balance_transaction_id: str | None = None


@dataclass(frozen=True)
class Line:
    """What reconciliation made of one balance transaction."""

    txn: BalanceTxn
    kind: LineKind | None
    movement_id: str | None = None
    donation_id: str | None = None
    reason: str | None = None  # why it did not match

    @property
    def matched(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Reconciliation:
    """A payout explained: counts and sums by group, and what could not be explained."""

    summary: dict[str, Any]
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    reconciled: bool = False


def line_kind(txn: BalanceTxn) -> LineKind | None:
    """Which of our movement kinds a balance transaction stands for, if any."""
    if txn.type in ("charge", "payment"):
        return "contribution"
    if txn.type in ("refund", "payment_refund"):
        return "refund"
    if txn.type == "adjustment" and (txn.source_id or "").startswith(("dp_", "du_")):
        return "dispute" if txn.amount_cents < 0 else "dispute_reversal"
    if txn.type == "payout_failure":
        return "payout_failure"
    return None


def pick(txn: BalanceTxn, kind: str, candidates: Iterable[PaidMovement]) -> PaidMovement | None:
    """The movement this transaction pays out: the one already matched to it (a job run again),
    else the oldest unmatched one of the same kind and gross."""
    free = None
    for movement in sorted(candidates, key=lambda m: (m.occurred_at, m.movement_id)):
        if movement.balance_transaction_id == txn.txn_id:
            return movement
        if (free is None and movement.balance_transaction_id is None and movement.kind == kind
                and movement.amount_cents == txn.amount_cents):
            free = movement
    return free


def reconcile(payout: PayoutFacts, lines: Sequence[Line]) -> Reconciliation:
    """Counts and sums by group over the payout's lines; reconciled when every line matched and
    their nets sum to the payout's amount."""
    groups = {name: {"count": 0, "gross_cents": 0, "fee_cents": 0, "net_cents": 0} for name in GROUPS}
    unmatched = []
    matched_net = 0
    for line in lines:
        txn = line.txn
        group = groups[GROUP[line.kind] if line.kind and line.matched else "other"]
        group["count"] += 1
        group["gross_cents"] += txn.amount_cents
        group["fee_cents"] += txn.fee_cents
        group["net_cents"] += txn.net_cents
        if line.matched:
            matched_net += txn.net_cents
        else:
            unmatched.append({
                "balance_transaction_id": txn.txn_id, "type": txn.type, "source": txn.source_id,
                "donation_id": line.donation_id, "amount_cents": txn.amount_cents,
                "fee_cents": txn.fee_cents, "net_cents": txn.net_cents, "reason": line.reason,
            })
    summary = {
        **groups,
        "balance_transactions": len(lines),
        "fees_cents": sum(line.txn.fee_cents for line in lines),
        "matched_net_cents": matched_net,
    }
    return Reconciliation(summary, unmatched, not unmatched and matched_net == payout.amount_cents)


def read_payout_event(event: dict[str, Any]) -> PayoutEvent:
    """A verified event of a type in `PAYOUT_EVENT_TYPES` (already checked by `read_event`)."""
    obj = event["data"]["object"]
    return PayoutEvent(event["id"], event["type"], read_payout(obj),
                       _time(event.get("created"), "created"))


def read_payout(obj: Any) -> PayoutFacts:
    """A Stripe payout object (from an event or `GET /v1/payouts/{id}`)."""
    if not isinstance(obj, dict) or obj.get("object") != "payout":
        raise InvalidInput("not_an_event", "The event's object is not a payout.")
    payout_id, amount, currency, status = (obj.get(k) for k in ("id", "amount", "currency", "status"))
    if (not isinstance(payout_id, str) or not payout_id or not isinstance(amount, int)
            or not isinstance(currency, str) or not isinstance(status, str)):
        raise InvalidInput("not_an_event", "The payout lacks an id, an amount, a currency or a status.")
    return PayoutFacts(payout_id, amount, currency, status,
                       _time(obj.get("arrival_date"), "arrival_date"), _time(obj.get("created"), "created"),
                       str_or_id(obj.get("failure_code")), str_or_id(obj.get("failure_message")))


def read_balance_transaction(obj: Any) -> BalanceTxn:
    """A balance transaction listed with `expand[]=data.source`."""
    source = obj.get("source")
    intent = source.get("payment_intent") if isinstance(source, dict) else None
    return BalanceTxn(str(obj["id"]), str(obj["type"]), int(obj["amount"]), int(obj["fee"]),
                      int(obj["net"]), str_or_id(source), str_or_id(intent),
                      _time(obj.get("created"), "created"))


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 253402300800:
        raise InvalidInput("not_an_event", f"The payout's `{name}` is not a time.")
    return datetime.fromtimestamp(value, timezone.utc)
