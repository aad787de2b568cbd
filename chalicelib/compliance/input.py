"""What finance staff may send to configure a committee (pydantic; loaded on that route)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from chalicelib.compliance.elections import ELECTION_CODE
from chalicelib.giving.intake import US_STATES, AddressInput, Text

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day written YYYY-MM-DD (pydantic alone would also take a number)."""

# An FEC candidate id: the office, then the election year's last digit and the state (or 00 for
# a President), then five digits: H6IL13123, S8TX00123, P80001571.
CANDIDATE_ID = re.compile(r"[HSP][0-9][0-9A-Z]{2}[0-9]{5}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


class TreasurerInput(_Strict):
    first_name: Text
    last_name: Text
    middle_name: Annotated[str, Field(max_length=200)] | None = None


class CandidateInput(_Strict):
    fec_id: str
    name: Text
    office: Literal["H", "S", "P"]
    state: str
    district: str | None = None

    @field_validator("fec_id")
    @classmethod
    def _fec_id(cls, value: str) -> str:
        if not CANDIDATE_ID.fullmatch(value.upper()):
            raise ValueError("must be an FEC candidate id such as H6IL13123")
        return value.upper()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        split_name(value)
        return value

    @model_validator(mode="after")
    def _seat(self) -> CandidateInput:
        self.state = self.state.upper()
        if self.fec_id[0] != self.office:
            raise ValueError(f"fec_id is not a candidate id for office {self.office}")
        if self.state not in US_STATES and not (self.office == "P" and self.state == "US"):
            raise ValueError("state must be a US state or territory code (US for President)")
        if self.office == "H":
            if not (self.district and re.fullmatch(r"\d{2}", self.district)):
                raise ValueError("district must be two digits for the House (00 at large)")
        elif self.district:
            raise ValueError("district is for House candidates only")
        return self


class ElectionInput(_Strict):
    code: str
    date: date
    net_debt_cents: Annotated[StrictInt, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _code(self) -> ElectionInput:
        self.code = self.code.upper()
        match = ELECTION_CODE.fullmatch(self.code)
        if not match:
            raise ValueError("code must be P, R, G, S, C, E or O and a year, such as G2026")
        if int(match.group(1)) != self.date.year:
            raise ValueError(f"{self.code} must be dated in {match.group(1)}")
        return self


class CommitteeInput(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    type: Literal["candidate", "pac"] = "candidate"
    limit_cents: Annotated[StrictInt, Field(ge=0)] | None = None
    itemization_threshold_cents: Annotated[StrictInt, Field(ge=0)] | None = None
    address: AddressInput | None = None
    treasurer_name: Text | None = None
    treasurer: TreasurerInput | None = None
    time_zone: str | None = None
    candidate: CandidateInput | None = None
    previous_general_date: date | None = None
    elections: Annotated[list[ElectionInput], Field(max_length=40)] | None = None
    status: Literal["active", "lost_primary", "withdrawn"] | None = None
    status_date: date | None = None
    filing_frequency: Literal["quarterly", "monthly"] = "quarterly"
    # Cash on hand at the start of the local day `opening_cash_as_of`, when the committee's books
    # here begin; every receipt and disbursement from that day on is in the ledger.
    opening_cash_on_hand_cents: Annotated[StrictInt, Field(ge=0, le=10**12)] = 0
    opening_cash_as_of: Day | None = None
    # The local day every new monthly gift ends (None: 30 days after the cycle's last election).
    recurring_ends_at: Day | None = None
    # The excess of an early primary gift moves to the general instead of being refunded
    # (candidate committees; default on; docs/elections.md#remedies-for-an-excessive-gift).
    presumptive_redesignation: StrictBool | None = None

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _zones():
            raise ValueError("must be an IANA time zone such as America/Chicago")
        return value

    @field_validator("treasurer_name")
    @classmethod
    def _treasurer_name(cls, value: str | None) -> str | None:
        if value is not None:
            split_name(value)
        return value

    @field_validator("elections")
    @classmethod
    def _unique(cls, value: list[ElectionInput] | None) -> list[ElectionInput] | None:
        codes = [e.code for e in value or []]
        if len(codes) != len(set(codes)):
            raise ValueError("each election code may appear once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CommitteeInput:
        if self.treasurer_name is not None and self.treasurer is not None:
            raise ValueError("give treasurer_name or treasurer, not both")
        if self.type == "pac":
            given = [f for f in ("candidate", "previous_general_date", "elections", "status",
                                 "status_date", "presumptive_redesignation") if getattr(self, f) is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: for candidate committees only")
        if self.status_date is not None and self.status is None:
            raise ValueError("status_date needs a status")
        if self.opening_cash_on_hand_cents and self.opening_cash_as_of is None:
            raise ValueError("opening_cash_as_of: the day the opening cash was counted is required "
                             "with opening_cash_on_hand_cents")
        return self


def split_name(text: str) -> tuple[str, str, str | None]:
    """First, last and middle name of "First Last" as the FEC's name fields split them."""
    from nameparser import HumanName

    name = HumanName(text)
    if not (name.first and name.last):
        raise ValueError("must be a full name, first and last, such as Dana Okafor")
    return name.first, name.last, name.middle or None


class ReviewDecision(_Strict):
    """Finance's judgement of a contribution in the review queue."""

    decision: Literal["accept", "refund"]
