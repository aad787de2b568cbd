"""Committees and the federal rules that follow from their type.

A candidate committee may take $3,500 per individual per election (primary and general count
separately) and itemizes by election cycle; a PAC $5,000 per calendar year, itemized by year.
Limits and the $200 itemization threshold are settings with these defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

CommitteeType = Literal["candidate", "pac"]


@dataclass(frozen=True)
class CommitteeDefaults:
    candidate_limit_cents: int = 350_000
    pac_limit_cents: int = 500_000
    itemization_threshold_cents: int = 20_000


@dataclass(frozen=True)
class Committee:
    committee_id: str
    name: str
    type: CommitteeType
    limit_cents: int
    itemization_threshold_cents: int

    def limit_scope(self, election: str, when: datetime) -> str:
        """The period a donor's limit applies to: one election, or one calendar year for a PAC."""
        if self.type == "pac":
            return f"{self.committee_id}#Y{when.year}"
        return f"{self.committee_id}#{election}"

    def itemization_period(self, election: str, when: datetime) -> tuple[datetime, datetime]:
        """[start, end) of the period whose aggregate decides itemization."""
        tz = when.tzinfo
        if self.type == "pac":
            return datetime(when.year, 1, 1, tzinfo=tz), datetime(when.year + 1, 1, 1, tzinfo=tz)
        # A candidate's election cycle is two years, ending with the even election year.
        end_year = when.year if when.year % 2 == 0 else when.year + 1
        return datetime(end_year - 1, 1, 1, tzinfo=tz), datetime(end_year + 1, 1, 1, tzinfo=tz)

    def view(self) -> dict[str, object]:
        return {"committee_id": self.committee_id, "name": self.name, "type": self.type,
                "limit_cents": self.limit_cents,
                "itemization_threshold_cents": self.itemization_threshold_cents}


def default_committee(committee_id: str, defaults: CommitteeDefaults,
                      type: CommitteeType = "candidate", name: str = "") -> Committee:
    limit = defaults.pac_limit_cents if type == "pac" else defaults.candidate_limit_cents
    return Committee(committee_id, name or committee_id, type, limit,
                     defaults.itemization_threshold_cents)
