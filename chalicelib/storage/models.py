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
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import settings, table_name
from chalicelib.storage.sessions import share_loader

share_loader()


class _Meta:
    region = settings().region
    billing_mode = "PAY_PER_REQUEST"


class PagesByCommittee(GlobalSecondaryIndex["PageModel"]):
    """A committee's pages in slug order, so a job reads one committee's pages (the forgo job,
    chalicelib/compliance/withdrawal.py) with a Query, never a Scan of every committee's.
    Keys only: the job reads each page by key, consistently, before deciding on it."""

    class Meta:
        index_name = "by-committee"
        projection = KeysOnlyProjection()

    committee_id = UnicodeAttribute(hash_key=True)
    slug = UnicodeAttribute(range_key=True)


class PagesByParent(GlobalSecondaryIndex["PageModel"]):
    """Supporters' pages under one campaign page (sparse: only they have a `parent_slug`)."""

    class Meta:
        index_name = "by-parent"
        projection = AllProjection()

    parent_slug = UnicodeAttribute(hash_key=True)
    slug = UnicodeAttribute(range_key=True)


class PageModel(Model):
    class Meta(_Meta):
        table_name = table_name("pages")

    slug = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    headline = UnicodeAttribute()
    body = UnicodeAttribute(default="")
    ask_amounts_cents = ListAttribute(of=NumberAttribute)
    goal_cents = NumberAttribute()
    deadline = UTCDateTimeAttribute()
    election = UnicodeAttribute()
    # The elections a donor may designate on the page (absent: only `election`).
    elections = ListAttribute(of=UnicodeAttribute, null=True)
    committee_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Later deadlines: when `deadline` passes the page moves on to the next one.
    deadlines = ListAttribute(of=UTCDateTimeAttribute, null=True)
    deadline_extended = BooleanAttribute(default=False)
    variants = JSONAttribute(null=True)  # [{"id", "headline", "body", "ask_amounts_cents"?}]
    auto_allocate = BooleanAttribute(default=False)
    # Other sites' origins allowed to frame the page's form (/embed/{slug}); absent: none.
    embed_origins = ListAttribute(of=UnicodeAttribute, null=True)
    # The page's language (`en`, `es`); absent: English.
    locale = UnicodeAttribute(null=True)
    # Why the page closed before its deadline (`election_forgone`); absent while it runs.
    closed_reason = UnicodeAttribute(null=True)
    # Optimistic lock: each update (and its history item) requires the version it read.
    version = NumberAttribute(default=0)
    by_committee = PagesByCommittee()
    # A supporter's page: the campaign page it was started under, and its supporter
    # ({"handle", "owner_id", "display_name", "note", "refcode", "status", "decided_by"?}).
    parent_slug = UnicodeAttribute(null=True)
    supporter = JSONAttribute(null=True)
    # A campaign page's setting: its supporters' pages go live without an organizer's approval.
    supporters_auto_approve = BooleanAttribute(default=False)

    by_parent = PagesByParent()


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


class PendingDonations(GlobalSecondaryIndex["DonationModel"]):
    """Sparse: donations still waiting for their payment's outcome, per shard, the one checked
    longest ago first (`checked_at`: when the reconciler last asked Stripe, else its creation),
    so the reconciler pages past the ones it checked recently.
    Keys only: every intake writes it and every outcome deletes from it, so its items stay at
    one write unit each; the reconciler reads the few donations it needs by key."""

    class Meta:
        index_name = "pending"
        projection = KeysOnlyProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    checked_at = UTCDateTimeAttribute(range_key=True)


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


class DonationsByDeposit(GlobalSecondaryIndex["DonationModel"]):
    """Sparse: gifts finance entered with a `deposit_batch`, in the order received (a bank
    deposit's entries, docs/reports.md "Deposits"). No online donation carries the key."""

    class Meta:
        index_name = "by-deposit"
        projection = AllProjection()

    deposit_batch = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DonationsInReview(GlobalSecondaryIndex["DonationModel"]):
    """Sparse: contributions waiting for a person's judgement (`review_queue` is set only while
    one is open), oldest first. Written only when a signal is found, never on every donation;
    keys only, the listing reads the few donations of a page by key."""

    class Meta:
        index_name = "in-review"
        projection = KeysOnlyProjection()

    review_queue = UnicodeAttribute(hash_key=True)
    review_flagged_at = UTCDateTimeAttribute(range_key=True)


