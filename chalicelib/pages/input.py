"""What an organizer may send to create or change a page (pydantic; loaded on admin routes)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from chalicelib.compliance.elections import ELECTION_CODE
from chalicelib.giving.intake import MIN_DONATION_CENTS
from chalicelib.i18n import Locale
from chalicelib.pages.model import CONTROL, embed_origin

Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Cents = Annotated[StrictInt, Field(ge=0)]
AskAmount = Annotated[StrictInt, Field(ge=MIN_DONATION_CENTS, le=99_999_999)]
Ladder = Annotated[list[AskAmount], Field(min_length=1, max_length=7)]
MAX_VARIANTS = 5
MAX_LATER_DEADLINES = 12
MAX_ELECTIONS = 10
MAX_EMBED_ORIGINS = 10


def _sorted_ladder(value: list[int] | None) -> list[int] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("ask amounts must differ from each other")
    return sorted(value) if value else value


class VariantInput(BaseModel):
    """One copy variant; its id is what the donation and the results carry."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    headline: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=10_000)] = ""
    ask_amounts_cents: Ladder | None = None

    @field_validator("id")
    @classmethod
    def _not_control(cls, value: str) -> str:
        if value == CONTROL:
            raise ValueError("'control' is the page's own copy; give the variant another id")
        return value

    @field_validator("ask_amounts_cents")
    @classmethod
    def _ladder(cls, value: list[int] | None) -> list[int] | None:
        return _sorted_ladder(value)


class _PageFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("deadline", check_fields=False)
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(timezone.utc) if value else None

    @field_validator("deadlines", check_fields=False)
    @classmethod
    def _utc_list(cls, value: list[datetime] | None) -> list[datetime] | None:
        if value is None:
            return None
        moments = sorted({v.astimezone(timezone.utc) for v in value})
        if len(moments) != len(value):
            raise ValueError("deadlines must differ from each other")
        return moments

    @field_validator("variants", check_fields=False)
    @classmethod
    def _variant_ids(cls, value: list[VariantInput] | None) -> list[VariantInput] | None:
        if value is not None and len({v.id for v in value}) != len(value):
            raise ValueError("variant ids must differ from each other")
        return value

    @field_validator("election", check_fields=False)
    @classmethod
    def _election(cls, value: str | None) -> str | None:
        if value is not None and not ELECTION_CODE.fullmatch(value.upper()):
            raise ValueError("must be an FEC election code such as P2026 or G2026")
        return value.upper() if value else value

    @field_validator("elections", check_fields=False)
    @classmethod
    def _elections(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        codes = [code.upper() for code in value]
        if not all(ELECTION_CODE.fullmatch(code) for code in codes):
            raise ValueError("each must be an FEC election code such as P2026 or G2026")
        if len(set(codes)) != len(codes):
            raise ValueError("each election may appear once")
        return codes

    @field_validator("embed_origins", check_fields=False)
    @classmethod
    def _embed_origins(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        origins = [embed_origin(v) for v in value]
        return list(dict.fromkeys(origins))

    @field_validator("ask_amounts_cents", check_fields=False)
    @classmethod
    def _ladder(cls, value: list[int] | None) -> list[int] | None:
        return _sorted_ladder(value)


class PageCreate(_PageFields):
    slug: Slug
    title: Annotated[str, Field(min_length=1, max_length=120)]
    headline: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=10_000)] = ""
    ask_amounts_cents: Ladder
    goal_cents: Cents
    deadline: AwareDatetime
    # Later deadlines, each after `deadline`: the page moves on to the next as each passes.
    deadlines: Annotated[list[AwareDatetime], Field(max_length=MAX_LATER_DEADLINES)] = []
    election: str
    # The elections a donor may choose on this page (default: only `election`), each one of
    # the committee's.
    elections: Annotated[list[str], Field(max_length=MAX_ELECTIONS)] = []
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")]
    variants: Annotated[list[VariantInput], Field(max_length=MAX_VARIANTS)] = []
    auto_allocate: StrictBool = False
    # Supporters' pages under this one go live at once (default: each waits for an organizer).
    supporters_auto_approve: StrictBool = False
    # Other sites' origins allowed to frame /embed/{slug} (https; http only for localhost).
    embed_origins: Annotated[list[Annotated[str, Field(max_length=200)]],
                             Field(max_length=MAX_EMBED_ORIGINS)] = []
    # The page's language (docs/i18n.md); a visitor's `?lang=` overrides it.
    locale: Locale = "en"

    @field_validator("deadlines")
    @classmethod
    def _after_deadline(cls, value: list[datetime], info: ValidationInfo) -> list[datetime]:
        deadline = info.data.get("deadline")
        if deadline is not None and any(d <= deadline for d in value):
            raise ValueError("each later deadline must be after the deadline")
        return value


class PageUpdate(_PageFields):
    title: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    headline: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    body: Annotated[str, Field(max_length=10_000)] | None = None
    ask_amounts_cents: Ladder | None = None
    goal_cents: Cents | None = None
    deadline: AwareDatetime | None = None
    deadlines: Annotated[list[AwareDatetime], Field(max_length=MAX_LATER_DEADLINES)] | None = None
    variants: Annotated[list[VariantInput], Field(max_length=MAX_VARIANTS)] | None = None
    auto_allocate: StrictBool | None = None
    supporters_auto_approve: StrictBool | None = None
    embed_origins: Annotated[list[Annotated[str, Field(max_length=200)]],
                             Field(max_length=MAX_EMBED_ORIGINS)] | None = None
    locale: Locale | None = None
    election: str | None = None
    elections: Annotated[list[str], Field(max_length=MAX_ELECTIONS)] | None = None
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")] | None = None


class SupporterPageRequest(BaseModel):
    """`POST /api/supporters`: a donor's start link's token and their page (checked again, field
    by field, by `pages.supporters.SupporterStart`, the rule's one home)."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(min_length=1, max_length=1000)]
    handle: Annotated[str, Field(min_length=3, max_length=30, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")]
    goal_cents: Annotated[StrictInt, Field(ge=100, le=100_000_000)]
    display_name: Annotated[str, Field(min_length=1, max_length=40)]
    note: Annotated[str, Field(max_length=1000)] = ""


class VisitBeacon(BaseModel):
    """What a donation page's script reports about its visitor (their id is their cookie)."""

    model_config = ConfigDict(extra="forbid")

    refcode: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] | None = None
