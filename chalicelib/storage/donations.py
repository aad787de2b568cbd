"""Donations, donors, aggregates and page counters in DynamoDB, with the one transaction that
applies a Stripe event exactly once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactGetError, TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Movement, PaymentState, TotalsDelta, movements
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.giving.service import EventOutcome, StaleRead
from chalicelib.outbox.model import OutboxMessage
from chalicelib.storage.models import (
    CounterShardModel,
    DonationModel,
    DonorAggregateModel,
    DonorFields,
    DonorModel,
    MovementModel,
    ProcessedEventModel,
)
from chalicelib.storage.outbox import OutboxRepository

# Stripe retries a webhook for up to three days; markers outlive that, then expire by TTL.
MARKER_TTL = timedelta(days=30)
_RETRYABLE_TX = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


def counter_id(page_slug: str, shard: int) -> str:
    return f"page#{page_slug}#{shard}"


def ledger_key(committee_id: str, day: str, shard: int) -> str:
    """The movements index partition for one committee, UTC day and shard."""
    return f"{committee_id}#{day}#{shard}"


def shard_for(donation_id: str, shards: int) -> int:
    """A donation always lands on the same shard, so retries and later events agree."""
    return int(hashlib.sha256(donation_id.encode()).hexdigest()[:8], 16) % shards


class DonationRepository:
    """Everything the giving service stores, behind the domain's vocabulary."""

    def __init__(self, region: str, counter_shards: int, outbox: OutboxRepository,
                 ledger_shards: int = 10) -> None:
        self._connection = Connection(region=region)
        self.counter_shards = counter_shards
        self.ledger_shards = ledger_shards
        self.outbox = outbox

    # --- intake -------------------------------------------------------------------------
    def create_pending(self, donation: Donation) -> Donation | None:
        """Store a new pending donation; if its id exists already, return the stored one."""
        item = _to_item(donation)
        try:
            item.save(condition=DonationModel.donation_id.does_not_exist())
            return None
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        return self.get(donation.donation_id)

    def attach_payment_intent(self, donation_id: str, payment_intent_id: str) -> None:
        DonationModel(donation_id).update(
            actions=[DonationModel.payment_intent_id.set(payment_intent_id)],
            condition=DonationModel.donation_id.exists(),
        )

    def get(self, donation_id: str) -> Donation | None:
        try:
            return _from_item(DonationModel.get(donation_id, consistent_read=True))
        except DoesNotExist:
            return None

    # --- events -------------------------------------------------------------------------
    def load_for_event(self, event: PaymentEvent) -> tuple[Donation | None, bool]:
        """The event's donation and whether the event was already applied.

        With a donation id (payment_intent.* events carry it in metadata) this is one
        TransactGetItems; charge events find their donation through the PaymentIntent index
        (one Query) and learn of a duplicate from the commit's marker condition.
        """
        if event.donation_id:
            try:
                with TransactGet(connection=self._connection) as tx:
                    marker = tx.get(ProcessedEventModel, event.event_id)
                    item = tx.get(DonationModel, event.donation_id)
            except TransactGetError as exc:
                raise StaleRead(str(exc)) from exc
            if _exists(marker):
                return None, True
            return (_from_item(item.get()) if _exists(item) else None), False
        if event.payment_intent_id:
            for found in DonationModel.by_payment_intent.query(event.payment_intent_id, limit=1):
                return _from_item(found), False
        return None, False

    def commit_event(self, event: PaymentEvent, donation: Donation, new_state: PaymentState,
                     delta: TotalsDelta, now: datetime,
                     messages: Sequence[OutboxMessage] = ()) -> EventOutcome:
        """Write the event's marker and all its effects in one transaction."""
        old = donation.state
        marker = ProcessedEventModel(
            event.event_id, type=event.type, donation_id=donation.donation_id,
            processed_at=now, expires_at=now + MARKER_TTL,
        )
        read_version = DonationModel.version == donation.version
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(marker, condition=ProcessedEventModel.event_id.does_not_exist())
                if new_state == old:
                    tx.condition_check(DonationModel, donation.donation_id, condition=read_version)
                else:
                    extra = []
                    if event.charge_id and not donation.charge_id:
                        extra.append(DonationModel.charge_id.set(event.charge_id))
                    if new_state.paid and not old.paid:
                        extra.append(DonationModel.paid_at.set(event.occurred_at))
                    tx.update(DonationModel(donation.donation_id), actions=[*extra,
                        DonationModel.status.set(new_state.status),
                        DonationModel.paid.set(new_state.paid),
                        DonationModel.failed.set(new_state.failed),
                        DonationModel.refunded_cents.set(new_state.refunded_cents),
                        DonationModel.dispute.set(new_state.dispute),
                        DonationModel.version.set(donation.version + 1),
                        DonationModel.updated_at.set(now),
                    ], condition=read_version)
                if new_state.paid and not old.paid:
                    tx.update(DonorModel(donation.donor.donor_id),
                              actions=_donor_upsert(donation.donor, now))
                if not delta.is_zero:
                    scope = f"{donation.committee_id}#{donation.election}"
                    tx.update(DonorAggregateModel(donation.donor.donor_id, scope), actions=[
                        DonorAggregateModel.net_cents.add(delta.cents),
                        DonorAggregateModel.contribution_count.add(delta.contributions),
                    ])
                    shard = shard_for(donation.donation_id, self.counter_shards)
                    tx.update(CounterShardModel(counter_id(donation.page_slug, shard)), actions=[
                        CounterShardModel.raised_cents.add(delta.cents),
                        CounterShardModel.contribution_count.add(delta.contributions),
                    ])
                for moved in movements(old, new_state):
                    tx.save(self._movement(event, donation, moved))
                for message in messages:
                    tx.save(self.outbox.item(message, now))
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return EventOutcome.DUPLICATE
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise StaleRead("donation changed since it was read") from exc
            if exc.cause_response_code in _RETRYABLE_TX or set(reasons) & _RETRYABLE_TX:
                raise StaleRead(exc.cause_response_code or "transaction conflict") from exc
            raise
        return EventOutcome.APPLIED

    def _movement(self, event: PaymentEvent, donation: Donation, moved: Movement) -> MovementModel:
        day = event.occurred_at.strftime("%Y-%m-%d")
        shard = shard_for(event.event_id, self.ledger_shards)
        return MovementModel(
            f"{event.event_id}#{moved.kind}", kind=moved.kind, amount_cents=moved.cents,
            occurred_at=event.occurred_at, donation_id=donation.donation_id,
            donor_id=donation.donor.donor_id, committee_id=donation.committee_id,
            election=donation.election, page_slug=donation.page_slug, event_id=event.event_id,
            ledger_key=ledger_key(donation.committee_id, day, shard),
        )

    # --- reading ------------------------------------------------------------------------
    def donor_aggregate(self, donor_id: str, committee_id: str, election: str) -> tuple[int, int]:
        """(net cents, contribution count) a donor has given to a committee for an election."""
        try:
            agg = DonorAggregateModel.get(donor_id, f"{committee_id}#{election}")
        except DoesNotExist:
            return 0, 0
        return int(agg.net_cents), int(agg.contribution_count)

    def donations_of(self, donor_id: str) -> list[Donation]:
        return [_from_item(i) for i in DonationModel.by_donor.query(donor_id)]