class HeldExcess(GlobalSecondaryIndex["DonationModel"]):
    """Sparse: contributions with an excess held for the donor's remedies (`held_shard` is set
    only while some is held), by day 60 (local ISO date), spread over `HELD_SHARDS` partitions;
    the daily job reads each shard up to today. Keys only: the job reads the few it refunds."""

    class Meta:
        index_name = "excess-held"
        projection = KeysOnlyProjection()

    held_shard = UnicodeAttribute(hash_key=True)
    excess_held_until = UnicodeAttribute(range_key=True)


class DonationModel(Model):
    class Meta(_Meta):
        table_name = table_name("donations")

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
    # Received off the pages (giving/offline.py): check, cash, wire, in kind or through a
    # conduit, and what finance noted.
    channel = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    deposit_batch = UnicodeAttribute(null=True)
    in_kind_description = UnicodeAttribute(null=True)
    conduit = JSONAttribute(null=True)  # giving.model.Conduit.record(), for `conduit`
    email_opt_in = BooleanAttribute(default=False)
    sms_opt_in = BooleanAttribute(null=True)
    interests = ListAttribute(of=UnicodeAttribute, null=True)  # action kinds (follow-ups)
    locale = UnicodeAttribute(null=True)  # the language the donor gave in; absent: English
    attestations = JSONAttribute(default=dict)
    idempotency_key = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute()
    payment_intent_id = UnicodeAttribute(null=True)
    charge_id = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    limit_scope = UnicodeAttribute(null=True)
    reserved_cents = NumberAttribute(default=0)
    # The donor id of the email that made the donation, when its reservation is held there
    # rather than on `donor_id` (a person linked by name and ZIP): absent means `donor_id`.
    reserved_by = UnicodeAttribute(null=True)
    excess_refund_cents = NumberAttribute(default=0)
    excess_reason = UnicodeAttribute(null=True)
    # Declined confirmations of its PaymentIntent; `card_testing` once too many ended it.
    declines = NumberAttribute(default=0)
    failure_reason = UnicodeAttribute(null=True)
    # Employer or occupation missing or a placeholder the FEC rejects ("best efforts").
    best_efforts_flag = BooleanAttribute(default=False)
    # Designated for a held election: counted on that election's debt counter.
    toward_debt = BooleanAttribute(null=True)
    # The donor's answer to its request: employer, occupation, when (UTC) and the committee's
    # local day (ISO date) it came.
    best_efforts_employer = UnicodeAttribute(null=True)
    best_efforts_occupation = UnicodeAttribute(null=True)
    best_efforts_answered_at = UTCDateTimeAttribute(null=True)
    best_efforts_answered_on = UnicodeAttribute(null=True)
    # The paying card as its charge reported it (charge.succeeded): issuing country, fingerprint.
    card_country = UnicodeAttribute(null=True)
    card_fingerprint = UnicodeAttribute(null=True)
    card_wallet = UnicodeAttribute(null=True)  # card.wallet.type: apple_pay, google_pay, link
    # The contribution's movement, once its payment is recorded (the charge's card check puts
    # the wallet on it when it arrives after the payment).
    contribution_movement_id = UnicodeAttribute(null=True)
    # Signals of prohibited money for a person to judge (compliance/reviews.py): the signals,
    # the queue while open, and the decision.
    review_signals = JSONAttribute(null=True)
    review_queue = UnicodeAttribute(null=True)
    review_flagged_at = UTCDateTimeAttribute(null=True)
    review_status = UnicodeAttribute(null=True)  # open | accepted | refunded
    reviewed_by = UnicodeAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    # Presumptive redesignation of the excess (compliance/remedies.py): the amount, the
    # election and limit period it moved to, the committee's local day (ISO date), and
    # `presumed` or `refunded` (the donor asked for it back; then when).
    redesignated_cents = NumberAttribute(null=True)
    redesignated_to = UnicodeAttribute(null=True)
    redesignated_scope = UnicodeAttribute(null=True)
    redesignated_on = UnicodeAttribute(null=True)
    redesignation_status = UnicodeAttribute(null=True)
    redesignation_refund_at = UTCDateTimeAttribute(null=True)
    # The excess held for the donor's remedies until its day 60 (local ISO date); `held_shard`
    # only while some is held (the sparse `excess-held` index of the day-60 job).
    excess_held_cents = NumberAttribute(null=True)
    excess_held_until = UnicodeAttribute(null=True)
    held_shard = UnicodeAttribute(null=True)
    # Reattribution of the held excess (compliance/reattribution.py): requested | confirmed,
    # the amount, the donor's request ({first_name, last_name, email}), and once confirmed the
    # other person (DonorFields' keys), their donor id, attestations and the local ISO day.
    reattribution_status = UnicodeAttribute(null=True)
    reattribution_cents = NumberAttribute(null=True)
    reattribution_request = JSONAttribute(null=True)
    reattributed_to = JSONAttribute(null=True)
    reattributed_donor_id = UnicodeAttribute(null=True)
    reattributed_on = UnicodeAttribute(null=True)
    reattribution_attestations = JSONAttribute(null=True)
    # Kept for velocity limits (a later decline counts against this address); never logged.
    client_ip = UnicodeAttribute(null=True)
    variant_id = UnicodeAttribute(null=True)
    # Monthly gifts: the plan this contribution belongs to, and its invoice.
    subscription_id = UnicodeAttribute(null=True)
    invoice_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    # Present only while pending (a sparse, sharded index for the reconciler).
    pending_shard = UnicodeAttribute(null=True)
    # When the reconciler last checked this pending donation (its creation until then).
    checked_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Optimistic lock: each event's transaction requires the version it read.
    version = NumberAttribute(default=0)

    by_payment_intent = DonationsByPaymentIntent()
    by_donor = DonationsByDonor()
    by_deposit = DonationsByDeposit()
    pending = PendingDonations()
    in_review = DonationsInReview()
    excess_held = HeldExcess()


