"""Payouts in DynamoDB: the payouts table, and fees, nets and payout ids on the movements."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.paging import Slice
from chalicelib.payouts.model import (
    BalanceTxn,
    PaidMovement,
    PayoutEvent,
    PayoutFacts,
    PayoutRecord,
    Reconciliation,
)
from chalicelib.storage import paging
from chalicelib.storage.donations import MARKER_TTL, TaggedWrite
from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import DonationModel, MovementModel, PayoutModel, ProcessedEventModel


class PayoutRepository:
    def __init__(self, region: str) -> None:
        self._connection = Connection(region=region)

    # --- the webhook ----------------------------------------------------------------------
    def record_event(self, event: PayoutEvent, now: datetime) -> bool:
        """The event's marker and the payout's record, in one transaction. Stripe's facts about
        a payout never change but its status, which only the job (reading Stripe) overwrites,
        so events in any order leave the same record."""
        p, m = event.payout, PayoutModel
        marker = ProcessedEventModel(event.event_id, type=event.type, processed_at=now,
                                     expires_at=now + MARKER_TTL)
        tx = TaggedWrite(self._connection)
        tx.save("marker", marker, condition=ProcessedEventModel.event_id.does_not_exist())
        actions = [
            m.amount_cents.set(p.amount_cents), m.currency.set(p.currency),
            m.arrival_date.set(p.arrival_date), m.created_at.set(p.created_at),
            m.status.set(m.status | p.status), m.last_event_id.set(event.event_id),
            m.requested_at.set(now), m.listing.set("payouts"),
        ]
        if event.type == "payout.failed":
            actions.append(m.failed_at.set(m.failed_at | event.occurred_at))
        tx.update("payout", PayoutModel(p.payout_id), actions)
        try:
            tx.commit()
        except TransactWriteError as exc:
            if "marker" in tx.failed(exc):  # the only condition: the event was processed
                return False
            raise
        return True

    # --- the job --------------------------------------------------------------------------
    def donation_for_intent(self, payment_intent_id: str) -> str | None:
        for found in DonationModel.by_payment_intent.query(
                payment_intent_id, limit=1, attributes_to_get=["donation_id"]):
            return str(found.donation_id)
        return None

    def movements_of(self, donation_id: str) -> list[PaidMovement]:
        return [
            PaidMovement(m.movement_id, m.donation_id, m.kind, int(m.amount_cents),
                         m.occurred_at.astimezone(timezone.utc), m.balance_transaction_id)
            for m in MovementModel.by_donation.query(donation_id)
        ]

    def record_payout(self, movement_id: str, txn: BalanceTxn, payout_id: str) -> bool:
        m = MovementModel
        try:
            MovementModel(movement_id).update(
                actions=[m.fee_cents.set(txn.fee_cents), m.net_cents.set(txn.net_cents),
                         m.payout_id.set(payout_id), m.balance_transaction_id.set(txn.txn_id)],
                condition=m.movement_id.exists() & (m.balance_transaction_id.does_not_exist()
                                                    | (m.balance_transaction_id == txn.txn_id)))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def record_return(self, failed_payout_id: str, returned_in: str) -> bool:
        m = PayoutModel
        try:
            PayoutModel(failed_payout_id).update(actions=[m.returned_in.set(returned_in)],
                                                 condition=m.payout_id.exists())
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def save(self, payout: PayoutFacts, result: Reconciliation, now: datetime) -> None:
        m = PayoutModel
        actions: list[Any] = [
            m.amount_cents.set(payout.amount_cents), m.currency.set(payout.currency),
            m.arrival_date.set(payout.arrival_date), m.created_at.set(payout.created_at),
            m.status.set(payout.status), m.reconciled.set(result.reconciled),
            m.reconciled_at.set(now), m.summary.set(result.summary),
            m.unmatched.set(result.unmatched), m.listing.set("payouts"),
        ]
        if payout.status == "failed":
            actions += [m.failure_code.set(payout.failure_code or "unknown"),
                        m.failure_message.set(payout.failure_message or ""),
                        m.failed_at.set(m.failed_at | now)]
        PayoutModel(payout.payout_id).update(actions=actions)

    # --- views ----------------------------------------------------------------------------
    def get(self, payout_id: str) -> PayoutRecord | None:
        try:
            return _record(PayoutModel.get(payout_id, consistent_read=True))
        except DoesNotExist:
            return None

    def recent(self, limit: int) -> list[PayoutRecord]:
        # A campaign's account pays out about once a day: a few hundred items a year.
        records = [_record(item) for item in PayoutModel.scan()]
        records.sort(key=lambda r: (r.facts.created_at, r.facts.payout_id), reverse=True)
        return records[:limit]

    def newest(self, limit: int, after: str | None) -> Slice[PayoutRecord]:
        start = paging.decode(after, ["payout_id", "listing", "created_at"])
        found = PayoutModel.by_creation.query("payouts", limit=limit, last_evaluated_key=start,
                                              scan_index_forward=False)
        items = [_record(i) for i in found]
        return Slice(items, paging.encode(found.last_evaluated_key))

    def between(self, start: datetime, end: datetime) -> list[PayoutRecord]:
        records = [_record(item) for item in PayoutModel.scan(PayoutModel.created_at < end)]
        records = [r for r in records
                   if r.facts.created_at >= start or (r.failed_at and r.failed_at >= start)]
        records.sort(key=lambda r: (r.facts.created_at, r.facts.payout_id))
        return records


def _record(item: PayoutModel) -> PayoutRecord:
    utc = timezone.utc
    facts = PayoutFacts(item.payout_id, int(item.amount_cents), item.currency, item.status,
                        item.arrival_date.astimezone(utc), item.created_at.astimezone(utc),
                        item.failure_code, item.failure_message)
    return PayoutRecord(
        facts, item.failed_at.astimezone(utc) if item.failed_at else None, item.returned_in,
        item.reconciled_at.astimezone(utc) if item.reconciled_at else None,
        bool(item.reconciled), item.summary, list(item.unmatched or []))
