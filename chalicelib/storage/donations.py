"""Donations, donors, aggregates and page counters in DynamoDB, with the one transaction that
applies a Stripe event exactly once."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactGetError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib.compliance.best_efforts import Answer
from chalicelib.compliance.committees import OverNetDebt
from chalicelib.compliance.limits import Ceiling, OverLimit
from chalicelib.compliance.offline import CashOverLimit
from chalicelib.compliance.reattribution import Confirmation, Request
from chalicelib.compliance.remedies import HeldRefund, Undo
from chalicelib.compliance.reviews import CardCheck, CardShared
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import Movement, PaymentState, TotalsDelta, movements
from chalicelib.giving.model import (
    Conduit,
    Donation,
    DonorSnapshot,
    ExpressDonor,
    RecordedMovement,
    RecurringPlan,
    identity_keys,
    name_key,
)
from chalicelib.giving.service import (
    NO_COUNTERS,
    AggregateChange,
    CommitCounters,
    Decline,
    EventOutcome,
    ExcessRefund,
    ExpressUse,
    IntakeRead,
    Reservation,
    StaleRead,
    SuccessOverLimit,
)
from chalicelib.giving.velocity import CounterAdd, RateLimited
from chalicelib.outbox.model import OutboxMessage
from chalicelib.paging import Slice
from chalicelib.storage import paging
from chalicelib.storage.committees import CommitteeRepository
from chalicelib.storage.errors import condition_failed, response_code
from chalicelib.storage.models import (
    CardUseModel,
    CommitteeModel,
    CounterShardModel,
    DonationModel,
    DonorAggregateModel,
    DonorFields,
    DonorIdentityModel,
    DonorModel,
    MovementModel,
    OutboxModel,
    ProcessedEventModel,
    RecurringPlanModel,
    VelocityModel,
    WebSessionModel,
)
from chalicelib.storage.outbox import OutboxRepository
from chalicelib.storage.velocity import VelocityRepository
from chalicelib.storage.web_sessions import link_used, used_link
from chalicelib.tokens import LinkUsed

# Stripe retries a webhook for up to three days; markers outlive that, then expire by TTL.
MARKER_TTL = timedelta(days=30)
_RETRYABLE_TX = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
# BatchGetItem requests for one read, the first included, before its unprocessed keys give up.
_BATCH_ATTEMPTS = 4


def counter_id(page_slug: str, shard: int) -> str:
    return f"page#{page_slug}#{shard}"


def ledger_key(committee_id: str, when: datetime, shard: int) -> str:
    """The movements index partition for one committee, UTC month and shard: a replay of a
    two-year cycle reads 24 months x the shards, and no partition takes a busy day's every
    movement (the shards spread it)."""
    return f"{committee_id}#{when.astimezone(timezone.utc):%Y-%m}#{shard}"


def ledger_months(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, datetime]]:
    """(month, low, high) for each UTC month the range [start, end) touches: the index
    partitions to query, with the inclusive bounds on `occurred_at` within each."""
    month = start.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month < end:
        following = (month + timedelta(days=32)).replace(day=1)
        yield month, max(start, month), min(end, following) - timedelta(microseconds=1)
        month = following


def shard_for(donation_id: str, shards: int) -> int:
    """A donation always lands on the same shard, so retries and later events agree."""
    return int(hashlib.sha256(donation_id.encode()).hexdigest()[:8], 16) % shards


class DonationRepository:
    """Everything the giving service stores, behind the domain's vocabulary."""

    def __init__(self, region: str, counter_shards: int, outbox: OutboxRepository,
                 ledger_shards: int = 10, pending_shards: int = 10,
                 velocity: VelocityRepository | None = None,
                 committees: CommitteeRepository | None = None) -> None:
        self.velocity = velocity
        self.committees = committees
        self._connection = Connection(region=region)
        self.counter_shards = counter_shards
        self.pending_shards = pending_shards
        self.ledger_shards = ledger_shards
        self.outbox = outbox

    # --- intake -------------------------------------------------------------------------
    def read_intake(self, snapshot: DonorSnapshot, counter_keys: Sequence[str]) -> IntakeRead:
        """Who the donor is (by email first, then by name and ZIP5, else a new id from their
        email) and the velocity counters named: one BatchGetItem over both tables."""
        email_key, name_key = identity_keys(snapshot)
        found = self._batch_get({
            DonorIdentityModel: [email_key, name_key],
            VelocityModel: list(dict.fromkeys(counter_keys)),
        })
        items = {i.identity_key: i for i in found[DonorIdentityModel]}
        by_email, by_name = items.get(email_key), items.get(name_key)
        known = by_email or by_name
        return IntakeRead(
            donor_id=known.donor_id if known is not None else snapshot.donor_id,
            counts={i.counter_key: int(i.hits or 0) for i in found[VelocityModel]},
            # The email's own customer only: a name and ZIP anyone can type never reach it.
            customer_id=by_email.customer_id if by_email else None)

    def _batch_get(self, keys: dict[type[Any], list[str]]) -> dict[type[Any], list[Any]]:
        """Items of several tables (hash keys only) in one BatchGetItem (more only for the keys
        DynamoDB leaves unprocessed), eventually consistent like PynamoDB's `batch_get`."""
        by_table = {model.Meta.table_name: model for model, wanted in keys.items() if wanted}
        request: dict[str, Any] = {
            model.Meta.table_name: {"Keys": [{model._hash_key_attribute().attr_name: {"S": k}}
                                             for k in wanted]}
            for model, wanted in keys.items() if wanted}
        found: dict[type[Any], list[Any]] = {model: [] for model in keys}
        for attempt in range(_BATCH_ATTEMPTS):
            if not request:
                return found
            if attempt:
                time.sleep(0.05 * 2 ** attempt)
            response = self._connection.client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                model = by_table[table]
                found[model] += [model.from_raw_data(item) for item in items]
            request = response.get("UnprocessedKeys") or {}
        raise StaleRead("DynamoDB left keys of the intake read unprocessed")

    def create_pending(self, donation: Donation, reservation: Reservation,
                       express: ExpressUse | None = None,
                       counters: Sequence[CounterAdd] = ()) -> Donation | None:
        """Store a new pending donation, its reservation against the limit and its velocity
        counts, in one transaction (with an express gift's link use and charge count). If the
        id exists already, return the stored donation (nothing reserved or counted twice); past
        the limit raise OverLimit, past a velocity cap RateLimited, a used link LinkUsed, and
        write nothing."""
        tx = TaggedWrite(self._connection)
        tx.save("donation", _to_item(donation, self.pending_shards),
                condition=DonationModel.donation_id.does_not_exist())
        self._reserve(tx, reservation)
        v = VelocityModel
        for counter in counters:
            tx.update(counter.key, VelocityModel(counter.key),
                      [v.hits.add(1), v.expires_at.set(counter.expires_at)],
                      (v.hits <= counter.at_most) | v.hits.does_not_exist())
        if express is not None:
            self._use_express_link(tx, express, donation.created_at)
        try:
            tx.commit()
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "donation" in failed:
                return self.get(donation.donation_id)
            if "link" in failed:
                raise LinkUsed() from None
            refused = [c.retry_after for c in counters if c.key in failed]
            if refused:  # concurrent intakes from one address took what the read left
                raise RateLimited(max(refused)) from None
            if "aggregate" in failed:
                raise OverLimit() from None
            if "debt" in failed and reservation.debt_key is not None:
                raise OverNetDebt(reservation.debt_key[1]) from None
            if failed & {"person", "express"}:  # read before the commit, changed since
                raise StaleRead("the donor's giving changed since it was read") from exc
            if _retryable(exc, _reasons(exc)):
                raise StaleRead("intake conflicted; retry") from exc
            raise
        return None

    @staticmethod
    def _reserve(tx: TaggedWrite, r: Reservation) -> None:
        """The reservation on its holder's aggregate, on condition that the holder's exposure
        (net + reserved), plus the linked person's net as read, leaves room for it."""
        a = DonorAggregateModel
        tx.update("aggregate", DonorAggregateModel(r.holder, r.scope), [
            a.reserved_cents.add(r.cents), a.exposure_cents.add(r.cents),
            a.net_cents.add(0), a.contribution_count.add(0),
        ], _within(a.exposure_cents, r.exposure_ceiling))
        if r.debt_key is not None:  # toward a held election's debts: within what they are
            tx.update("debt", DonorAggregateModel(*r.debt_key), [
                a.reserved_cents.add(r.cents), a.exposure_cents.add(r.cents),
                a.net_cents.add(0), a.contribution_count.add(0),
            ], _within(a.exposure_cents, r.debt_ceiling))
        if r.linked:  # the person's net, as read, has not grown since
            tx.check("person", DonorAggregateModel, r.person, _within(a.net_cents, r.person_unchanged),
                     range_key=r.scope)

    @staticmethod
    def _use_express_link(tx: TaggedWrite, express: ExpressUse, now: datetime) -> None:
        tx.save("link", used_link(express.use_key, now, express.use_expires_at),
                condition=WebSessionModel.session_hash.does_not_exist())
        m = DonorModel
        read = (m.express_version == express.charges_version if express.charges_version
                else m.express_version.does_not_exist())
        tx.update("express", DonorModel(express.donor_id), [
            m.express_charges.set(list(express.charges)),  # type: ignore[arg-type]  # datetimes
            m.express_version.set(express.charges_version + 1),
        ], m.donor_id.exists() & read)

    def withdraw_pending(self, donation: Donation, express: ExpressUse | None = None,
                         counters: Sequence[str] = ()) -> None:
        """Take back what `create_pending` wrote for a donation whose payment never started
        (Stripe turned it away): the donation, its reservation, its velocity counts, an express
        link's use and its charge; in one transaction, on condition that no PaymentIntent is
        attached (a concurrent retry that reached Stripe keeps the donation). An item only this
        intake created (a first reservation's aggregate, a counter at one) is deleted outright,
        so a donor who never gave leaves no trace: each is first taken to be such an item, and
        taken one off instead once its condition says it is not."""
        holder = donation.reserved_by or donation.donor_id
        a, v = DonorAggregateModel, VelocityModel
        cents = donation.reserved_cents
        only_ours = {"aggregate": True, **{key: True for key in counters}}
        counted = list(counters)  # a counter found gone (expired) has nothing to take off
        revert_charges = True
        for _ in range(len(only_ours) + 2):  # each refusal corrects at least one guess
            tx = TaggedWrite(self._connection)
            d = DonationModel
            tx.delete("donation", DonationModel(donation.donation_id),
                      d.donation_id.exists() & d.payment_intent_id.does_not_exist()
                      & (d.status == "pending"))
            aggregate = DonorAggregateModel(holder, donation.limit_scope)
            if cents and only_ours["aggregate"]:
                tx.delete("aggregate", aggregate, (a.reserved_cents == cents)
                          & (a.exposure_cents == cents) & (a.net_cents == 0)
                          & (a.contribution_count == 0))
            elif cents:
                tx.update("aggregate", aggregate,
                          [a.reserved_cents.add(-cents), a.exposure_cents.add(-cents)],
                          a.reserved_cents >= cents)
            for key in counted:
                if only_ours[key]:
                    tx.delete(key, VelocityModel(key), v.hits == 1)
                else:
                    tx.update(key, VelocityModel(key), [v.hits.add(-1)], v.hits.exists())
            if express is not None:
                tx.delete("link", used_link(express.use_key, donation.created_at,
                                            express.use_expires_at))
                if revert_charges:
                    m = DonorModel
                    tx.update("express", DonorModel(express.donor_id), [
                        m.express_charges.set(list(express.charges[:-1])),  # type: ignore[arg-type]
                        m.express_version.set(express.charges_version + 2),
                    ], m.express_version == express.charges_version + 1)
            try:
                tx.commit()
                return
            except TransactWriteError as exc:
                failed = tx.failed(exc)
                if "donation" in failed:
                    return  # gone already, or its payment started after all: keep it
                if not failed:
                    raise
                if "express" in failed:
                    if not revert_charges:
                        raise
                    revert_charges = False
                wrong = {tag for tag in failed if only_ours.get(tag)}
                gone = (failed - wrong) & set(counted)
                if failed - wrong - gone - {"express"}:  # not what this intake wrote any more
                    raise StaleRead("the pending donation could not be withdrawn") from exc
                only_ours.update(dict.fromkeys(wrong, False))
                counted = [key for key in counted if key not in gone]
        raise StaleRead("the pending donation could not be withdrawn")

    def resolve_donor(self, snapshot: DonorSnapshot) -> str:
        """The donor this person already is (by email first, then by name and ZIP5), or a new
        id from their email. One BatchGetItem."""
        return self.read_intake(snapshot, ()).donor_id

    def attach_payment_intent(self, donation_id: str, payment_intent_id: str,
                              subscription_id: str | None = None,
                              customer_id: str | None = None) -> None:
        actions: list[Any] = [DonationModel.payment_intent_id.set(payment_intent_id)]
        if subscription_id:
            actions.append(DonationModel.subscription_id.set(subscription_id))
        if customer_id:
            actions.append(DonationModel.customer_id.set(customer_id))
        try:
            DonationModel(donation_id).update(actions=actions,
                                              condition=DonationModel.donation_id.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            # A concurrent attempt met Stripe's rate limit and withdrew the donation: the
            # client's retry records it again (Stripe's idempotency key returns this intent).
            raise StaleRead("the pending donation was withdrawn meanwhile") from exc

    def express_donor(self, donor_id: str) -> ExpressDonor | None:
        """A donor's details on file, saved-card customer and express history, if any."""
        try:
            i = DonorModel.get(donor_id, consistent_read=True)
        except DoesNotExist:
            return None
        snapshot = DonorSnapshot(
            first_name=i.first_name, last_name=i.last_name, email=i.email, phone=i.phone,
            address_line1=i.address_line1, address_line2=i.address_line2, city=i.city,
            state=i.state, zip=i.zip, employer=i.employer, occupation=i.occupation)
        return ExpressDonor(
            donor_id=donor_id, snapshot=snapshot, customer_id=i.customer_id,
            charges=tuple(t.astimezone(timezone.utc) for t in i.express_charges or []),  # type: ignore[attr-defined]
            charges_version=int(i.express_version or 0),
            revoked_at=i.express_revoked_at.astimezone(timezone.utc) if i.express_revoked_at else None)

    def revoke_express(self, donor_id: str, when: datetime) -> bool:
        """Stop every express link issued until `when`; False if there is no such donor."""
        m = DonorModel
        try:
            DonorModel(donor_id).update(actions=[m.express_revoked_at.set(when)],
                                        condition=m.donor_id.exists())
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def link_used(self, use_key: str) -> bool:
        """Whether a single-use link's nonce has been used."""
        return link_used(use_key)

    def record_best_efforts_answer(self, donor_id: str, answer: Answer) -> bool:
        """A donor's best-efforts answer on their record and on each contribution it completes,
        in one transaction; False if there is no such donor (or contribution)."""
        tx = TaggedWrite(self._connection)
        m, d = DonorModel, DonationModel
        tx.update("donor", DonorModel(donor_id), [
            m.employer.set(answer.employer), m.occupation.set(answer.occupation),
            m.employment_answered_at.set(answer.answered_at), m.updated_at.set(answer.answered_at),
        ], m.donor_id.exists())
        for donation_id, day in answer.answered_on.items():
            tx.update("donation", DonationModel(donation_id), [
                d.best_efforts_employer.set(answer.employer),
                d.best_efforts_occupation.set(answer.occupation),
                d.best_efforts_answered_at.set(answer.answered_at),
                d.best_efforts_answered_on.set(day.isoformat()),
            ], (d.donor_id == donor_id))
        return _commit_unless(tx, {"donor", "donation"}, "answer")

    # --- review of signals ---------------------------------------------------------------
    def donation_for_payment_intent(self, payment_intent_id: str) -> Donation | None:
        for found in DonationModel.by_payment_intent.query(payment_intent_id, limit=1):
            return _from_item(found)
        return None

    def commit_card_check(self, check: CardCheck, donation: Donation, card: str | None,
                          holder: str, signals: list[dict[str, str]], now: datetime) -> bool:
        """The charge's card on its contribution, its signals (queued for review), the event's
        marker and the card's first holder in this cycle, in one transaction. False for a
        duplicate event; CardShared when the card's first holder has another name (nothing
        written: the caller commits again without the card, with the signal)."""
        m, c = DonationModel, CardUseModel
        tx = TaggedWrite(self._connection)
        tx.save("marker", ProcessedEventModel(
            check.event_id, type=check.event_type, donation_id=donation.donation_id,
            processed_at=now, expires_at=now + MARKER_TTL),
            condition=ProcessedEventModel.event_id.does_not_exist())
        actions: list[Any] = [m.card_country.set(check.country) if check.country else m.card_country.remove()]
        if check.fingerprint:
            actions.append(m.card_fingerprint.set(check.fingerprint))
        if signals:
            actions += [m.review_signals.set([*donation.review_signals, *signals]),
                        m.review_status.set("open"), m.review_queue.set("open"),
                        m.review_flagged_at.set(m.review_flagged_at | now)]
        # The wallet goes on the donation and, when its payment is recorded already, on its
        # contribution movement; the donation's version moves, so a payment being recorded
        # from an older read (without the wallet) refuses and reads it again.
        movement = donation.contribution_movement_id
        condition = m.donation_id.exists()
        if check.wallet:
            condition &= (m.contribution_movement_id == movement if movement
                          else m.contribution_movement_id.does_not_exist())
            actions += [m.card_wallet.set(check.wallet), m.version.add(1)]
            if movement:
                tx.update("movement", MovementModel(movement), [MovementModel.wallet.set(check.wallet)],
                          MovementModel.movement_id.exists())
        tx.update("donation", DonationModel(donation.donation_id), actions, condition)
        if card is not None:
            tx.update("card", CardUseModel(card), [
                c.holder.set(c.holder | holder),
                c.first_donation_id.set(c.first_donation_id | donation.donation_id),
                c.first_used_at.set(c.first_used_at | now),
            ], c.holder.does_not_exist() | (c.holder == holder), return_values="ALL_OLD")
        try:
            tx.commit()
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "marker" in failed:
                return False
            if "card" in failed and card is not None:
                old = _old_item(tx, exc, "card")
                first = (old or {}).get("first_donation_id", {}).get("S") if old else None
                if first is None:
                    first = CardUseModel.get(card, consistent_read=True).first_donation_id
                raise CardShared(str(first)) from None
            if "donation" in failed:
                raise StaleRead("the donation's payment was recorded since it was read") from exc
            if _retryable(exc, _reasons(exc)):
                raise StaleRead("card check conflicted; retry") from exc
            raise
        return True

    def reviews_page(self, limit: int, after: str | None) -> Slice[Donation]:
        """Contributions waiting for a decision, oldest flagged first, a page at a time."""
        start = paging.decode(after, ["donation_id", "review_queue", "review_flagged_at"])
        found = DonationModel.in_review.query("open", limit=limit, last_evaluated_key=start)
        ids = [i.donation_id for i in found]
        by_id = {i.donation_id: _from_item(i) for i in DonationModel.batch_get(ids, consistent_read=True)}
        return Slice([by_id[i] for i in ids if i in by_id and by_id[i].review_status == "open"],
                     paging.encode(found.last_evaluated_key))

    def decide_review(self, donation: Donation, status: str, by: str, now: datetime,
                      refund: OutboxMessage | None) -> bool:
        """The decision and, for a refund, its outbox message, in one transaction, only while
        the review is open (False if another decision got there first)."""
        m = DonationModel
        tx = TaggedWrite(self._connection)
        tx.update("donation", DonationModel(donation.donation_id), [
            m.review_status.set(status), m.review_queue.remove(), m.reviewed_by.set(by),
            m.reviewed_at.set(now)], m.review_status == "open")
        if refund is not None:
            tx.save("outbox", self.outbox.item(refund, now),
                    condition=OutboxModel.message_id.does_not_exist())
        return _commit_unless(tx, {"donation", "outbox"}, "review decision")

    def undo_redesignation(self, undo: Undo, now: datetime) -> bool:
        """The donor's refund of a presumed redesignation, in one transaction only while it
        stands: the amount back on the gift's own election and off the other's, the excess to
        refund grown by it, and its refund queued (False if it no longer stands)."""
        m, a = DonationModel, DonorAggregateModel
        tx = TaggedWrite(self._connection)
        tx.update("donation", DonationModel(undo.donation_id), [
            m.redesignation_status.set("refunded"), m.redesignation_refund_at.set(now),
            m.excess_refund_cents.set(undo.excess_refund_cents), m.version.set(undo.version + 1),
            m.updated_at.set(now)], (m.redesignation_status == "presumed") & (m.version == undo.version))
        for scope, cents in ((undo.to_scope, -undo.cents), (undo.from_scope, undo.cents)):
            tx.update("aggregate", DonorAggregateModel(undo.donor_id, scope),
                      [a.net_cents.add(cents), a.exposure_cents.add(cents)])
        tx.save("outbox", self.outbox.item(undo.refund, now),
                condition=OutboxModel.message_id.does_not_exist())
        return _commit_unless(tx, {"donation", "outbox"}, "redesignation refund")

    def held_due(self, until: date) -> list[Donation]:
        """Contributions whose held excess reaches its day 60 on or before `until` (a bounded
        Query of each shard of the sparse `excess-held` index, then one BatchGetItem)."""
        ids = [i.donation_id for n in range(HELD_SHARDS)
               for i in DonationModel.excess_held.query(
                   f"held#{n}", DonationModel.excess_held_until <= until.isoformat())]
        return [_from_item(i) for i in DonationModel.batch_get(ids, consistent_read=True)] if ids else []

    def refund_held(self, refund: HeldRefund, now: datetime) -> bool:
        """Day 60: nothing held any more, the excess refunded grown by what was, and its refund
        queued, in one transaction only while the donation is as read (False otherwise: a
        second run, or a payment event since, finds it done or decides again)."""
        m = DonationModel
        tx = TaggedWrite(self._connection)
        tx.update("donation", DonationModel(refund.donation_id), [
            m.excess_held_cents.remove(), m.held_shard.remove(),
            m.excess_refund_cents.set(refund.excess_refund_cents),
            m.version.set(refund.version + 1), m.updated_at.set(now)],
            m.held_shard.exists() & (m.version == refund.version))
        if refund.refund is not None:
            tx.save("outbox", self.outbox.item(refund.refund, now),
                    condition=OutboxModel.message_id.does_not_exist())
        return _commit_unless(tx, {"donation", "outbox"}, "day-60 refund")

    def request_reattribution(self, request: Request, now: datetime) -> bool:
        """The donor's request and the other person's email, in one transaction, only while the
        donation is as read, still holds the excess and has no reattribution yet."""
        m = DonationModel
        h = request.holder
        tx = TaggedWrite(self._connection)
        tx.update("donation", DonationModel(request.donation_id), [
            m.reattribution_status.set("requested"), m.reattribution_cents.set(request.cents),
            m.reattribution_request.set({"first_name": h.first_name, "last_name": h.last_name,
                                         "email": h.email}),
            m.version.set(request.version + 1), m.updated_at.set(now)],
            m.held_shard.exists() & m.reattribution_status.does_not_exist() & (m.version == request.version))
        tx.save("outbox", self.outbox.item(request.message, now),
                condition=OutboxModel.message_id.does_not_exist())
        return _commit_unless(tx, {"donation", "outbox"}, "reattribution request")

    def confirm_reattribution(self, c: Confirmation, now: datetime) -> bool:
        """The other person's confirmation, in one transaction: the amount off the donor's
        aggregate and onto theirs within their limit (OverLimit when a gift of theirs filled it
        since), the held excess down by it (off the day-60 index when nothing is left), the
        reattribution confirmed; False when the request no longer stands as read."""
        m, a = DonationModel, DonorAggregateModel
        person = {k: getattr(c.to, k) for k in _DONOR_FIELDS}
        actions = [m.reattribution_status.set("confirmed"), m.reattribution_cents.set(c.cents),
                   m.reattributed_to.set(person), m.reattributed_donor_id.set(c.to_donor_id),
                   m.reattributed_on.set(c.on.isoformat()),
                   m.reattribution_attestations.set(c.attestations),
                   m.version.set(c.version + 1), m.updated_at.set(now)]
        actions += ([m.excess_held_cents.set(c.held_left_cents)] if c.held_left_cents
                    else [m.excess_held_cents.remove(), m.held_shard.remove()])
        tx = TaggedWrite(self._connection)
        tx.update("donation", DonationModel(c.donation_id), actions,
                  (m.reattribution_status == "requested") & m.held_shard.exists() & (m.version == c.version))
        tx.update("from", DonorAggregateModel(c.donor_id, c.scope),
                  [a.net_cents.add(-c.cents), a.exposure_cents.add(-c.cents)])
        tx.update("to", DonorAggregateModel(c.to_donor_id, c.scope),
                  [a.net_cents.add(c.cents), a.exposure_cents.add(c.cents)],
                  _within(a.net_cents, c.to_ceiling))
        try:
            tx.commit()
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "donation" in failed:
                return False
            if "to" in failed:
                raise OverLimit() from exc
            if _retryable(exc, _reasons(exc)):
                raise StaleRead("reattribution conflicted; retry") from exc
            raise
        return True

    # --- monthly gifts ------------------------------------------------------------------
    def save_plan(self, plan: RecurringPlan) -> None:
        RecurringPlanModel(
            plan.subscription_id, first_donation_id=plan.first_donation_id, donor_id=plan.donor_id,
            donor=DonorFields(**{k: getattr(plan.donor, k) for k in _DONOR_FIELDS}),
            page_slug=plan.page_slug, committee_id=plan.committee_id, election=plan.election,
            amount_cents=plan.amount_cents, customer_id=plan.customer_id, status=plan.status,
            created_at=plan.created_at,
            ends_on=plan.ends_on.isoformat() if plan.ends_on else None,
            ending_shard=_ending_shard(plan.subscription_id) if plan.ends_on else None,
            charge_day=plan.charge_day, version=plan.version or None,
        ).save()

    def plan(self, subscription_id: str) -> RecurringPlan | None:
        try:
            i = RecurringPlanModel.get(subscription_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _plan_from_item(i)

    def change_plan(self, plan: RecurringPlan, expected_version: int, notice: OutboxMessage,
                    now: datetime) -> bool:
        """Record a change the donor made (the new amount, status, charge day or end day) with
        the email that confirms it, in one transaction, only if the plan is still at the version
        the change was decided from and running: False (nothing written) when another request
        changed it first."""
        m = RecurringPlanModel
        at = (m.version.does_not_exist() | (m.version == 0)) if expected_version == 0 \
            else (m.version == expected_version)
        actions: list[Any] = [m.amount_cents.set(plan.amount_cents), m.status.set(plan.status),
                              m.version.set(plan.version)]
        actions.append(m.charge_day.set(plan.charge_day) if plan.charge_day else m.charge_day.remove())
        if plan.ends_on:
            actions += [m.ends_on.set(plan.ends_on.isoformat()),
                        m.ending_shard.set(_ending_shard(plan.subscription_id))]
        tx = TaggedWrite(self._connection)
        tx.update("plan", RecurringPlanModel(plan.subscription_id), actions=actions,
                  condition=m.subscription_id.exists() & (m.status != "canceled") & at)
        tx.save("notice", self.outbox.item(notice, now), condition=OutboxModel.message_id.does_not_exist())
        return _commit_unless(tx, {"plan", "notice"}, "changing a plan")

    def sync_plan(self, subscription_id: str, amount_cents: int | None, status: str | None,
                  ends_on: date | None, clear_end: bool, at: datetime) -> EventOutcome:
        """Keep the plan in step with Stripe's `customer.subscription.updated`: the amount, a
        pause, the end day. Only an event newer than the last one applied writes (redelivered or
        late events change nothing); a plan that ended stays ended."""
        m = RecurringPlanModel
        actions: list[Any] = [m.synced_at.set(at)]
        if amount_cents is not None:
            actions.append(m.amount_cents.set(amount_cents))
        if status is not None:
            actions.append(m.status.set(status))
        if ends_on is not None:
            actions += [m.ends_on.set(ends_on.isoformat()),
                        m.ending_shard.set(_ending_shard(subscription_id))]
        elif clear_end:
            actions += [m.ends_on.remove(), m.ending_shard.remove()]
        try:
            RecurringPlanModel(subscription_id).update(actions=actions, condition=(
                m.subscription_id.exists() & (m.status != "canceled")
                & (m.synced_at.does_not_exist() | (m.synced_at <= at))))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            return EventOutcome.DUPLICATE if self.plan(subscription_id) else EventOutcome.UNMATCHED
        return EventOutcome.APPLIED

    def plans_ending(self, first: date, last: date) -> list[RecurringPlan]:
        """Running plans whose end day is in [first, last], from every shard of the index."""
        found: list[RecurringPlan] = []
        for n in range(PLAN_END_SHARDS):
            for i in RecurringPlanModel.by_end_day.query(
                    str(n), RecurringPlanModel.ends_on.between(first.isoformat(), last.isoformat())):
                found.append(_plan_from_item(i))
        return found

    def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        self.outbox.enqueue(message, now)

    def end_plan(self, subscription_id: str, when: datetime,
                 notice: OutboxMessage | None = None) -> EventOutcome:
        """Mark the plan ended; `notice` (the donor's email saying so) is queued in the same
        transaction, only by the write that ends it, so a second cancel or Stripe's
        `customer.subscription.deleted` after the donor's own cancel queues nothing more."""
        m = RecurringPlanModel
        tx = TaggedWrite(self._connection)
        tx.update("plan", RecurringPlanModel(subscription_id),
                  actions=[m.status.set("canceled"), m.canceled_at.set(m.canceled_at | when),
                           m.ending_shard.remove()],
                  condition=m.subscription_id.exists() & (m.status != "canceled"))
        if notice is not None:
            tx.save("notice", self.outbox.item(notice, when),
                    condition=OutboxModel.message_id.does_not_exist())
        if _commit_unless(tx, {"plan", "notice"}, "ending a plan"):
            return EventOutcome.APPLIED
        return EventOutcome.APPLIED if self.plan(subscription_id) else EventOutcome.UNMATCHED

    def queue_plan_notice(self, subscription_id: str, message: OutboxMessage,
                          now: datetime) -> EventOutcome:
        """Queue a notice about an active plan (a failed renewal's): one TransactWriteItems, the
        plan checked active and the message new. DUPLICATE when the message exists already,
        UNMATCHED when there is no such plan or it ended."""
        m = RecurringPlanModel
        tx = TaggedWrite(self._connection)
        tx.check("plan", RecurringPlanModel, subscription_id,
                 m.subscription_id.exists() & (m.status != "canceled"))
        tx.save("notice", self.outbox.item(message, now),
                condition=OutboxModel.message_id.does_not_exist())
        try:
            tx.commit()
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "plan" in failed:
                return EventOutcome.UNMATCHED
            if "notice" in failed:
                return EventOutcome.DUPLICATE
            if _retryable(exc, _reasons(exc)):
                raise StaleRead("queueing a plan's notice conflicted; retry") from exc
            raise
        return EventOutcome.APPLIED

    def link_invoice_payment(self, donation_id: str, payment_intent_id: str) -> bool:
        """Set a renewal's PaymentIntent; True if linked or already known (a first invoice)."""
        try:
            DonationModel(donation_id).update(
                actions=[DonationModel.payment_intent_id.set(payment_intent_id)],
                condition=DonationModel.donation_id.exists())
            return True
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        return any(True for _ in DonationModel.by_payment_intent.query(payment_intent_id, limit=1))

    def get(self, donation_id: str) -> Donation | None:
        try:
            return _from_item(DonationModel.get(donation_id, consistent_read=True))
        except DoesNotExist:
            return None

    # --- events -------------------------------------------------------------------------
    def load_for_event(self, event: PaymentEvent) -> tuple[Donation | None, bool]:
        """The event's donation and whether the event was already applied.

        With a donation id (payment_intent.* events carry it in metadata) this is one
        TransactGetItems, which also reads the committee named in the metadata when its cached
        copy is stale, so a success never needs a third request; charge events find their
        donation through the PaymentIntent index (one Query) and learn of a duplicate from the
        commit's marker condition.
        """
        if event.donation_id:
            refresh = event.committee_id if (event.committee_id and self.committees is not None
                                             and self.committees.stale(event.committee_id)) else None
            try:
                with TransactGet(connection=self._connection) as tx:
                    marker = tx.get(ProcessedEventModel, event.event_id)
                    item = tx.get(DonationModel, event.donation_id)
                    committee = tx.get(CommitteeModel, refresh) if refresh else None
            except TransactGetError as exc:
                raise StaleRead(str(exc)) from exc
            if refresh and committee is not None and self.committees is not None:
                self.committees.remember(refresh, committee.get() if _exists(committee) else None)
            if _exists(marker):
                return None, True
            return (_from_item(item.get()) if _exists(item) else None), False
        if event.payment_intent_id:
            for found in DonationModel.by_payment_intent.query(event.payment_intent_id, limit=1):
                return _from_item(found), False
        return None, False

    def commit_event(self, event: PaymentEvent, donation: Donation, new_state: PaymentState,
                     delta: TotalsDelta, aggregate: AggregateChange, now: datetime,
                     messages: Sequence[OutboxMessage] = (),
                     excess: ExcessRefund | None = None,
                     decline: Decline | None = None,
                     counters: CommitCounters = NO_COUNTERS,
                     cash: AggregateChange | None = None) -> EventOutcome:
        """Write the event's marker and all its effects, as the service decided them, in one
        transaction. `cash` moves the donor's cash counter for the election (a gift in
        currency), within its limit (CashOverLimit past it, nothing written)."""
        old = donation.state
        marker = ProcessedEventModel(
            event.event_id, type=event.type, donation_id=donation.donation_id,
            processed_at=now, expires_at=now + MARKER_TTL,
        )
        read_version = DonationModel.version == donation.version
        moves = [self._movement(event, donation, moved) for moved in movements(old, new_state)]
        contribution = next((i.movement_id for i in moves if i.kind == "contribution"), None)
        tx = TaggedWrite(self._connection)
        tx.save("marker", marker, condition=ProcessedEventModel.event_id.does_not_exist())
        if not donation.stored:  # a renewal's contribution, created by its invoice.paid
            created = replace(donation, state=new_state, version=1,
                              paid_at=event.occurred_at if new_state.paid else None,
                              contribution_movement_id=contribution)
            tx.save("donation", _to_item(created, self.pending_shards),
                    condition=DonationModel.donation_id.does_not_exist())
        elif new_state == old and decline is None:
            tx.check("donation", DonationModel, donation.donation_id, condition=read_version)
        else:
            changes = _donation_changes(event, donation, new_state, now, excess, decline)
            if contribution is not None and donation.contribution_movement_id is None:
                changes.append(DonationModel.contribution_movement_id.set(contribution))
            tx.update("donation", DonationModel(donation.donation_id), changes, read_version)
        if new_state.paid and not old.paid:
            donor_actions = _donor_upsert(donation.donor, now)
            if donation.customer_id and not donation.recurring:  # a card saved for express giving
                donor_actions.append(DonorModel.customer_id.set(donation.customer_id))
            tx.update("donor", DonorModel(donation.donor_id), donor_actions)
            email_key, name_key = identity_keys(donation.donor)
            identity = DonorIdentityModel.donor_id.set(DonorIdentityModel.donor_id | donation.donor_id)
            customer = ([DonorIdentityModel.customer_id.set(
                DonorIdentityModel.customer_id | donation.customer_id)] if donation.customer_id else [])
            tx.update("identity", DonorIdentityModel(email_key), [identity, *customer])
            tx.update("identity", DonorIdentityModel(name_key), [identity])
        self._change_aggregates(tx, donation.donor_id, aggregate)
        if cash is not None:
            tx.update("cash", DonorAggregateModel(donation.donor_id, cash.scope),
                      _aggregate_changes(cash), _aggregate_condition(cash))
        if not delta.is_zero:
            shard = shard_for(donation.donation_id, self.counter_shards)
            tx.update("counter", CounterShardModel(counter_id(donation.page_slug, shard)), [
                CounterShardModel.raised_cents.add(delta.cents),
                CounterShardModel.contribution_count.add(delta.contributions),
            ])
            if counters.variant_id:
                variant = f"variant#{donation.page_slug}#{counters.variant_id}#{shard}"
                tx.update("variant", CounterShardModel(variant), [
                    CounterShardModel.conversions.add(delta.contributions),
                    CounterShardModel.amount_cents.add(delta.cents),
                ])
        for move in moves:
            tx.save("movement", move)
        if counters.decline_keys and self.velocity is not None:
            for item in self.velocity.items(counters.decline_keys):
                tx.update("velocity", item, self.velocity.increment(event.occurred_at))
        if counters.pending_key and self.velocity is not None:
            counter = self.velocity.items([counters.pending_key])[0]
            tx.update("pending_ip", counter, self.velocity.pending_change(-1, now))
        for message in messages:
            tx.save("outbox", self.outbox.item(message, now))
        try:
            tx.commit()
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "marker" in failed:
                return EventOutcome.DUPLICATE
            if "donation" in failed:
                raise StaleRead("donation changed since it was read") from exc
            if "cash" in failed:
                raise CashOverLimit() from exc
            if "redesignation" in failed:  # the next election's giving grew: decide again
                raise StaleRead("the redesignation's election changed since it was read") from exc
            if "aggregate" in failed:
                if aggregate.net_limit_cents is not None:
                    raise SuccessOverLimit() from exc
                raise StaleRead("donor aggregate changed since it was read") from exc
            if _retryable(exc, _reasons(exc)):
                raise StaleRead(response_code(exc) or "transaction conflict") from exc
            raise
        return EventOutcome.APPLIED

    @staticmethod
    def _change_aggregates(tx: TaggedWrite, donor_id: str, change: AggregateChange) -> None:
        """Net giving moves on the donor's aggregate; a reservation is released where it is
        held (the email's own aggregate, for a person linked by name and ZIP)."""
        a = DonorAggregateModel
        if change.debt_key is not None and not change.is_zero:  # its debts retired, or not
            tx.update("debt", DonorAggregateModel(*change.debt_key), _aggregate_changes(change))
        if change.moved_scope and change.moved_cents:
            # What counts toward another election (a presumed redesignation), within its limit.
            there = AggregateChange(change.moved_scope, change.moved_cents, 0, 0)
            fits = change.moved_ceiling
            tx.update("redesignation", DonorAggregateModel(donor_id, change.moved_scope),
                      _aggregate_changes(there), _within(a.net_cents, fits) if fits else None)
        if change.other_donor_id and change.other_cents:
            # What is another person's (a confirmed reattribution): money leaving it leaves them.
            theirs = AggregateChange(change.scope, change.other_cents, 0, 0)
            tx.update("reattribution", DonorAggregateModel(change.other_donor_id, change.scope),
                      _aggregate_changes(theirs))
        holder = change.reservation_holder
        if holder and holder != donor_id and change.reserved_cents:
            tx.update("reservation", DonorAggregateModel(holder, change.scope), [
                a.reserved_cents.add(change.reserved_cents),
                a.exposure_cents.add(change.reserved_cents)])
            change = replace(change, reserved_cents=0)
        if not change.is_zero:
            tx.update("aggregate", DonorAggregateModel(donor_id, change.scope),
                      _aggregate_changes(change), _aggregate_condition(change))

    def _movement(self, event: PaymentEvent, donation: Donation, moved: Movement) -> MovementModel:
        shard = shard_for(event.event_id, self.ledger_shards)
        return MovementModel(
            f"{event.event_id}#{moved.kind}", kind=moved.kind, amount_cents=moved.cents,
            occurred_at=event.occurred_at, donation_id=donation.donation_id,
            donor_id=donation.donor_id, committee_id=donation.committee_id,
            election=donation.election, page_slug=donation.page_slug, event_id=event.event_id,
            ledger_key=ledger_key(donation.committee_id, event.occurred_at, shard),
            intake_at=donation.created_at, wallet=donation.card_wallet,
        )

    # --- reading ------------------------------------------------------------------------
    def stale_pending(self, checked_before: datetime, limit: int) -> list[Donation]:
        """Up to `limit` donations still pending that were last checked (or created) before
        `checked_before`, fairly across shards: each shard gives its share first, the one
        checked longest ago first, and the budget left over goes to shards with more waiting.
        So a flood on one shard cannot crowd out the rest, and donations the reconciler just
        checked (see `mark_checked`) wait their turn behind the others."""
        share = -(-limit // self.pending_shards)
        ids: list[str] = []
        fuller: list[tuple[int, Any]] = []
        for n in range(self.pending_shards):
            query = DonationModel.pending.query(f"pending#{n}", DonationModel.checked_at <= checked_before,
                                                limit=share)
            ids.extend(i.donation_id for i in query)
            if query.last_evaluated_key:
                fuller.append((n, query.last_evaluated_key))
        for n, start in fuller:
            if len(ids) >= limit:
                break
            query = DonationModel.pending.query(f"pending#{n}", DonationModel.checked_at <= checked_before,
                                                limit=limit - len(ids), last_evaluated_key=start)
            ids.extend(i.donation_id for i in query)
        found = [_from_item(i) for i in DonationModel.batch_get(ids[:limit], consistent_read=True)]
        return sorted(found, key=lambda d: d.created_at)

    def mark_checked(self, donation_id: str, when: datetime) -> None:
        """The reconciler asked about this donation at `when`: it moves to the back of its
        shard. Nothing happens to a donation no longer pending."""
        try:
            DonationModel(donation_id).update(actions=[DonationModel.checked_at.set(when)],
                                              condition=DonationModel.pending_shard.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise

    def aggregate(self, donor_id: str, scope: str) -> Aggregate:
        """A donor's aggregate for one limit period (zeros if they never gave in it)."""
        try:
            item = DonorAggregateModel.get(donor_id, scope, consistent_read=True)
        except DoesNotExist:
            return Aggregate()
        return Aggregate(int(item.net_cents or 0), int(item.contribution_count or 0),
                         int(item.reserved_cents or 0), int(item.exposure_cents or 0))

    def aggregate_net(self, donor_id: str, scope: str) -> int:
        return self.aggregate(donor_id, scope).net_cents

    def deposit_entries(self, batch: str, limit: int) -> list[Donation]:
        """The gifts entered with `deposit_batch` = batch, in the order received (sparse
        `by-deposit` index), at most `limit`."""
        return [_from_item(i) for i in DonationModel.by_deposit.query(batch, limit=limit)][:limit]

    def aggregate_nets(self, donor_id: str, scopes: Sequence[str]) -> dict[str, int]:
        """A donor's net giving in several limit periods, in one request (zero where none)."""
        if len(scopes) == 1:
            return {scopes[0]: self.aggregate_net(donor_id, scopes[0])}
        found = {i.scope: int(i.net_cents or 0) for i in DonorAggregateModel.batch_get(
            [(donor_id, s) for s in dict.fromkeys(scopes)], consistent_read=True)}
        return {s: found.get(s, 0) for s in scopes}

    def donations_of(self, donor_id: str) -> list[Donation]:
        return [_from_item(i) for i in DonationModel.by_donor.query(donor_id)]

    # --- finance's lookup ---------------------------------------------------------------
    def donor_ids_for_email(self, email_donor_id: str) -> list[str]:
        """The donor an email belongs to (linked by its identity item, else its own digest)."""
        try:
            linked = DonorIdentityModel.get(f"email#{email_donor_id}").donor_id
        except DoesNotExist:
            linked = None
        return list(dict.fromkeys([i for i in (linked, email_donor_id) if i]))

    def donations_page(self, donor_id: str, limit: int, after: str | None) -> Slice[Donation]:
        """A donor's donations, newest first, a page at a time."""
        start = paging.decode(after, ["donation_id", "donor_id", "created_at"])
        found = DonationModel.by_donor.query(donor_id, limit=limit, last_evaluated_key=start,
                                             scan_index_forward=False)
        items = [_from_item(i) for i in found]
        return Slice(items, paging.encode(found.last_evaluated_key))

    def donors_named(self, last: str, first: str | None, limit: int) -> list[tuple[str, DonorSnapshot]]:
        """Donors whose last (and first) name match, by the name index; at most `limit`."""
        condition = DonorModel.first_name_key == name_key(first) if first else None
        ids = [i.donor_id for i in DonorModel.by_name.query(name_key(last), condition, limit=limit)]
        found = []
        for i in DonorModel.batch_get(ids):
            found.append((i.donor_id, DonorSnapshot(
                first_name=i.first_name, last_name=i.last_name, email=i.email, phone=i.phone,
                address_line1=i.address_line1, address_line2=i.address_line2, city=i.city,
                state=i.state, zip=i.zip, employer=i.employer, occupation=i.occupation)))
        return sorted(found, key=lambda d: (d[1].last_name.lower(), d[1].first_name.lower(), d[0]))

    def movements_of_donation(self, donation_id: str) -> list[RecordedMovement]:
        return [RecordedMovement(
            m.movement_id, m.kind, int(m.amount_cents), m.occurred_at.astimezone(timezone.utc),
            int(m.fee_cents) if m.fee_cents is not None else None,
            int(m.net_cents) if m.net_cents is not None else None, m.payout_id)
            for m in MovementModel.by_donation.query(donation_id, limit=200)]


@dataclass(frozen=True)
class Aggregate:
    net_cents: int = 0
    contribution_count: int = 0
    reserved_cents: int = 0
    exposure_cents: int = 0


class TaggedWrite:
    """A TransactWrite whose items carry names, so a cancellation says which item failed.

    PynamoDB sends condition checks, deletes, puts and updates in that order, whatever order
    they were added in; cancellation reasons follow the sent order."""

    def __init__(self, connection: Connection) -> None:
        self._tx = TransactWrite(connection=connection)
        self._tags: dict[str, list[str]] = {"check": [], "delete": [], "put": [], "update": []}

    def check(self, tag: str, model: Any, key: str, condition: Any, range_key: str | None = None) -> None:
        self._tx.condition_check(model, key, range_key=range_key, condition=condition)
        self._tags["check"].append(tag)

    def delete(self, tag: str, item: Any, condition: Any = None) -> None:
        self._tx.delete(item, condition=condition)
        self._tags["delete"].append(tag)

    def save(self, tag: str, item: Any, condition: Any = None) -> None:
        self._tx.save(item, condition=condition)
        self._tags["put"].append(tag)

    def update(self, tag: str, item: Any, actions: list, condition: Any = None,
               return_values: str | None = None) -> None:
        self._tx.update(item, actions=actions, condition=condition, return_values=return_values)
        self._tags["update"].append(tag)

    def commit(self) -> None:
        with self._tx:  # commits on leaving the block
            pass

    def failed(self, exc: TransactWriteError) -> set[str]:
        """The tags of the items whose condition failed."""
        order = self._tags["check"] + self._tags["delete"] + self._tags["put"] + self._tags["update"]
        return {tag for tag, reason in zip(order, _reasons(exc), strict=False)
                if reason == "ConditionalCheckFailed"}


def _commit_unless(tx: TaggedWrite, refused: set[str], what: str) -> bool:
    """Commit `tx`: False when the condition of an item tagged in `refused` failed (nothing
    written), StaleRead on a conflict or throttling worth retrying."""
    try:
        tx.commit()
    except TransactWriteError as exc:
        if tx.failed(exc) & refused:
            return False
        if _retryable(exc, _reasons(exc)):
            raise StaleRead(f"{what} conflicted; retry") from exc
        raise
    return True


def _old_item(tx: TaggedWrite, exc: TransactWriteError, tag: str) -> dict[str, Any] | None:
    """The item as it was when `tag`'s condition failed (asked for with ALL_OLD), if returned."""
    order = tx._tags["check"] + tx._tags["put"] + tx._tags["update"]
    for name, reason in zip(order, exc.cancellation_reasons or [], strict=False):
        if name == tag and reason is not None and reason.raw_item:
            return reason.raw_item
    return None


def _reasons(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def _retryable(exc: TransactWriteError, reasons: list[str | None]) -> bool:
    return response_code(exc) in _RETRYABLE_TX or bool(set(reasons) & _RETRYABLE_TX)


def _donation_changes(event: PaymentEvent, donation: Donation, new: PaymentState, now: datetime,
                      excess: ExcessRefund | None, decline: Decline | None = None) -> list:
    old, m = donation.state, DonationModel
    actions = [
        m.status.set(new.status), m.paid.set(new.paid), m.failed.set(new.failed),
        m.refunded_cents.set(new.refunded_cents), m.dispute.set(new.dispute),
        m.version.set(donation.version + 1), m.updated_at.set(now),
    ]
    if event.charge_id and not donation.charge_id:
        actions.append(m.charge_id.set(event.charge_id))
    if new.paid and not old.paid:
        actions.append(m.paid_at.set(event.occurred_at))
    if new.status != "pending":
        actions.append(m.pending_shard.remove())
    if excess is not None:
        actions += [m.excess_refund_cents.set(excess.cents), m.excess_reason.set(excess.reason)]
        r = excess.remedy
        if r is not None and r.redesignate_cents and r.to_election and r.to_scope and r.on:
            actions += [m.redesignated_cents.set(r.redesignate_cents),
                        m.redesignated_to.set(r.to_election), m.redesignated_scope.set(r.to_scope),
                        m.redesignated_on.set(r.on.isoformat()), m.redesignation_status.set("presumed")]
        if r is not None and r.hold_cents and r.hold_until:
            actions += [m.excess_held_cents.set(r.hold_cents),
                        m.excess_held_until.set(r.hold_until.isoformat()),
                        m.held_shard.set(_held_shard(donation.donation_id))]
    if decline is not None:
        actions.append(m.declines.set(decline.count))
        if decline.reason:
            actions.append(m.failure_reason.set(decline.reason))
    return actions


def _aggregate_changes(change: AggregateChange) -> list:
    a = DonorAggregateModel
    return [
        a.net_cents.add(change.net_cents), a.contribution_count.add(change.contributions),
        a.reserved_cents.add(change.reserved_cents),
        a.exposure_cents.add(change.net_cents + change.reserved_cents),
    ]


def _aggregate_condition(change: AggregateChange) -> Any:
    a = DonorAggregateModel
    if change.expected_net_cents is not None:
        same = a.net_cents == change.expected_net_cents
        return same | a.net_cents.does_not_exist() if change.expected_net_cents == 0 else same
    limit = change.net_ceiling
    return None if limit is None else _within(a.net_cents, limit)


def _within(counter: Any, limit: Ceiling) -> Any:
    """The DynamoDB condition that `limit` holds for `counter` (an aggregate's attribute)."""
    condition = counter <= limit.at_most
    return condition | counter.does_not_exist() if limit.allows_none_yet else condition


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
        m.last_name_key.set(name_key(donor.last_name)), m.first_name_key.set(name_key(donor.first_name)),
    ]
    actions.append(m.address_line2.set(donor.address_line2) if donor.address_line2
                   else m.address_line2.remove())
    if donor.phone:
        actions.append(m.phone.set(donor.phone))
    return actions


def _to_item(d: Donation, pending_shards: int = 10) -> DonationModel:
    s = d.state
    donor = d.donor
    return DonationModel(
        d.donation_id, page_slug=d.page_slug, committee_id=d.committee_id, election=d.election,
        amount_cents=s.amount_cents, status=s.status, paid=s.paid, failed=s.failed,
        refunded_cents=s.refunded_cents, dispute=s.dispute, donor_id=d.donor_id,
        donor=DonorFields(**{k: getattr(donor, k) for k in _DONOR_FIELDS}),
        refcode=d.refcode, email_opt_in=d.email_opt_in, sms_opt_in=d.sms_opt_in or None,
        attestations=d.attestations, locale=None if d.locale == "en" else d.locale,
        channel=d.channel, reference=d.reference, deposit_batch=d.deposit_batch,
        in_kind_description=d.in_kind_description,
        conduit=d.conduit.record() if d.conduit else None,
        interests=list(d.interests) or None,
        idempotency_key=d.idempotency_key, fingerprint=d.fingerprint,
        payment_intent_id=d.payment_intent_id, charge_id=d.charge_id, paid_at=d.paid_at,
        limit_scope=d.limit_scope or None, reserved_cents=d.reserved_cents,
        reserved_by=d.reserved_by,
        excess_refund_cents=d.excess_refund_cents, excess_reason=d.excess_reason,
        declines=d.declines, failure_reason=d.failure_reason,
        best_efforts_flag=d.best_efforts_flag, toward_debt=d.toward_debt or None, client_ip=d.client_ip,
        review_signals=d.review_signals or None, review_status=d.review_status,
        card_wallet=d.card_wallet, contribution_movement_id=d.contribution_movement_id,
        review_queue="open" if d.review_status == "open" else None,
        review_flagged_at=d.created_at if d.review_status == "open" else None,
        variant_id=d.variant_id, subscription_id=d.subscription_id, invoice_id=d.invoice_id,
        customer_id=d.customer_id,
        redesignated_cents=d.redesignated_cents or None, redesignated_to=d.redesignated_to,
        redesignated_scope=d.redesignated_scope,
        redesignated_on=d.redesignated_on.isoformat() if d.redesignated_on else None,
        redesignation_status=d.redesignation_status,
        excess_held_cents=d.excess_held_cents or None,
        excess_held_until=d.excess_held_until.isoformat() if d.excess_held_until else None,
        held_shard=_held_shard(d.donation_id) if d.excess_held_cents else None,
        pending_shard=(f"pending#{shard_for(d.donation_id, pending_shards)}"
                       if s.status == "pending" else None),
        checked_at=d.created_at if s.status == "pending" else None,
        created_at=d.created_at, updated_at=d.created_at,
        version=d.version,
    )


_DONOR_FIELDS = tuple(DonorSnapshot.__dataclass_fields__)
# The `excess-held` index's partitions. Only excessive gifts are written there, but a
# committee's limit lowered mid-campaign can hold many of one day: spread them anyway.
HELD_SHARDS = 4


def _held_shard(donation_id: str) -> str:
    return f"held#{int(hashlib.sha256(donation_id.encode()).hexdigest()[:8], 16) % HELD_SHARDS}"

# The `by-end-day` index's partitions: every plan of an election ends the same day.
PLAN_END_SHARDS = 10


def _ending_shard(subscription_id: str) -> str:
    return str(int(hashlib.sha256(subscription_id.encode()).hexdigest()[:8], 16) % PLAN_END_SHARDS)


def _plan_from_item(i: RecurringPlanModel) -> RecurringPlan:
    return RecurringPlan(
        subscription_id=i.subscription_id, first_donation_id=i.first_donation_id,
        donor_id=i.donor_id, donor=DonorSnapshot(**{k: getattr(i.donor, k) for k in _DONOR_FIELDS}),
        page_slug=i.page_slug, committee_id=i.committee_id, election=i.election,
        amount_cents=int(i.amount_cents), customer_id=i.customer_id, status=i.status,
        created_at=i.created_at,
        ends_on=date.fromisoformat(i.ends_on) if i.ends_on else None,
        charge_day=int(i.charge_day) if i.charge_day else None, version=int(i.version or 0),
    )


def _from_item(i: DonationModel) -> Donation:
    state = PaymentState(
        amount_cents=int(i.amount_cents), paid=bool(i.paid), failed=bool(i.failed),
        refunded_cents=int(i.refunded_cents or 0), dispute=i.dispute or "none",  # type: ignore[arg-type]
    )
    donor = DonorSnapshot(**{k: getattr(i.donor, k) for k in _DONOR_FIELDS})
    return Donation(
        donation_id=i.donation_id, page_slug=i.page_slug, committee_id=i.committee_id,
        election=i.election, donor=donor, donor_id=i.donor_id,
        created_at=i.created_at.astimezone(timezone.utc),
        fingerprint=i.fingerprint, state=state, refcode=i.refcode,
        email_opt_in=bool(i.email_opt_in), sms_opt_in=bool(i.sms_opt_in),
        idempotency_key=i.idempotency_key, locale=i.locale or "en",
        interests=[str(k) for k in i.interests or []],
        payment_intent_id=i.payment_intent_id, version=int(i.version or 0),
        charge_id=i.charge_id, paid_at=i.paid_at.astimezone(timezone.utc) if i.paid_at else None,
        limit_scope=i.limit_scope or "", reserved_cents=int(i.reserved_cents or 0),
        reserved_by=i.reserved_by,
        excess_refund_cents=int(i.excess_refund_cents or 0), excess_reason=i.excess_reason,
        declines=int(i.declines or 0), failure_reason=i.failure_reason,
        client_ip=i.client_ip, variant_id=i.variant_id, best_efforts_flag=bool(i.best_efforts_flag),
        toward_debt=bool(i.toward_debt),
        subscription_id=i.subscription_id,
        invoice_id=i.invoice_id, customer_id=i.customer_id,
        attestations=dict(i.attestations or {}),
        best_efforts_answered_on=(date.fromisoformat(i.best_efforts_answered_on)
                                  if i.best_efforts_answered_on else None),
        best_efforts_employer=i.best_efforts_employer,
        best_efforts_occupation=i.best_efforts_occupation,
        card_country=i.card_country, card_wallet=i.card_wallet,
        contribution_movement_id=i.contribution_movement_id,
        review_signals=[dict(x) for x in i.review_signals or []],
        review_status=i.review_status,
        redesignated_cents=int(i.redesignated_cents or 0), redesignated_to=i.redesignated_to,
        redesignated_scope=i.redesignated_scope,
        redesignated_on=date.fromisoformat(i.redesignated_on) if i.redesignated_on else None,
        redesignation_status=i.redesignation_status,
        excess_held_cents=int(i.excess_held_cents or 0),
        excess_held_until=date.fromisoformat(i.excess_held_until) if i.excess_held_until else None,
        reattribution_status=i.reattribution_status,
        reattribution_cents=int(i.reattribution_cents or 0),
        reattribution_request=dict(i.reattribution_request) if i.reattribution_request else None,
        reattributed_to=DonorSnapshot(**i.reattributed_to) if i.reattributed_to else None,
        reattributed_donor_id=i.reattributed_donor_id,
        reattributed_on=date.fromisoformat(i.reattributed_on) if i.reattributed_on else None,
        reattribution_attestations=dict(i.reattribution_attestations or {}),
        channel=i.channel, reference=i.reference, deposit_batch=i.deposit_batch,
        in_kind_description=i.in_kind_description, conduit=Conduit.from_record(i.conduit),
    )