class DonorsByName(GlobalSecondaryIndex["DonorModel"]):
    """Finance's lookup by name: digests of the normalized last and first name (keys carry no
    name), kept with every success's donor upsert."""

    class Meta:
        index_name = "by-name"
        projection = KeysOnlyProjection()

    last_name_key = UnicodeAttribute(hash_key=True)
    first_name_key = UnicodeAttribute(range_key=True)


class DonorModel(Model):
    """One record per person, keyed by a digest of the normalized email."""

    class Meta(_Meta):
        table_name = table_name("donors")

    last_name_key = UnicodeAttribute(null=True)
    first_name_key = UnicodeAttribute(null=True)
    by_name = DonorsByName()

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
    # The Stripe customer holding the card the donor saved for express giving.
    customer_id = UnicodeAttribute(null=True)
    # Express giving: when each recent express charge began (the last 24 hours' only), guarded
    # by a version; and the moment every express link issued until then stopped working.
    express_charges = ListAttribute(of=UTCDateTimeAttribute, null=True)
    express_version = NumberAttribute(null=True)
    express_revoked_at = UTCDateTimeAttribute(null=True)
    # "Best efforts": when the donor last answered a request for employer and occupation.
    employment_answered_at = UTCDateTimeAttribute(null=True)
    # The donor portal: when a sign-in link was last queued for this donor (one per gap).
    portal_link_requested_at = UTCDateTimeAttribute(null=True)


class PlansByEndDay(GlobalSecondaryIndex["RecurringPlanModel"]):
    """Sparse: running plans that end by themselves, by end day, spread over `PLAN_END_SHARDS`
    partitions (every plan of an election ends the same day), for the notice 7 days before."""

    class Meta:
        index_name = "by-end-day"
        projection = AllProjection()

    ending_shard = UnicodeAttribute(hash_key=True)
    ends_on = UnicodeAttribute(range_key=True)


class RecurringPlanModel(Model):
    """A donor's monthly gift: a Stripe subscription whose paid invoices become contributions."""

    class Meta(_Meta):
        table_name = table_name("plans")

    subscription_id = UnicodeAttribute(hash_key=True)
    first_donation_id = UnicodeAttribute()
    donor_id = UnicodeAttribute()
    donor = DonorFields()
    page_slug = UnicodeAttribute()
    committee_id = UnicodeAttribute()
    election = UnicodeAttribute()
    amount_cents = NumberAttribute()
    customer_id = UnicodeAttribute()
    status = UnicodeAttribute()  # active | canceled
    created_at = UTCDateTimeAttribute()
    canceled_at = UTCDateTimeAttribute(null=True)
    ends_on = UnicodeAttribute(null=True)  # YYYY-MM-DD, local: the subscription's cancel_at day
    # Set while the plan runs and has an end day (the `by-end-day` index), removed when it ends.
    ending_shard = UnicodeAttribute(null=True)
    charge_day = NumberAttribute(null=True)  # the donor's chosen charge day (1-28)
    version = NumberAttribute(null=True)  # each portal change adds one (None: never changed)
    synced_at = UTCDateTimeAttribute(null=True)  # the newest `customer.subscription.updated` applied
    by_end_day = PlansByEndDay()


