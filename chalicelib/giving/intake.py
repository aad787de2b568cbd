"""The donation form's contract: what a donor must tell us, validated with pydantic.

Imported only by the intake route, so pydantic stays off the webhook's cold start.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from chalicelib.compliance.elections import ELECTION_CODE
from chalicelib.followups import texts
from chalicelib.followups.model import ActionKind
from chalicelib.giving.model import DonorSnapshot, control_character
from chalicelib.i18n import Locale

US_STATES = frozenset((
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI AA AE AP"
).split())
MIN_DONATION_CENTS = 100
# Stripe's own ceiling for one card payment; legal limits are checked separately.
MAX_DONATION_CENTS = 99_999_999


def _refuse(found: str | None) -> None:
    if found is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(found):04X})")


def _one_line(value: str) -> str:
    _refuse(control_character(value))
    return value


def _paragraphs(value: str) -> str:
    _refuse(control_character(value, line_breaks=True))
    return value


# A line of donor text (a name, an address line, an employer): no control characters, which
# would break the receipt, the FEC file or the CSV later. The one rule for every donor form.
DonorText = Annotated[str, AfterValidator(_one_line)]
# What a supporter writes in paragraphs (a proposal's description): line breaks, nothing else.
DonorParagraphs = Annotated[str, AfterValidator(_paragraphs)]
Text = Annotated[DonorText, Field(min_length=1, max_length=200)]


def _valid_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


# An email address, checked and normalized (domain lower-cased); the one rule for every form.
Email = Annotated[str, Field(max_length=254), AfterValidator(_valid_email)]


def _us_state(value: str) -> str:
    value = value.upper()
    if value not in US_STATES:
        raise ValueError("must be a US state or territory code such as NY")
    return value


# A US state or territory code, upper-cased; the one rule for every form.
StateCode = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_us_state)]


def zip_code(value: str) -> str:
    """A 5- or 9-digit ZIP code, without its hyphen (the donation and express forms)."""
    if not re.fullmatch(r"\d{5}(-?\d{4})?", value):
        raise ValueError("must be a 5- or 9-digit ZIP code")
    return value.replace("-", "")


def _election_code(value: str) -> str:
    if not ELECTION_CODE.fullmatch(value.upper()):
        raise ValueError("must be an FEC election code such as P2026 or G2026")
    return value.upper()


# An election a request names (the committee's calendar decides whether it is open).
ElectionCode = Annotated[str, AfterValidator(_election_code)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AddressInput(_Strict):
    line1: Text
    line2: Annotated[DonorText, Field(max_length=200)] | None = None
    city: Text
    state: StateCode
    zip: str

    @field_validator("zip")
    @classmethod
    def _zip(cls, value: str) -> str:
        return zip_code(value)


class DonorInput(_Strict):
    first_name: Text
    last_name: Text
    email: Email
    phone: Annotated[str, Field(max_length=30)] | None = None
    address: AddressInput
    employer: Text
    occupation: Text

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"\+?[0-9 ().-]{7,30}", value):
            raise ValueError("must be a phone number")
        return texts.normalize_phone(value) if value else None  # E.164, US by default


class AttestationsInput(_Strict):
    us_citizen_or_permanent_resident: StrictBool
    own_funds: StrictBool
    not_federal_contractor: StrictBool
    personal_card: StrictBool

    @field_validator("*")
    @classmethod
    def _must_attest(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("federal law requires this to be true to give")
        return value


class DonationRequest(_Strict):
    amount_cents: Annotated[StrictInt, Field(ge=MIN_DONATION_CENTS, le=MAX_DONATION_CENTS)]
    election: ElectionCode | None = None
    refcode: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    idempotency_key: Annotated[str, Field(min_length=8, max_length=128,
                                          pattern=r"^[A-Za-z0-9_.:-]+$")] | None = None
    email_opt_in: StrictBool = False
    # Texts about the campaign's work: the donor ticked the box next to `texts.disclosure`
    # (unchecked by default), and gave a number texts can reach (`donor.phone`).
    sms_opt_in: StrictBool = False
    # The language the donor gave in (the page's, or their `?lang=`): their receipt's.
    locale: Locale = "en"
    # The page's copy variant the donor saw (A/B tests); counts the conversion.
    variant_id: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    # A monthly gift needs the donor's own explicit choice: the box they ticked, sent as both the
    # plan and the consent. A page cannot turn it on for them.
    recurring: Literal["monthly"] | None = None
    recurring_consent: StrictBool = Field(default=False, validate_default=True)
    # Save the card to a Stripe customer for express giving later.
    save_payment_method: StrictBool = False
    # What the donor would like to do beyond giving (follow-ups match invitations to it).
    interests: Annotated[list[ActionKind], Field(max_length=6)] | None = None
    donor: DonorInput
    attestations: AttestationsInput
    # The signed note of an earlier attempt on this page refused for an attestation (the 400's
    # `attestations_refused`): the donor changed an answer, a signal for review.
    attestations_refused: Annotated[str, Field(max_length=512)] | None = None

    @field_validator("recurring_consent")
    @classmethod
    def _recurring_is_chosen(cls, consent: bool, info: ValidationInfo) -> bool:
        if info.data.get("recurring") and consent is not True:
            raise ValueError("a monthly gift needs the donor's explicit choice (the box they ticked)")
        return consent

    @field_validator("donor")
    @classmethod
    def _texts_need_a_phone(cls, donor: DonorInput, info: ValidationInfo) -> DonorInput:
        if info.data.get("sms_opt_in") and not (donor.phone and texts.textable(donor.phone)):
            raise ValueError("sms_opt_in needs donor.phone, a number that can receive texts")
        return donor

    def donor_snapshot(self) -> DonorSnapshot:
        d, a = self.donor, self.donor.address
        return DonorSnapshot(
            first_name=d.first_name, last_name=d.last_name, email=d.email, phone=d.phone,
            address_line1=a.line1, address_line2=a.line2 or None, city=a.city, state=a.state,
            zip=a.zip, employer=d.employer, occupation=d.occupation,
        )

    def fingerprint(self, page_slug: str) -> str:
        """A digest of what was asked, so a reused idempotency key with other content is caught."""
        body = self.model_dump(mode="json", exclude={"idempotency_key", "attestations_refused"})
        canonical = json.dumps({"page": page_slug, **body}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
