"""Express giving: a donor who saved a card gives again with one confirmed click.

The express link (from a receipt) only opens a confirmation step; the charge happens when the
donor confirms an explicit amount there, never by opening a link. The link is a credential to
charge a card, so it is held to more than any other link:

- it names the donor and the committee, lasts `EXPRESS_LINK_TTL_DAYS` and works once: the gift
  uses up its nonce in the transaction that creates the donation, so the same link again is 410
  `link_used` whatever the idempotency key (the same request retried gets its donation back);
- it charges only on pages of its own committee (403), in the page's election (the request
  names none), at most `EXPRESS_MAX_PER_DAY` times per donor in 24 hours (429);
- above `EXPRESS_STEP_UP_CENTS` the donor re-enters the ZIP code on file (422
  `verification_failed`, nothing charged);
- the donor can revoke every express link issued so far at once (`revoke`).

The gift then goes through the same intake as any other (limits, velocity, idempotency).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from chalicelib.clock import utcnow
from chalicelib.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from chalicelib.giving.intake import (
    MAX_DONATION_CENTS,
    MIN_DONATION_CENTS,
    AttestationsInput,
    DonationRequest,
    zip_code,
)
from chalicelib.giving.model import ExpressDonor
from chalicelib.giving.service import (
    ExpressUse,
    GivingService,
    PageSource,
    PaymentProvider,
    SavedCard,
    StaleRead,
    StartedDonation,
)
from chalicelib.pages.model import Page
from chalicelib.tokens import DONOR, EXPRESS, Claims, LinkUsed, Tokens

# A used nonce is kept past its link's own expiry (clock skew between containers).
USE_KEPT_AFTER_EXPIRY = timedelta(days=1)
DAY = timedelta(hours=24)
MAX_ATTEMPTS = 3


class ExpressRequest(BaseModel):
    """A confirmed express gift. No `election`: the server chooses it (the page's)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: Annotated[str, Field(min_length=10, max_length=500)]
    page: Annotated[str, Field(min_length=1, max_length=64)]
    amount_cents: Annotated[StrictInt, Field(ge=MIN_DONATION_CENTS, le=MAX_DONATION_CENTS)]
    idempotency_key: Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
    refcode: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    # The ZIP code on file, asked for above EXPRESS_STEP_UP_CENTS.
    zip: str | None = None
    attestations: AttestationsInput

    @field_validator("zip")
    @classmethod
    def _zip(cls, value: str | None) -> str | None:
        return zip_code(value) if value else None

    def fingerprint(self, use_key: str) -> str:
        """What was asked with which link: a retried request matches, another link or other
        details under the same idempotency key do not."""
        body = self.model_dump(mode="json", exclude={"idempotency_key", "token"})
        canonical = json.dumps({"link": use_key, **body}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class RevokeRequest(BaseModel):
    """Revoke every express link of the donor a token names (an express or a donor token)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: Annotated[str, Field(min_length=10, max_length=500)]


def as_donation_request(express: ExpressRequest, donor: ExpressDonor) -> DonationRequest:
    """The express gift as an ordinary donation request, with the donor's details on file."""
    d = donor.snapshot
    return DonationRequest.model_validate({
        "amount_cents": express.amount_cents, "refcode": express.refcode,
        "idempotency_key": express.idempotency_key,
        "donor": {
            "first_name": d.first_name, "last_name": d.last_name, "email": d.email,
            "phone": d.phone, "employer": d.employer, "occupation": d.occupation,
            "address": {"line1": d.address_line1, "line2": d.address_line2,
                        "city": d.city, "state": d.state, "zip": d.zip},
        },
        "attestations": express.attestations.model_dump(),
    })


@dataclass(frozen=True)
class ExpressRules:
    """The settings express giving enforces (built from settings in deps)."""

    max_per_day: int = 3
    step_up_cents: int = 25_000

    def needs_zip(self, amount_cents: int) -> bool:
        return amount_cents > self.step_up_cents

    def verify(self, amount_cents: int, zip_given: str | None, zip_on_file: str) -> None:
        """Above the step-up amount, the ZIP code on file (its first five digits) must be given."""
        if self.needs_zip(amount_cents) and (not zip_given or zip_given[:5] != zip_on_file[:5]):
            raise DomainError("verification_failed",
                              "For a gift this size, enter the ZIP code of the address we have on file.",
                              fields={"zip": "does not match the ZIP code on file"}, kind="rule")

    def recent(self, charges: tuple[datetime, ...], now: datetime) -> tuple[datetime, ...]:
        """The charges of the last 24 hours; 429 when another would pass the daily cap."""
        recent = tuple(sorted(t for t in charges if t > now - DAY))
        if len(recent) >= self.max_per_day:
            wait = recent[-self.max_per_day] + DAY - now
            raise DomainError("rate_limited", "Express giving is limited to a few gifts a day. "
                                              "Please give on the page instead.", kind="rate_limited",
                              extra={"retry_after": max(int(wait.total_seconds()) + 1, 1)})
        return recent


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation step shows: the page, the saved card (None: there is none) and
    the amount above which the ZIP code on file is asked for."""

    page: Page
    card: SavedCard | None
    step_up_cents: int


class ExpressStore(Protocol):
    def express_donor(self, donor_id: str) -> ExpressDonor | None: ...
    def link_used(self, use_key: str) -> bool: ...
    def revoke_express(self, donor_id: str, when: datetime) -> bool: ...



class ExpressService:
    def __init__(self, giving: GivingService, store: ExpressStore, pages: PageSource,
                 payments: PaymentProvider, tokens: Tokens, rules: ExpressRules,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.giving = giving
        self.store = store
        self.pages = pages
        self.payments = payments
        self.tokens = tokens
        self.rules = rules
        self.clock = clock

    def confirmation(self, slug: str, token: str) -> Confirmation:
        """The confirmation step for a link; it changes nothing. A used or revoked link is 410,
        another committee's page 403."""
        claims = self.tokens.claims(token, EXPRESS)
        donor_id, page = self._donor_and_page(claims, slug)
        donor = self.store.express_donor(donor_id)
        if self.store.link_used(claims.use_key) or _revoked(donor, claims):
            raise LinkUsed()
        card = self.payments.saved_card(donor.customer_id) if donor and donor.customer_id else None
        return Confirmation(page, card, self.rules.step_up_cents)

    def give(self, request: ExpressRequest, client_ip: str | None) -> StartedDonation:
        """Charge the saved card once for a confirmed gift, using up the link."""
        claims = self.tokens.claims(request.token, EXPRESS)
        donor_id, page = self._donor_and_page(claims, request.page)
        fingerprint = request.fingerprint(claims.use_key)
        for _ in range(MAX_ATTEMPTS):
            donor = self.store.express_donor(donor_id)
            if donor is None or not donor.customer_id:
                raise Conflict("no_saved_card", "There is no saved card for express giving.")
            donation = as_donation_request(request, donor)
            use = ExpressUse(customer_id=donor.customer_id, use_key=claims.use_key,
                             use_expires_at=claims.expires_at + USE_KEPT_AFTER_EXPIRY,
                             donor_id=donor_id, charges=(), charges_version=donor.charges_version,
                             fingerprint=fingerprint)
            # The same request again (its answer was lost) gets its donation, before any rule
            # that its own first attempt may now trip (the link used, one more charge today).
            previous = self.giving.resume(page.slug, donation, fingerprint, use)
            if previous is not None:
                return previous
            if _revoked(donor, claims) or self.store.link_used(claims.use_key):
                raise LinkUsed()  # the transaction checks the nonce again; this answers first
            now = self.clock()
            recent = self.rules.recent(donor.charges, now)
            self.rules.verify(request.amount_cents, request.zip, donor.snapshot.zip)
            try:
                return self.giving.start_donation(
                    page.slug, donation, client_ip,
                    express=replace(use, charges=(*recent, now)))
            except StaleRead:  # another express gift of this donor committed first: read again
                continue
        raise StaleRead("express gifts of this donor kept conflicting")

    def revoke(self, token: str) -> datetime:
        """Stop every express link of the donor an express or donor token names, at once."""
        try:
            donor_id = self.tokens.claims(token, EXPRESS).subject
        except InvalidInput:
            donor_id = self.tokens.claims(token, DONOR).subject
        now = self.clock()
        self.store.revoke_express(donor_id, now)  # no record: no link of theirs can charge
        return now

    def _donor_and_page(self, claims: Claims, slug: str) -> tuple[str, Page]:
        if len(claims.subjects) != 2:
            raise InvalidInput("bad_token", "This link is not valid. Check that it was copied whole.")
        donor_id, committee_id = claims.subjects
        page = self.pages.get(slug)
        if page is None:
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        if page.committee_id != committee_id:
            raise Forbidden("wrong_committee", "This express link gives only to its own committee's pages.")
        return donor_id, page


def _revoked(donor: ExpressDonor | None, claims: Claims) -> bool:
    """Links issued up to the revocation's second are revoked (tokens carry whole seconds)."""
    if donor is None or donor.revoked_at is None:
        return False
    return claims.issued_at <= donor.revoked_at.replace(microsecond=0)