class VelocityModel(Model):
    """One velocity counter (declines or intakes per IP, email or card) for one time window."""

    class Meta(_Meta):
        table_name = table_name("velocity")

    counter_key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class CardUseModel(Model):
    """Who first paid with one card for one committee in one election cycle (or PAC year): a
    digest of the holder's normalized name, so a later gift by another name on the same card is
    a signal. Written in the card check's own transaction."""

    class Meta(_Meta):
        table_name = table_name("card-uses")

    card_key = UnicodeAttribute(hash_key=True)  # committee#cycle start#card fingerprint
    holder = UnicodeAttribute()
    first_donation_id = UnicodeAttribute()
    first_used_at = UTCDateTimeAttribute()


class DonorIdentityModel(Model):
    """Maps an identity key (normalized email, or name + ZIP5) to the donor it belongs to."""

    class Meta(_Meta):
        table_name = table_name("identities")

    identity_key = UnicodeAttribute(hash_key=True)
    donor_id = UnicodeAttribute()
    # On the email's item only: the Stripe customer of the first paid gift from this address
    # that made one (monthly, or a card saved for express giving); later such gifts reuse it.
    customer_id = UnicodeAttribute(null=True)


class DonorAggregateModel(Model):
    """A donor's net giving to one committee in one limit period (the basis of FEC limits)."""

    class Meta(_Meta):
        table_name = table_name("aggregates")

    donor_id = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute(range_key=True)  # "{committee_id}#{election}" or "…#Y{year}"
    net_cents = NumberAttribute(default=0)
    contribution_count = NumberAttribute(default=0)
    # Pending donations' reservations, and net + reserved: what intake checks the limit against.
    reserved_cents = NumberAttribute(default=0)
    exposure_cents = NumberAttribute(default=0)


class CounterShardModel(Model):
    """One shard of a page's thermometer; a page's totals are the sum of its shards."""

    class Meta(_Meta):
        table_name = table_name("counters")

    counter_id = UnicodeAttribute(hash_key=True)  # "page#{slug}#{shard}", "variant#{slug}#{id}#{shard}"
    raised_cents = NumberAttribute(default=0)
    contribution_count = NumberAttribute(default=0)
    # A/B variants: donations that became contributions, and their net amount.
    conversions = NumberAttribute(default=0)
    amount_cents = NumberAttribute(default=0)
    # Distinct visitors shown a variant, or arriving with a refcode (`refcode#{slug}#{code}#{n}`).
    impressions = NumberAttribute(default=0)


class ProcessedEventModel(Model):
    """The marker that a Stripe event's effects are committed (written in the same transaction)."""

    class Meta(_Meta):
        table_name = table_name("events")

    event_id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    donation_id = UnicodeAttribute(null=True)
    processed_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class StaffKeysByEmail(GlobalSecondaryIndex["StaffKeyModel"]):
    """Sparse: keys registered with an email, found by a keyed digest of it (no scan, and the
    index key says nothing about the address)."""

    class Meta:
        index_name = "by-email"
        projection = KeysOnlyProjection()

    email_key = UnicodeAttribute(hash_key=True)


class StaffKeyModel(Model):
    """A staff API key, stored only as its SHA-256 digest."""

    class Meta(_Meta):
        table_name = table_name("staff-keys")

    key_hash = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    # The console's email sign-in: where the link goes, and the last time one was asked for.
    email = UnicodeAttribute(null=True)
    email_key = UnicodeAttribute(null=True)
    signin_requested_at = UTCDateTimeAttribute(null=True)

    by_email = StaffKeysByEmail()


class SessionsBySubject(GlobalSecondaryIndex["WebSessionModel"]):
    """A subject's sessions (every console session of one staff key), to end them all."""

    class Meta:
        index_name = "by-subject"
        projection = KeysOnlyProjection()

    subject = UnicodeAttribute(hash_key=True)


