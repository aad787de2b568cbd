"""What an organizer may send to create or change a page (pydantic; loaded on admin routes)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, field_validator

from chalicelib.giving.intake import ELECTION_CODE, MIN_DONATION_CENTS

Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Cents = Annotated[StrictInt, Field(ge=0)]
AskAmount = Annotated[StrictInt, Field(ge=MIN_DONATION_CENTS, le=99_999_999)]


class _PageFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("deadline", check_fields=False)
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(timezone.utc) if value else None

    @field_validator("election", check_fields=False)
    @classmethod
    def _election(cls, value: str | None) -> str | None:
        if value is not None and not ELECTION_CODE.fullmatch(value.upper()):
            raise ValueError("must be an FEC election code such as P2026 or G2026")
        return value.upper() if value else value

    @field_validator("ask_amounts_cents", check_fields=False)
    @classmethod
    def _ladder(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("ask amounts must differ from each other")
        return sorted(value) if value else value


class PageCreate(_PageFields):
    slug: Slug
    title: Annotated[str, Field(min_length=1, max_length=120)]
    headline: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=10_000)] = ""
    ask_amounts_cents: Annotated[list[AskAmount], Field(min_length=1, max_length=7)]
    goal_cents: Cents
    deadline: AwareDatetime
    election: str
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")]


class PageUpdate(_PageFields):
    title: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    headline: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    body: Annotated[str, Field(max_length=10_000)] | None = None
    ask_amounts_cents: Annotated[list[AskAmount], Field(min_length=1, max_length=7)] | None = None
    goal_cents: Cents | None = None
    deadline: AwareDatetime | None = None
    election: str | None = None
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")] | None = None
