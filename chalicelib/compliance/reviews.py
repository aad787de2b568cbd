"""Signals of prohibited money, for a person to judge (52 U.S.C. 30121 foreign nationals,
30122 contributions in the name of another).

A signal never refunds anything by itself: it puts the contribution in the review queue, and
finance (or an admin) decides `accept` or `refund`. The signals:

- `foreign_card`: the paying card was issued outside the US and its territories while the
  donor gave a US address (every donor does: intake requires one). Read from the charge's
  `payment_method_details.card.country` in Stripe's `charge.succeeded`.
- `shared_card`: one card (Stripe's fingerprint) paid for gifts by donors of different names to
  one committee in one election cycle (a PAC: calendar year). The first holder's name digest is
  kept per card, committee and cycle; a gift by another name on it is flagged, the first is not.

- `attestations_changed`: intake refused an attempt because an attestation was not given (the
  400 carries a signed `attestations_refused` note and writes nothing), and the next attempt
  from that page came back with every attestation given and the note. The contribution is
  created in review. A tampered note counts too (`refused` is then `unknown`).

A refund decision goes through the outbox's exactly-once refund path (`refund_review`, a Stripe
idempotency key derived from the donation), and its `charge.refunded` webhook lowers the totals.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Protocol

from chalicelib.compliance.committees import Committee
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.giving.model import Donation, DonorSnapshot, name_key
from chalicelib.outbox.model import OutboxMessage
from chalicelib.paging import Slice

# The US and the territories whose residents are US nationals or whose cards are domestic:
# Puerto Rico, Guam, the US Virgin Islands, American Samoa, the Northern Mariana Islands.
DOMESTIC_CARD_COUNTRIES = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM"})
REVIEW_REFUND = "refund_review"
Decision = Literal["accept", "refund"]

SCREENING_EVENT_TYPES = frozenset({"charge.succeeded"})
SCREEN_ATTEMPTS = 3


@dataclass(frozen=True)
class CardCheck:
    """What a successful charge says about the card that paid (Stripe's `charge.succeeded`)."""

    event_id: str
    event_type: str
    payment_intent_id: str
    charge_id: str
    country: str | None
    fingerprint: str | None
    occurred_at: datetime
    # The wallet the card was paid through (`apple_pay`, `google_pay`, `link`…), as Stripe names
    # it in `payment_method_details.card.wallet.type`; None for a card typed in.
    wallet: str | None = None


def read_card_check(event: dict[str, Any]) -> CardCheck | None:
    """The card check of a verified `charge.succeeded` event (None when it names no intent)."""
    charge = (event.get("data") or {}).get("object") or {}
    card = ((charge.get("payment_method_details") or {}).get("card")) or {}
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not isinstance(intent, str) or not isinstance(charge.get("id"), str):
        return None
    country, fingerprint = card.get("country"), card.get("fingerprint")
    wallet = (card.get("wallet") or {}).get("type") if isinstance(card.get("wallet"), dict) else None
    return CardCheck(str(event["id"]), str(event["type"]), intent, charge["id"],
                     country.upper() if isinstance(country, str) and country else None,
                     fingerprint if isinstance(fingerprint, str) and fingerprint else None,
                     datetime.fromtimestamp(int(event["created"]), timezone.utc),
                     _wallet_type(wallet))


# Stripe's wallet types are short snake_case names; anything else is not one we record.
_WALLET_TYPE = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _wallet_type(value: Any) -> str | None:
    return value if isinstance(value, str) and _WALLET_TYPE.fullmatch(value) else None


def card_signals(check: CardCheck) -> list[dict[str, str]]:
    """The signals a card shows by itself (the donor's address is always a US one)."""
    if check.country and check.country not in DOMESTIC_CARD_COUNTRIES:
        return [{"signal": "foreign_card", "card_country": check.country}]
    return []


def holder_digest(donor: DonorSnapshot) -> str:
    """Who a card's holder says they are, as a digest of the normalized last and first name
    (accents, case and punctuation aside: "José Núñez" and "jose nunez" are one name)."""
    name = f"{name_key(donor.last_name)}|{name_key(donor.first_name)}"
    return "hd_" + hashlib.sha256(name.encode()).hexdigest()[:32]


def card_key(committee: Committee, check: CardCheck, when: datetime) -> str | None:
    """The card's use for one committee and one cycle (a PAC: year), in the committee's time."""
    if not check.fingerprint:
        return None
    cycle = committee.cycle(committee.local_date(when))
    return f"{committee.committee_id}#{cycle.start.isoformat()}#{check.fingerprint}"


class CardShared(Exception):
    """The card's first holder in this cycle has another name."""

    def __init__(self, first_donation_id: str) -> None:
        super().__init__(first_donation_id)
        self.first_donation_id = first_donation_id


class ReviewStore(Protocol):
    def donation_for_payment_intent(self, payment_intent_id: str) -> Donation | None: ...
    def commit_card_check(self, check: CardCheck, donation: Donation, card: str | None,
                          holder: str, signals: list[dict[str, str]], now: datetime) -> bool: ...
    def reviews_page(self, limit: int, after: str | None) -> Slice[Donation]: ...
    def decide_review(self, donation: Donation, status: str, by: str, now: datetime,
                      refund: OutboxMessage | None) -> bool: ...
    def get(self, donation_id: str) -> Donation | None: ...


class CommitteeSource(Protocol):
    def get(self, committee_id: str) -> Committee: ...


@dataclass
class ReviewService:
    store: ReviewStore
    committees: CommitteeSource
    clock: Callable[[], datetime]

    def screen(self, check: CardCheck) -> str:
        """Record the paying card (its country, fingerprint and wallet) on its contribution and
        its contribution movement, and queue it for review on a signal, once per event:
        "applied", "duplicate" or "unmatched" (a charge that is not one of ours). The donation
        comes from an index; when it changed since (its payment recorded meanwhile), the commit
        refuses and the donation is read again."""
        from chalicelib.giving.service import StaleRead

        donation = self.store.donation_for_payment_intent(check.payment_intent_id)
        for _ in range(SCREEN_ATTEMPTS):
            if donation is None:
                return "unmatched"
            try:
                return self._screen(check, donation)
            except StaleRead:
                donation = self.store.get(donation.donation_id)
        raise StaleRead(f"card check {check.event_id} kept conflicting")

    def _screen(self, check: CardCheck, donation: Donation) -> str:
        now = self.clock()
        committee = self.committees.get(donation.committee_id)
        key = card_key(committee, check, donation.created_at)
        signals = card_signals(check)
        holder = holder_digest(donation.donor)
        try:
            done = self.store.commit_card_check(check, donation, key, holder, signals, now)
        except CardShared as shared:
            signals.append({"signal": "shared_card", "other_donation_id": shared.first_donation_id})
            done = self.store.commit_card_check(check, donation, None, holder, signals, now)
        return "applied" if done else "duplicate"

    def queue(self, limit: int, after: str | None = None) -> Slice[Donation]:
        """Contributions waiting for a decision, oldest flagged first."""
        return self.store.reviews_page(limit, after)

    def decide(self, donation_id: str, decision: str, by: str) -> Donation:
        """Accept the contribution, or refund what is left of it through the outbox (exactly
        once: the decision and the refund message commit together, and only while open)."""
        if decision not in ("accept", "refund"):
            raise InvalidInput("invalid_request", "The decision is accept or refund.",
                               fields={"decision": "accept or refund"})
        donation = self.store.get(donation_id)
        if donation is None or not donation.review_status:
            raise NotFound("review_not_found", "No contribution under review has this id.")
        if donation.review_status != "open":
            raise Conflict("review_decided", f"This review was decided already ({donation.review_status}).")
        now = self.clock()
        refund = None
        if decision == "refund":
            refund = refund_message(donation, now)
            if refund is None:
                raise Conflict("not_refundable", "This contribution has no money left to refund.")
        status = "refunded" if decision == "refund" else "accepted"
        if not self.store.decide_review(donation, status, by, now, refund):
            raise Conflict("review_decided", "This review was decided already.")
        found = self.store.get(donation_id)
        assert found is not None
        return found


def refund_message(donation: Donation, now: datetime) -> OutboxMessage | None:
    """The refund of what the donor still has in: paid, less what was (or is being) refunded,
    none while a dispute is open or lost (the card network holds that money)."""
    state = donation.state
    if not state.paid or not donation.payment_intent_id or state.dispute in ("open", "lost"):
        return None
    left = state.amount_cents - max(state.refunded_cents, donation.excess_refund_cents)
    if left <= 0:
        return None
    return OutboxMessage(f"{REVIEW_REFUND}#{donation.donation_id}", REVIEW_REFUND, now, {
        "donation_id": donation.donation_id, "payment_intent_id": donation.payment_intent_id,
        "amount_cents": left, "reason": "review"})


def review_view(d: Donation) -> dict[str, object]:
    """A contribution in the queue as staff see it (no contact details: the donation's own
    route shows those to finance)."""
    from chalicelib.pages.model import isoformat_utc

    return {"donation_id": d.donation_id, "status": d.status, "amount_cents": d.amount_cents,
            "refunded_cents": d.state.refunded_cents, "committee_id": d.committee_id,
            "page": d.page_slug, "donor_id": d.donor_id, "card_country": d.card_country,
            "signals": d.review_signals, "review_status": d.review_status,
            "created_at": isoformat_utc(d.created_at)}


def refusal_note(tokens: Any, fields: Mapping[str, str]) -> str | None:
    """The signed note a 400 carries when intake refused attestations (None for other errors)."""
    from chalicelib import tokens as purposes

    refused = sorted(f.split(".", 1)[1] for f in fields if f.startswith("attestations."))
    if not refused:
        return None
    return str(tokens.issue(purposes.REFUSAL, "+".join(refused)))


def attestation_signals(tokens: Any, note: str | None) -> list[dict[str, str]]:
    """The signal of a gift sent back with an earlier refusal's note: the attestations first
    refused, or `unknown` when the note is not genuine (tampered, expired: still a change)."""
    from chalicelib import tokens as purposes
    from chalicelib.errors import DomainError

    if not note:
        return []
    try:
        refused = tokens.read(note, purposes.REFUSAL)
    except DomainError:
        refused = "unknown"
    return [{"signal": "attestations_changed", "refused": refused}]
