"""A committee's calendar: its elections, its election cycles and the local dates they run on.

Federal law counts a candidate's contributions per election (11 CFR 110.1(b)) and aggregates
them for itemization per election cycle, which runs from the day after the previous general
election for the seat through the next one (11 CFR 100.3(b)): two years for the House, six for
the Senate, four for a President, or whatever a special election makes it. A PAC counts by
calendar year. Every boundary is a local date in the committee's time zone; instants stay UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.filing.calendar import general_election_day

# The FEC's election codes: primary, runoff, general, special, convention, recount, other.
ELECTION_CODE = re.compile(r"[PRGSCEO](\d{4})")
# The elections that close a cycle: a general, or a special general for a vacated seat.
CLOSING_KINDS = frozenset("GS")
DEFAULT_TIME_ZONE = "America/New_York"


@dataclass(frozen=True)
class Election:
    """One of the committee's elections (`P2026` on 2026-06-02, …). Once held, it may still
    take contributions designated for it up to `net_debt_cents` (11 CFR 110.1(b)(3))."""

    code: str
    date: dt.date
    net_debt_cents: int = 0

    @property
    def kind(self) -> str:
        return self.code[:1]

    def held_before(self, day: dt.date) -> bool:
        """Whether the election was over by `day` (a gift on election day is still for it)."""
        return self.date < day


@dataclass(frozen=True)
class Cycle:
    """An election cycle (or a PAC's year), both days included."""

    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def local_date(instant: datetime, time_zone: str) -> date:
    """The day an aware instant falls on in `time_zone`."""
    return instant.astimezone(ZoneInfo(time_zone)).date()


def local_midnight(day: date, time_zone: str) -> datetime:
    """The instant `day` begins in `time_zone` (aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(time_zone))


def year_of(day: date) -> Cycle:
    return Cycle(date(day.year, 1, 1), date(day.year, 12, 31))


def cycle_of(day: date, elections: tuple[Election, ...], previous_general: date | None) -> Cycle:
    """The candidate's election cycle containing `day`: from the day after the last closing
    election before it (or `previous_general`) through the next closing election on or after
    it. Without a known closing election the regularly scheduled two-year one is assumed."""
    closings = sorted({e.date for e in elections if e.kind in CLOSING_KINDS}
                      | ({previous_general} if previous_general else set()))
    ahead = [d for d in closings if d >= day]
    end = ahead[0] if ahead else _next_regular_general(day)
    behind = [d for d in closings if d < day]
    start = (behind[-1] if behind else _regular_general_before(end)) + timedelta(days=1)
    return Cycle(start, end)


def _next_regular_general(day: date) -> date:
    year = day.year + (day.year % 2)
    general = general_election_day(year)
    return general if general >= day else general_election_day(year + 2)


def _regular_general_before(day: date) -> date:
    year = day.year - (2 if day.year % 2 == 0 else 1)
    general = general_election_day(year + 2)
    return general if general < day else general_election_day(year)
