"""PynamoDB models, one table each. Names and region come from settings, the endpoint from
botocore's own `AWS_ENDPOINT_URL` (moto's server locally), never from code.

Hot keys: the only items written on every donation to one page are its counter shards,
keyed `page#{slug}#{n}` so that each shard is its own partition key.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings

_S = settings()


class _Meta:
    region = _S.region
    billing_mode = "PAY_PER_REQUEST"


class PageModel(Model):
    class Meta(_Meta):
        table_name = _S.pages_table

    slug = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    headline = UnicodeAttribute()
    body = UnicodeAttribute(default="")
    ask_amounts_cents = ListAttribute(of=NumberAttribute)
    goal_cents = NumberAttribute()
    deadline = UTCDateTimeAttribute()
    election = UnicodeAttribute()
    committee_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class DonationsByPaymentIntent(GlobalSecondaryIndex["DonationModel"]):
    class Meta:
        index_name = "by-payment-intent"
        projection = AllProjection()

    payment_intent_id = UnicodeAttribute(hash_key=True)


class DonationsByDonor(GlobalSecondaryIndex["DonationModel"]):
    class Meta:
        index_name = "by-donor"
        projection = AllProjection()

    donor_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DonorFields(MapAttribute[str, object]):
    """The donor as given on this donation (kept with it for FEC reporting)."""

    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    address_line1 = UnicodeAttribute()
    address_line2 = UnicodeAttribute(null=True)
    city = UnicodeAttribute()
    state = UnicodeAttribute()
    zip = UnicodeAttribute()
    employer = UnicodeAttribute()
    occupation = UnicodeAttribute()


class DonationModel(Model):
    class Meta(_Meta):
        table_name = _S.donations_table

    donation_id = UnicodeAttribute(hash_key=True)
    page_slug = UnicodeAttribute()
    committee_id = UnicodeAttribute()
    election = UnicodeAttribute()
    amount_cents = NumberAttribute()
    status = UnicodeAttribute()
    paid = BooleanAttribute(default=False)
    failed = BooleanAttribute(default=False)
    refunded_cents = NumberAttribute(default=0)
    dispute = UnicodeAttribute(default="none")
    donor_id = UnicodeAttribute()
    donor = DonorFields()
    refcode = UnicodeAttribute(null=True)
    email_opt_in = BooleanAttribute(default=False)
    attestations = JSONAttribute(default=dict)
    idempotency_key = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute()
    payment_intent_id = UnicodeAttribute(null=True)
    charge_id = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Optimistic lock: each event's transaction requires the version it read.
    version = NumberAttribute(default=0)

    by_payment_intent = DonationsByPaymentIntent()
    by_donor = DonationsByDonor()


class DonorModel(Model):
    """One record per person, keyed by a digest of the normalized email."""

    class Meta(_Meta):
        table_name = _S.donors_table

    donor_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    address_line1 = UnicodeAttribute()
    address_line2 = UnicodeAttribute(null=True)
    city = UnicodeAttribute()
    state = UnicodeAttribute()
    zip = UnicodeAttribute()
    employer = UnicodeAttribute()
    occupation = UnicodeAttribute()
    first_contribution_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()


class DonorAggregateModel(Model):
    """A donor's net giving to one committee for one election (the basis of FEC limits)."""

    class Meta(_Meta):
        table_name = _S.aggregates_table

    donor_id = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute(range_key=True)  # "{committee_id}#{election}"
    net_cents = NumberAttribute(default=0)
    contribution_count = NumberAttribute(default=0)


class CounterShardModel(Model):
    """One shard of a page's thermometer; a page's totals are the sum of its shards."""

    class Meta(_Meta):
        table_name = _S.counters_table

    counter_id = UnicodeAttribute(hash_key=True)  # "page#{slug}#{shard}"
    raised_cents = NumberAttribute(default=0)
    contribution_count = NumberAttribute(default=0)


class ProcessedEventModel(Model):
    """The marker that a Stripe event's effects are committed (written in the same transaction)."""

    class Meta(_Meta):
        table_name = _S.events_table

    event_id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    donation_id = UnicodeAttribute(null=True)
    processed_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class StaffKeyModel(Model):
    """A staff API key, stored only as its SHA-256 digest."""

    class Meta(_Meta):
        table_name = _S.staff_keys_table

    key_hash = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class MovementsByDay(GlobalSecondaryIndex["MovementModel"]):
    """Date-ordered money movements of a committee: `{committee_id}#{YYYY-MM-DD}#{shard}`, so no
    partition takes every donation of a busy day."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    ledger_key = UnicodeAttribute(hash_key=True)
    occurred_at = UTCDateTimeAttribute(range_key=True)


class MovementModel(Model):
    """One money movement (contribution, refund, dispute, dispute reversal) of one donation,
    written in the same transaction as the event that caused it."""

    class Meta(_Meta):
        table_name = _S.movements_table

    movement_id = UnicodeAttribute(hash_key=True)  # "{event_id}#{kind}"
    kind = UnicodeAttribute()
    amount_cents = NumberAttribute()  # signed, from the campaign's side
    occurred_at = UTCDateTimeAttribute()
    donation_id = UnicodeAttribute()
    donor_id = UnicodeAttribute()
    committee_id = UnicodeAttribute()
    election = UnicodeAttribute()
    page_slug = UnicodeAttribute()
    event_id = UnicodeAttribute()
    ledger_key = UnicodeAttribute()
    # Filled when Stripe pays the movement out (payout reconciliation).
    fee_cents = NumberAttribute(null=True)
    net_cents = NumberAttribute(null=True)
    payout_id = UnicodeAttribute(null=True)

    by_day = MovementsByDay()


class DueOutboxMessages(GlobalSecondaryIndex["OutboxModel"]):
    """Sparse: only messages still to deliver carry `pending_shard`."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class OutboxModel(Model):
    """Work decided inside a transaction (an email, a refund) and delivered after it."""

    class Meta(_Meta):
        table_name = _S.outbox_table

    message_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    payload = JSONAttribute()
    status = UnicodeAttribute()  # pending | sent | failed | cancelled
    due_at = UTCDateTimeAttribute()
    pending_shard = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    result = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)

    due = DueOutboxMessages()



class CommitteeModel(Model):
    """A committee's type and limits (absent: a candidate committee with default limits)."""

    class Meta(_Meta):
        table_name = _S.committees_table

    committee_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    limit_cents = NumberAttribute()
    itemization_threshold_cents = NumberAttribute()
    updated_at = UTCDateTimeAttribute()


# Every table the app uses: created by storage/tables.py, declared by devtools/deploy.
ALL_MODELS: tuple[type[Model], ...] = (
    PageModel, DonationModel, DonorModel, DonorAggregateModel, CounterShardModel,
    ProcessedEventModel, StaffKeyModel, OutboxModel, MovementModel, CommitteeModel,
)
