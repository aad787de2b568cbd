"""What organizers send to manage actions and what the public sends to sign up or answer
(pydantic; imported only by the routes that parse them)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chalicelib.followups import texts
from chalicelib.followups.model import ActionKind
from chalicelib.giving.intake import DonorParagraphs, DonorText, Email, StateCode

Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Interests = Annotated[list[ActionKind], Field(max_length=6)]
PersonId = Annotated[str, Field(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationInput(_Strict):
    city: Annotated[str, Field(min_length=1, max_length=100)]
    state: StateCode
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


class _ActionFields(_Strict):
    @field_validator("starts_at", "ends_at", check_fields=False)
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(timezone.utc) if value else None

    @field_validator("pages", check_fields=False)
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return sorted(set(value)) if value is not None else None

    @model_validator(mode="after")
    def _order(self) -> _ActionFields:
        starts, ends = getattr(self, "starts_at", None), getattr(self, "ends_at", None)
        if starts and ends and ends <= starts:
            raise ValueError("ends_at must be after starts_at")
        return self


class ActionCreate(_ActionFields):
    kind: ActionKind
    title: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=5000)] = ""
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    location: LocationInput | None = None
    virtual: StrictBool = False
    capacity: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    pages: Annotated[list[Slug], Field(max_length=50)] = []


class ActionUpdate(_ActionFields):
    title: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    location: LocationInput | None = None
    virtual: StrictBool | None = None
    capacity: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    pages: Annotated[list[Slug], Field(max_length=50)] | None = None
    active: StrictBool | None = None
    # A supporter an organizer makes host (their person id, as in /api/admin/donors/{id}).
    host_person_id: PersonId | None = None


class RsvpRequest(_Strict):
    response: Literal["yes", "no", "confirm", "cancel"]
    # With a yes: the host may see my email (unticked unless the person ticks it).
    share_contact: StrictBool = False


class RatingRequest(_Strict):
    rating: Annotated[StrictInt, Field(ge=1, le=5)]


class ProposalRequest(_Strict):
    """A supporter's offer to host: what, and when and where in their own words."""

    title: Annotated[DonorText, Field(min_length=1, max_length=120)]
    description: Annotated[DonorParagraphs, Field(max_length=2000)] = ""


class CheckInRequest(_Strict):
    invitation_id: Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9_.#-]+$")]


class WalkInRequest(_Strict):
    first_name: Annotated[DonorText, Field(min_length=1, max_length=100)]
    last_name: Annotated[DonorText, Field(min_length=1, max_length=100)]
    email: Email
    zip: Annotated[str, Field(pattern=r"^\d{5}(-?\d{4})?$")]
    # Invitations to come: only when the person says so at the door.
    consent: StrictBool = False


class SignupRequest(_Strict):
    email: Email
    first_name: Annotated[DonorText, Field(min_length=1, max_length=100)] | None = None
    zip: Annotated[str, Field(pattern=r"^\d{5}(-?\d{4})?$")] | None = None
    interests: Interests = []
    page: Slug | None = None
    refcode: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    # Texts: the box next to `texts.disclosure` (unchecked by default) needs a textable `phone`.
    sms_opt_in: StrictBool = False
    phone: Annotated[str, Field(max_length=30)] | None = Field(default=None, validate_default=True)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and not re.fullmatch(r"\+?[0-9 ().-]{7,30}", value):
            raise ValueError("must be a phone number")
        phone = texts.normalize_phone(value) if value else None
        if info.data.get("sms_opt_in") and not (phone and texts.textable(phone)):
            raise ValueError("sms_opt_in needs a phone that can receive texts")
        return phone

    @field_validator("interests")
    @classmethod
    def _interests(cls, value: list[str]) -> list[str]:
        return sorted(set(value))