class WebSessionModel(Model):
    """A browser session (console, later portal), keyed by a digest of its cookie's id; or a
    used single-use link's nonce (`kind` "used-link"). Expired items go by TTL."""

    class Meta(_Meta):
        table_name = table_name("sessions")

    session_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    csrf_token = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    by_subject = SessionsBySubject()


class MovementsByMonth(GlobalSecondaryIndex["MovementModel"]):
    """Date-ordered money movements of a committee: `{committee_id}#{YYYY-MM}#{shard}`, so no
    partition takes every donation of a busy day and a two-year replay is 24 x shards queries."""

    class Meta:
        index_name = "by-month"
        projection = AllProjection()

    ledger_key = UnicodeAttribute(hash_key=True)
    occurred_at = UTCDateTimeAttribute(range_key=True)


class MovementsByDonation(GlobalSecondaryIndex["MovementModel"]):
    """A donation's movements, for payout reconciliation (a balance transaction names a charge,
    refund or dispute, which leads to one donation)."""

    class Meta:
        index_name = "by-donation"
        projection = AllProjection()

    donation_id = UnicodeAttribute(hash_key=True)
    occurred_at = UTCDateTimeAttribute(range_key=True)


class MovementModel(Model):
    """One money movement (contribution, refund, dispute, dispute reversal) of one donation,
    written in the same transaction as the event that caused it."""

    class Meta(_Meta):
        table_name = table_name("movements")

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
    # The donation's intake time: Stripe's event times are whole seconds, so two gifts of one
    # donor in the same second are ordered by when they were given.
    intake_at = UTCDateTimeAttribute(null=True)
    # Filled when Stripe pays the movement out (payout reconciliation).
    fee_cents = NumberAttribute(null=True)
    net_cents = NumberAttribute(null=True)
    payout_id = UnicodeAttribute(null=True)
    balance_transaction_id = UnicodeAttribute(null=True)  # the one Stripe record it matched
    # The wallet the donation's card was paid through (apple_pay, google_pay, link), if any.
    wallet = UnicodeAttribute(null=True)

    by_month = MovementsByMonth()
    by_donation = MovementsByDonation()


class PayoutsByCreation(GlobalSecondaryIndex["PayoutModel"]):
    """Every payout, newest first: about one a day, so one partition is plenty."""

    class Meta:
        index_name = "by-creation"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PayoutModel(Model):
    """A Stripe payout: what its `payout.*` event said, then what reconciliation found."""

    class Meta(_Meta):
        table_name = table_name("payouts")

    listing = UnicodeAttribute(null=True)  # "payouts": set with every write (the index)
    by_creation = PayoutsByCreation()

    payout_id = UnicodeAttribute(hash_key=True)
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    arrival_date = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    failure_code = UnicodeAttribute(null=True)
    failure_message = UnicodeAttribute(null=True)
    failed_at = UTCDateTimeAttribute(null=True)
    # A failed payout's money comes back to the balance and leaves again in this payout.
    returned_in = UnicodeAttribute(null=True)
    last_event_id = UnicodeAttribute(null=True)
    requested_at = UTCDateTimeAttribute(null=True)
    # Filled by the reconciliation job (see chalicelib/payouts).
    reconciled = BooleanAttribute(null=True)
    reconciled_at = UTCDateTimeAttribute(null=True)
    summary = JSONAttribute(null=True)
    unmatched = JSONAttribute(null=True)


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
        table_name = table_name("outbox")

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
    """A committee's type, limits and calendar (absent: a candidate committee with default
    limits)."""

    class Meta(_Meta):
        table_name = table_name("committees")

    committee_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    limit_cents = NumberAttribute()
    itemization_threshold_cents = NumberAttribute()
    # Absent on committees stored before they had one (America/New_York is then assumed).
    time_zone = UnicodeAttribute(null=True)
    # Address, treasurer, candidate, previous general, elections and status, as plain JSON
    # (see storage.committees): read whole with the committee, never queried.
    calendar = JSONAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    # Its reports to the FEC (absent on committees configured before them: the defaults).
    filing_frequency = UnicodeAttribute(null=True)  # quarterly | monthly
    opening_cash_on_hand_cents = NumberAttribute(null=True)
    opening_cash_as_of = UnicodeAttribute(null=True)  # YYYY-MM-DD, local


