"""Donations and donors as the campaign knows them (plain data, no storage concerns)."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.giving.ledger import PaymentState

# Every contribution is in US dollars (FEC reports are); Stripe writes currencies in lower case.
CURRENCY = "usd"


def normalize_email(email: str) -> str:
    """The form of an address that identifies one donor: trimmed and lower-cased."""
    return email.strip().lower()


# Bidirectional embeddings, overrides and isolates: they reorder how a name shows on a receipt,
# a report or the console (zero-width joiners and marks, which some scripts need, are allowed).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_character(value: str, *, line_breaks: bool = False) -> str | None:
    """The first character of `value` that has no place in a line of donor text: a control
    character (C0, DEL, C1: tabs, line breaks, escapes, NUL), a line or paragraph separator, a
    bidirectional control or half a surrogate pair; None when there is none. `line_breaks`
    allows CR and LF (text written in paragraphs; a form's textarea sends CRLF). (The input
    models' `DonorText` and `DonorParagraphs` apply it; forms read by hand call it too.)"""
    for ch in value:
        if line_breaks and ch in "\r\n":
            continue
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            return ch
    return None


def identity_digest(text: str) -> str:
    """HMAC-SHA256 of `text` under `IDENTITY_SECRET`: keys built from an email or a name carry no
    PII and, unlike a bare digest, cannot be computed from a guessed address without the secret.
    Outside a local dev stage the secret is required (the app refuses to serve without it)."""
    from chalicelib.config import settings

    secret = settings().identity_secret
    if not secret:
        raise RuntimeError("IDENTITY_SECRET is not set")
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def donor_id_for(email: str) -> str:
    """Donors are keyed by normalized email, through a keyed digest (`identity_digest`)."""
    return f"dnr_{identity_digest(normalize_email(email))[:24]}"


def _name_part(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalpha())


def identity_keys(snapshot: DonorSnapshot) -> tuple[str, str]:
    """The keys that identify a person: their normalized email, and their normalized last name,
    first name and ZIP5 (how FEC practice links one person's gifts made under two emails)."""
    name = f"{_name_part(snapshot.last_name)}|{_name_part(snapshot.first_name)}|{snapshot.zip[:5]}"
    return (f"email#{donor_id_for(snapshot.email)}",
            "name#" + identity_digest(name)[:32])


def name_key(part: str) -> str:
    """An index key for one part of a name (last or first), normalized as identities are: the
    lookup by name finds "José Núñez" typed as "jose nunez"; the key is a digest, not the name."""
    return "nm_" + identity_digest(_name_part(part))[:32]


def name_splits(text: str) -> list[tuple[str, str | None]]:
    """The ways a typed name may split into (last, first): "Smith", "Dana Smith", "Smith, Dana",
    and "Maria de la Cruz" as each of its possible surnames (at most four words)."""
    if "," in text:
        last, _, first = text.partition(",")
        return [(last.strip(), first.strip() or None)] if _name_part(last) else []
    words = [w for w in text.split() if _name_part(w)][:4]
    if not words:
        return []
    splits: list[tuple[str, str | None]] = [(" ".join(words), None)]
    splits += [(" ".join(words[i:]), " ".join(words[:i])) for i in range(1, len(words))]
    return splits


@dataclass(frozen=True)
class RecordedMovement:
    """A donation's money movement as finance sees it: gross, and once paid out, fee, net and
    the payout that carried it."""

    movement_id: str
    kind: str
    amount_cents: int
    occurred_at: datetime
    fee_cents: int | None = None
    net_cents: int | None = None
    payout_id: str | None = None


@dataclass(frozen=True)
class DonorSnapshot:
    """The donor as they described themselves on one donation (FEC contributor fields)."""

    first_name: str
    last_name: str
    email: str
    address_line1: str
    city: str
    state: str
    zip: str
    employer: str
    occupation: str
    address_line2: str | None = None
    phone: str | None = None

    @property
    def donor_id(self) -> str:
        return donor_id_for(self.email)


@dataclass(frozen=True)
class Conduit:
    """The platform or committee that forwarded an earmarked gift (a `conduit` entry): the
    report's EARMARK_RECEIPT names it and its EARMARK_MEMO carries it as the committee."""

    name: str
    address_line1: str
    city: str
    state: str
    zip: str
    address_line2: str | None = None
    fec_id: str | None = None  # a registered committee's `C…` id (the report requires it)

    def record(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_record(cls, record: dict[str, str] | None) -> Conduit | None:
        return cls(**record) if record else None


@dataclass(frozen=True)
class ExpressDonor:
    """A donor as express giving sees them: the details on file (an express gift is made in
    them), the saved card's Stripe customer, the express charges of the last day (with the
    version they were read at) and when the donor last revoked their express links."""

    donor_id: str
    snapshot: DonorSnapshot
    customer_id: str | None = None
    charges: tuple[datetime, ...] = ()
    charges_version: int = 0
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class RecurringPlan:
    """A monthly gift: each paid invoice of its subscription is a contribution."""

    subscription_id: str
    first_donation_id: str
    donor_id: str
    donor: DonorSnapshot
    page_slug: str
    committee_id: str
    election: str
    amount_cents: int
    customer_id: str
    status: str
    created_at: datetime
    # The committee's local day the subscription ends by itself (its `cancel_at` is that day's
    # start: the committee's `recurring_ends_at`), None when it runs until stopped.
    ends_on: date | None = None
    # The donor's own charge day (1-28) once they chose one in the portal, and the plan's
    # version: each change from the portal adds one (a double POST changes it once).
    charge_day: int | None = None
    version: int = 0


def invoice_donation_id(invoice_id: str) -> str:
    """The contribution of one paid invoice (deterministic: a redelivery finds the same one)."""
    return "don_" + hashlib.sha256(f"invoice:{invoice_id}".encode()).hexdigest()[:32]


@dataclass
class Donation:
    """One attempt to give, from intake to its final payment state."""

    donation_id: str
    page_slug: str
    committee_id: str
    election: str
    donor: DonorSnapshot
    # The person this donation belongs to (by email, or linked by name and ZIP), resolved at intake.
    donor_id: str
    created_at: datetime
    fingerprint: str
    state: PaymentState
    refcode: str | None = None
    email_opt_in: bool = False
    # Ticked the texts box (under `followups.texts.DISCLOSURE_VERSION`), with a textable
    # `donor.phone`: the thank-you records the consent on the person (source `donation_opt_in`).
    sms_opt_in: bool = False
    interests: list[str] = field(default_factory=list)  # action kinds (follow-ups)
    locale: str = "en"  # the language the donor gave in (chalicelib/i18n.py): their receipt's
    idempotency_key: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    paid_at: datetime | None = None
    # The donor's limit period this donation counts in, and what intake reserved there.
    limit_scope: str = ""
    reserved_cents: int = 0
    # Whose aggregate holds the reservation when it is not `donor_id`'s: the donor id of the
    # email that made the donation, for a person linked by name and ZIP (see Reservation).
    reserved_by: str | None = None
    excess_refund_cents: int = 0
    excess_reason: str | None = None
    # Declined confirmations so far, and why the donation was ended (`card_testing`), if it was.
    declines: int = 0
    failure_reason: str | None = None
    client_ip: str | None = None
    variant_id: str | None = None
    # Given with a placeholder employer or occupation: the donor is asked (best efforts).
    best_efforts_flag: bool = False
    # Designated for an election already held: it counts toward that election's net debt.
    toward_debt: bool = False
    subscription_id: str | None = None
    invoice_id: str | None = None
    customer_id: str | None = None
    version: int = 0
    # False for a renewal's contribution that its `invoice.paid` event creates.
    stored: bool = True
    # Not stored: a monthly charge's next charge date (the committee's local date), read from
    # its paid invoice while the event is applied, for the receipt the planners queue.
    next_charge_on: date | None = None
    # A gift received off the pages (check, cash, wire; None online), its reference (a check
    # number) and the deposit it was banked in.
    channel: str | None = None
    reference: str | None = None
    deposit_batch: str | None = None
    in_kind_description: str | None = None  # what was given, for `in_kind`
    conduit: Conduit | None = None  # who forwarded it, for `conduit`

    @property
    def recurring(self) -> bool:
        return self.subscription_id is not None
    attestations: dict[str, bool] = field(default_factory=dict)
    # "Best efforts": the donor's later answer for a flagged contribution and the committee's
    # local day it came (the filing code writes the memo entry or amendment from these).
    best_efforts_answered_on: date | None = None
    best_efforts_employer: str | None = None
    best_efforts_occupation: str | None = None
    # Signals of prohibited money (compliance/reviews.py): the paying card's issuing country,
    # the signals found ({"signal", …}), and the review's state (open, accepted, refunded).
    card_country: str | None = None
    # The wallet the paying card came through (`apple_pay`, `google_pay`, `link`; None for a
    # card typed in), from the same charge; and the id of the contribution's movement once its
    # payment is recorded, so the charge's event can put the wallet on it as well.
    card_wallet: str | None = None
    contribution_movement_id: str | None = None
    review_signals: list[dict[str, str]] = field(default_factory=list)
    review_status: str | None = None
    # Presumptive redesignation (compliance/remedies.py): the part of the excess moved to a
    # later election, that election and the donor's limit period there, the committee's local
    # day it was recorded, and whether it stands (`presumed`) or the donor asked for it back
    # (`refunded`: it joined `excess_refund_cents`).
    redesignated_cents: int = 0
    redesignated_to: str | None = None
    redesignated_scope: str | None = None
    redesignated_on: date | None = None
    redesignation_status: str | None = None
    # The part of the excess held for the donor's remedies (what presumptive redesignation
    # could not place), until its day 60 (the committee's local day), when the daily job
    # refunds what is still held (compliance/remedies.py `held_refund_cents`); 0 once resolved.
    excess_held_cents: int = 0
    excess_held_until: date | None = None
    # Reattribution of the held excess (compliance/reattribution.py): `requested` (the donor
    # named the other card holder, `reattribution_request` {first_name, last_name, email}, and
    # the amount) or `confirmed` (that person confirmed: `reattributed_to`, their donor id,
    # attestations, and the committee's local day it moved).
    reattribution_status: str | None = None
    reattribution_cents: int = 0
    reattribution_request: dict[str, str] | None = None
    reattributed_to: DonorSnapshot | None = None
    reattributed_donor_id: str | None = None
    reattributed_on: date | None = None
    reattribution_attestations: dict[str, bool] = field(default_factory=dict)

    @property
    def amount_cents(self) -> int:
        return self.state.amount_cents

    @property
    def status(self) -> str:
        return self.state.status