def _exists(future: Any) -> bool:
    try:
        future.get()
    except DoesNotExist:
        return False
    return True


def _donor_upsert(donor: DonorSnapshot, now: datetime) -> list:
    """Keep the donor's record current with what they told us most recently."""
    m = DonorModel
    actions = [
        m.email.set(donor.email), m.first_name.set(donor.first_name),
        m.last_name.set(donor.last_name), m.address_line1.set(donor.address_line1),
        m.city.set(donor.city), m.state.set(donor.state), m.zip.set(donor.zip),
        m.employer.set(donor.employer), m.occupation.set(donor.occupation),
        m.first_contribution_at.set(m.first_contribution_at | now), m.updated_at.set(now),
    ]
    actions.append(m.address_line2.set(donor.address_line2) if donor.address_line2
                   else m.address_line2.remove())
    if donor.phone:
        actions.append(m.phone.set(donor.phone))
    return actions


def _to_item(d: Donation) -> DonationModel:
    s = d.state
    donor = d.donor
    return DonationModel(
        d.donation_id, page_slug=d.page_slug, committee_id=d.committee_id, election=d.election,
        amount_cents=s.amount_cents, status=s.status, paid=s.paid, failed=s.failed,
        refunded_cents=s.refunded_cents, dispute=s.dispute, donor_id=donor.donor_id,
        donor=DonorFields(**{k: getattr(donor, k) for k in _DONOR_FIELDS}),
        refcode=d.refcode, email_opt_in=d.email_opt_in, attestations=d.attestations,
        idempotency_key=d.idempotency_key, fingerprint=d.fingerprint,
        payment_intent_id=d.payment_intent_id, charge_id=d.charge_id, paid_at=d.paid_at,
        created_at=d.created_at, updated_at=d.created_at,
        version=d.version,
    )


_DONOR_FIELDS = tuple(DonorSnapshot.__dataclass_fields__)


def _from_item(i: DonationModel) -> Donation:
    state = PaymentState(
        amount_cents=int(i.amount_cents), paid=bool(i.paid), failed=bool(i.failed),
        refunded_cents=int(i.refunded_cents or 0), dispute=i.dispute or "none",  # type: ignore[arg-type]
    )
    donor = DonorSnapshot(**{k: getattr(i.donor, k) for k in _DONOR_FIELDS})
    return Donation(
        donation_id=i.donation_id, page_slug=i.page_slug, committee_id=i.committee_id,
        election=i.election, donor=donor, created_at=i.created_at.astimezone(timezone.utc),
        fingerprint=i.fingerprint, state=state, refcode=i.refcode,
        email_opt_in=bool(i.email_opt_in), idempotency_key=i.idempotency_key,
        payment_intent_id=i.payment_intent_id, version=int(i.version or 0),
        charge_id=i.charge_id, paid_at=i.paid_at.astimezone(timezone.utc) if i.paid_at else None,
        attestations=dict(i.attestations or {}),
    )