class ExportsByCreation(GlobalSecondaryIndex["ExportModel"]):
    """Every export, newest first (the console's history): finance asks for a few a day, so one
    partition is plenty."""

    class Meta:
        index_name = "by-creation"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ExportModel(Model):
    """An export job: what finance asked for, its progress, and where its files are."""

    class Meta(_Meta):
        table_name = table_name("exports")

    listing = UnicodeAttribute(default="exports")
    by_creation = ExportsByCreation()

    export_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # contributions_csv | fec_schedule_a
    committee_id = UnicodeAttribute(null=True)  # absent: every committee (CSV only)
    from_day = UnicodeAttribute()  # YYYY-MM-DD, UTC, inclusive
    to_day = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | running | succeeded | failed
    requested_by = UnicodeAttribute()  # the staff key's name
    row_count = NumberAttribute(null=True)
    rows_done = NumberAttribute(default=0)
    summary = JSONAttribute(null=True)
    files = JSONAttribute(null=True)  # {"download": key, "jsonl": key}
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    lease_until = UTCDateTimeAttribute(null=True)  # a running job's run is alive until then
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)


class FilingReportsByCommittee(GlobalSecondaryIndex["FilingReportModel"]):
    """A committee's reports (a few a year): the calendar check and amendment numbers read them."""

    class Meta:
        index_name = "by-committee"
        projection = AllProjection()

    committee_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class FilingReportModel(Model):
    """A treasurer's report to the FEC (or an amendment of one): its state and where its files
    are. The records themselves are files in the exports bucket (a report may hold more rows
    than an item may)."""

    class Meta(_Meta):
        table_name = table_name("filing-reports")

    report_id = UnicodeAttribute(hash_key=True)
    committee_id = UnicodeAttribute()
    by_committee = FilingReportsByCommittee()
    report_code = UnicodeAttribute()
    from_day = UnicodeAttribute()  # YYYY-MM-DD, local to the committee
    to_day = UnicodeAttribute()
    status = UnicodeAttribute()  # building | draft | final | failed
    requested_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    form = UnicodeAttribute(null=True)
    amends = UnicodeAttribute(null=True)
    original_fec_id = UnicodeAttribute(null=True)
    amendment_number = NumberAttribute(default=0)
    files = JSONAttribute(null=True)
    error_count = NumberAttribute(default=0)
    warning_count = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    built_at = UTCDateTimeAttribute(null=True)
    treasurer_name = UnicodeAttribute(null=True)
    date_signed = UnicodeAttribute(null=True)
    finalized_at = UTCDateTimeAttribute(null=True)


class NoticesByCreation(GlobalSecondaryIndex["NoticeModel"]):
    """Every 48-hour notice, newest first: a campaign has a few a cycle, so one partition will do."""

    class Meta:
        index_name = "by-creation"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class NoticeModel(Model):
    """A 48-hour notice (Form 6): the contributions of one local day for one election."""

    class Meta(_Meta):
        table_name = table_name("notices")

    notice_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(default="notices")
    by_creation = NoticesByCreation()
    committee_id = UnicodeAttribute()
    election = UnicodeAttribute()
    received_on = UnicodeAttribute()  # YYYY-MM-DD, local to the committee
    contributions = UnicodeSetAttribute()
    due_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    filed_at = UTCDateTimeAttribute(null=True)


class LocationFields(MapAttribute[str, object]):
    city = UnicodeAttribute()
    state = UnicodeAttribute()
    zip = UnicodeAttribute()


class ActionsProposed(GlobalSecondaryIndex["ActionModel"]):
    """Sparse: supporters' proposed actions waiting for an organizer (`proposal_queue` is set
    only while `review` is `proposed`), oldest first: the console's approval queue, paged."""

    class Meta:
        index_name = "proposed"
        projection = AllProjection()

    proposal_queue = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ActionModel(Model):
    """Something supporters can do together (follow-ups); `seats_taken` guards `capacity`."""

    class Meta(_Meta):
        table_name = table_name("actions")

    action_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    starts_at = UTCDateTimeAttribute(null=True)
    ends_at = UTCDateTimeAttribute(null=True)
    location = LocationFields(null=True)
    virtual = BooleanAttribute(default=False)
    capacity = NumberAttribute(null=True)  # absent: no limit
    seats_taken = NumberAttribute(default=0)
    # How many wait for a seat: a seat given back goes to the first of them in the same write.
    waiting = NumberAttribute(default=0)
    host = JSONAttribute(null=True)  # {"kind": staff|supporter, "ref", "name"}
    review = UnicodeAttribute(null=True)  # a supporter's proposal: proposed | approved | declined
    proposal_queue = UnicodeAttribute(null=True)  # "open" while proposed (the sparse index)
    pages = ListAttribute(of=UnicodeAttribute, default=list)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    proposed = ActionsProposed()


class InvitationsByAction(GlobalSecondaryIndex["InvitationModel"]):
    class Meta:
        index_name = "by-action"
        projection = AllProjection()

    action_id = UnicodeAttribute(hash_key=True)
    invited_at = UTCDateTimeAttribute(range_key=True)


class InvitationsByPerson(GlobalSecondaryIndex["InvitationModel"]):
    class Meta:
        index_name = "by-person"
        projection = AllProjection()

    person_id = UnicodeAttribute(hash_key=True)
    invited_at = UTCDateTimeAttribute(range_key=True)


class InvitationsByWaitlist(GlobalSecondaryIndex["InvitationModel"]):
    """Sparse: who waits for a seat at an action, first come first (`waitlist_key` is set only
    while an invitation is `waitlisted`)."""

    class Meta:
        index_name = "by-waitlist"
        projection = KeysOnlyProjection()

    action_id = UnicodeAttribute(hash_key=True)
    waitlist_key = UnicodeAttribute(range_key=True)


class InvitationModel(Model):
    """One person invited to one action (`{person_id}.{action_id}`), and their answer."""

    class Meta(_Meta):
        table_name = table_name("invitations")

    invitation_id = UnicodeAttribute(hash_key=True)
    person_id = UnicodeAttribute()
    action_id = UnicodeAttribute()
    # invited | yes | no | waitlisted | confirmed | cancelled | attended | no_show
    status = UnicodeAttribute()
    invited_at = UTCDateTimeAttribute()
    responded_at = UTCDateTimeAttribute(null=True)
    message_id = UnicodeAttribute()  # the outbox message that first carried it
    waitlisted_at = UTCDateTimeAttribute(null=True)
    waitlist_key = UnicodeAttribute(null=True)  # `{waitlisted_at}#{invitation_id}` while waiting
    contact_shared_at = UTCDateTimeAttribute(null=True)  # agreed the host may see their email
    rating = NumberAttribute(null=True)  # "How was it?" 1-5, from an attendee
    rated_at = UTCDateTimeAttribute(null=True)

    by_action = InvitationsByAction()
    by_person = InvitationsByPerson()
    by_waitlist = InvitationsByWaitlist()


class PeopleByShareCode(GlobalSecondaryIndex["PersonModel"]):
    """Sparse: people with a personal share link."""

    class Meta:
        index_name = "by-share-code"
        projection = AllProjection()

    share_code = UnicodeAttribute(hash_key=True)


class PeopleByPhone(GlobalSecondaryIndex["PersonModel"]):
    """Sparse: people who agreed to texts, by their number (E.164): a reply (STOP, HELP, START)
    names only the number it came from."""

    class Meta:
        index_name = "by-phone"
        projection = KeysOnlyProjection()

    phone = UnicodeAttribute(hash_key=True)


class PeopleByRecruiting(GlobalSecondaryIndex["PersonModel"]):
    """Sparse: people whose share link brought in a gift, by money raised, in a few shards."""

    class Meta:
        index_name = "by-recruiting"
        projection = AllProjection()

    recruiter_shard = UnicodeAttribute(hash_key=True)
    recruited_cents = NumberAttribute(range_key=True)


class PersonModel(Model):
    """Someone we may write to (donor or signed-up supporter), keyed like donors by a digest of
    the normalized email: consent, unsubscribe, suppression, caps and share credit."""

    class Meta(_Meta):
        table_name = table_name("people")

    person_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    zip = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)  # the language of their latest gift; absent: English
    interests = ListAttribute(of=UnicodeAttribute, null=True)
    subscribed = BooleanAttribute(default=False)
    confirmed_at = UTCDateTimeAttribute(null=True)
    unsubscribed_at = UTCDateTimeAttribute(null=True)
    suppressed = UnicodeAttribute(null=True)  # bounce | complaint
    suppressed_at = UTCDateTimeAttribute(null=True)
    share_code = UnicodeAttribute(null=True)
    share_page = UnicodeAttribute(null=True)
    # Set with the first credit: the recruiters' leaderboard (sharded, most money first).
    recruiter_shard = UnicodeAttribute(null=True)
    recruited_count = NumberAttribute(default=0)
    recruited_cents = NumberAttribute(default=0)
    credited = UnicodeSetAttribute(null=True)  # donation ids already counted
    last_invited_at = UTCDateTimeAttribute(null=True)
    last_invitation_message = UnicodeAttribute(null=True)
    pending_signup = JSONAttribute(null=True)  # signup fields awaiting confirmation
    # When and how each purpose's consent was last given or withdrawn (`Consent.record()`).
    consent_invitations = JSONAttribute(null=True)
    consent_sms = JSONAttribute(null=True)
    consent_sharing = JSONAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # E.164, set with a texts consent (the by-phone index)
    last_text_day = UnicodeAttribute(null=True)  # the once-a-day cap on non-essential texts
    last_text_message = UnicodeAttribute(null=True)
    confirmation_sent_at = UTCDateTimeAttribute(null=True)
    signup_refcode = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_share_code = PeopleByShareCode()
    by_phone = PeopleByPhone()
    by_recruiting = PeopleByRecruiting()


class MailModel(Model):
    """The send ledger: one item per outbox message that sends email (exactly-once sends)."""

    class Meta(_Meta):
        table_name = table_name("mail")

    message_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    person_id = UnicodeAttribute()
    state = UnicodeAttribute()  # sending | sent | not_sent
    attempts = NumberAttribute(default=0)
    ses_message_id = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    send_token = UnicodeAttribute(null=True)  # the `begin_send` call that marked it sending


class PageHistoryModel(Model):
    """Audit trail of a page's deadline and goal: one item per change, written in the same
    transaction as the page change itself (the page's new version is the range key)."""

    class Meta(_Meta):
        table_name = table_name("page-history")

    slug = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    action = UnicodeAttribute()  # created | updated
    changed_at = UTCDateTimeAttribute()
    changed_by = UnicodeAttribute()  # the staff key's name
    changes = JSONAttribute()  # {"deadline": {"from": iso|null, "to": iso}, "goal_cents": ...}
    deadline_extended = BooleanAttribute(default=False)


class VisitModel(Model):
    """One visitor's first view of a page: their A/B variant (`a#{slug}#{experiment}#{visitor}`)
    or a refcode they arrived with (`r#{slug}#{refcode}#{visitor}`). Created once, with the
    impression counted in the same transaction, so each visitor counts once."""

    class Meta(_Meta):
        table_name = table_name("visits")

    visit_key = UnicodeAttribute(hash_key=True)
    variant_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class DepositsByDeclaration(GlobalSecondaryIndex["DepositModel"]):
    """Every declared deposit, latest declared first: a campaign banks a few a week, so one
    partition is plenty (the console's list of recent deposits)."""

    class Meta:
        index_name = "by-declaration"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    declared_at = UTCDateTimeAttribute(range_key=True)


class DepositModel(Model):
    """A bank deposit of entered gifts as finance declared it: the slip's total, which its
    entries (the `by-deposit` index of donations) must add up to."""

    class Meta(_Meta):
        table_name = table_name("deposits")

    batch = UnicodeAttribute(hash_key=True)
    committee_id = UnicodeAttribute()
    expected_total_cents = NumberAttribute()
    deposited_on = UnicodeAttribute(null=True)  # the committee's local date, YYYY-MM-DD
    declared_by = UnicodeAttribute()
    declared_at = UTCDateTimeAttribute()
    listing = UnicodeAttribute(default="deposits")  # the one partition of `by-declaration`
    by_declaration = DepositsByDeclaration()


# Every table the app uses: created by storage/tables.py, declared by devtools/deploy.
ALL_MODELS: tuple[type[Model], ...] = (
    PageModel, DonationModel, DonorModel, DonorAggregateModel, CounterShardModel,
    ProcessedEventModel, StaffKeyModel, OutboxModel, MovementModel, PayoutModel, CommitteeModel,
    DonorIdentityModel, VelocityModel, RecurringPlanModel, CardUseModel,
    ExportModel, FilingReportModel, NoticeModel,
    ActionModel, InvitationModel, PersonModel, MailModel,
    PageHistoryModel, VisitModel,
    WebSessionModel, DepositModel,
)
