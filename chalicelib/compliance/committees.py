"""Committees, their calendars and the federal rules that follow from their type.

A candidate committee may take $3,500 per individual per election (primary and general count
separately) and itemizes by election cycle; a PAC $5,000 per calendar year, itemized by year.
Limits and the $200 itemization threshold are settings with these defaults. Every period is a
local date in the committee's `time_zone` (see `compliance.elections`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from chalicelib.compliance.elections import (
    DEFAULT_TIME_ZONE,
    Cycle,
    Election,
    cycle_of,
    local_date,
    local_midnight,
    year_of,
)
from chalicelib.errors import DomainError, InvalidInput
from chalicelib.filing.model import Address, Candidate, Name

if TYPE_CHECKING:
    from chalicelib.compliance.input import CommitteeInput
    from chalicelib.outbox.model import OutboxMessage

CommitteeType = Literal["candidate", "pac"]
CommitteeStatus = Literal["active", "lost_primary", "withdrawn"]
FilingFrequency = Literal["quarterly", "monthly"]

COMMITTEE_ID = re.compile(r"C\d{8}")  # an FEC committee id
# Monthly gifts end this many days after the cycle's last election unless the committee says.
RECURRING_GRACE_DAYS = 30


class ElectionNotOpen(DomainError):
    """The gift names an election the donor may not choose: not the committee's, not in its
    current cycle, not offered by the page, or none is open at all."""

    kind = "invalid"

    def __init__(self, requested: str | None, open_codes: Sequence[str]) -> None:
        if requested:
            message = f"Contributions cannot be designated for {requested} on this page."
        else:
            message = "No election of this committee is open for contributions."
        super().__init__("election_not_open", message,
                         fields={"election": "choose one of " + ", ".join(open_codes) if open_codes
                                 else "no election is open"},
                         extra={"open_elections": list(open_codes)})


class OverNetDebt(DomainError):
    """A gift for an election already held, beyond the debts it may still retire."""

    kind = "rule"

    def __init__(self, code: str) -> None:
        super().__init__(
            "over_net_debt",
            f"{code} has been held: contributions for it are accepted only toward its remaining "
            "debts, and this one is more than they are.",
            fields={"amount_cents": "more than the election's remaining net debt"})


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
    address: Address | None = None
    treasurer: Name | None = None
    # None: configured before committees had a time zone; America/New_York is assumed.
    time_zone: str | None = None
    candidate: Candidate | None = None
    previous_general_date: date | None = None
    elections: tuple[Election, ...] = ()
    status: CommitteeStatus = "active"
    status_date: date | None = None
    # What its reports to the FEC need besides the ledger (docs/reports.md): how often it files,
    # and the cash it had when its books here began (cents, on the local day `opening_cash_as_of`).
    filing_frequency: FilingFrequency = "quarterly"
    opening_cash_on_hand_cents: int = 0
    opening_cash_as_of: date | None = None
    # The local day every new monthly gift ends (stamped as the subscription's `cancel_at`);
    # None: RECURRING_GRACE_DAYS after the last election of the cycle (`monthly_gifts_end`).
    recurring_ends_at: date | None = None
    # The excess of a primary gift received before the primary moves to the next election
    # (11 CFR 110.1(b)(5)(ii)(B)) instead of being refunded at once (compliance/remedies.py).
    # None: the default, on for a candidate committee (a PAC has no elections to move it to).
    presumptive_redesignation_setting: bool | None = None

    @property
    def presumptive_redesignation(self) -> bool:
        if self.presumptive_redesignation_setting is None:
            return self.type == "candidate"
        return self.presumptive_redesignation_setting and self.type == "candidate"

    @property
    def zone(self) -> str:
        return self.time_zone or DEFAULT_TIME_ZONE

    def local_date(self, instant: datetime) -> date:
        """The committee's own date of an aware (UTC) instant."""
        return local_date(instant, self.zone)

    def cycle(self, day: date) -> Cycle:
        """The period containing `day` that aggregates for itemization: the election cycle of
        a candidate committee, the calendar year of a PAC."""
        if self.type == "pac":
            return year_of(day)
        return cycle_of(day, self.elections, self.previous_general_date)

    def election(self, code: str) -> Election | None:
        return next((e for e in self.elections if e.code == code), None)

    def open_elections(self, day: date) -> list[Election]:
        """The elections of the cycle containing `day` not yet held on it, soonest first. From
        the day a candidate lost the primary or withdrew, no election after that day is open:
        they take part in none (a held one still takes gifts toward its net debt)."""
        cycle = self.cycle(day)
        out = self.status != "active" and self.status_date is not None and self.status_date <= day
        return sorted((e for e in self.elections if cycle.contains(e.date) and not e.held_before(day)
                       and not (out and self.status_date is not None and e.date > self.status_date)),
                      key=lambda e: e.date)

    def designate(self, when: datetime, requested: str | None, page_election: str,
                  offered: Sequence[str], amount_cents: int) -> str:
        """The election a gift received at `when` is for; the server's choice, never the
        donor's alone (11 CFR 110.1(b)). Undesignated: the page's election while it is still
        ahead, else the next election after the day received. Designated: only an election of
        the committee that the page offers and that is open in the current cycle; or one held
        already, up to its remaining net debt (OverNetDebt past it). Anything else is
        ElectionNotOpen. A committee without elections on its calendar takes only the page's."""
        if not self.elections:
            if requested and requested != page_election:
                raise ElectionNotOpen(requested, [page_election])
            return page_election
        day = self.local_date(when)
        open_codes = [e.code for e in self.open_elections(day)]
        if requested is None:
            if page_election in open_codes:
                return page_election
            if not open_codes:
                raise ElectionNotOpen(None, [])
            return open_codes[0]
        offered_open = [c for c in open_codes if c in offered]
        election = self.election(requested)
        if election is None or requested not in offered:
            raise ElectionNotOpen(requested, offered_open)
        if requested in open_codes:
            return requested
        if election.held_before(day):
            if amount_cents > election.net_debt_cents:
                raise OverNetDebt(requested)
            return requested
        raise ElectionNotOpen(requested, offered_open)  # a later cycle's

    def debt_limit(self, code: str, when: datetime) -> int | None:
        """What may be raised in all toward a held election's debts (its `net_debt_cents`);
        None while the election is ahead (or for a committee without a calendar)."""
        election = self.election(code)
        if election is None or not election.held_before(self.local_date(when)):
            return None
        return election.net_debt_cents

    def recurring_end_day(self, when: datetime) -> date | None:
        """The local day monthly gifts started at `when` end: the committee's setting, else
        30 days after the last election of the cycle containing `when` (None for a PAC or a
        calendar without elections in that cycle: the gift runs until the donor stops it)."""
        if self.recurring_ends_at is not None:
            return self.recurring_ends_at
        if self.type == "pac":
            return None
        cycle = self.cycle(self.local_date(when))
        dates = [e.date for e in self.elections if cycle.contains(e.date)]
        return max(dates) + timedelta(days=RECURRING_GRACE_DAYS) if dates else None

    def monthly_gifts_end(self, when: datetime) -> datetime | None:
        """When a monthly gift started at `when` is cancelled (the `cancel_at` of its
        subscription): the start of its end day in the committee's zone; None when there is
        none or it is not after `when` (Stripe refuses a `cancel_at` in the past)."""
        day = self.recurring_end_day(when)
        end = local_midnight(day, self.zone) if day else None
        return end if end is not None and end > when else None

    def renewal_designation(self, when: datetime, plan_election: str) -> str:
        """A monthly gift's election for the invoice paid at `when`: its plan's while that is
        ahead, else the next one (a renewal after the primary counts toward the general); the
        plan's own if the calendar has nothing open (the money has moved: it is recorded, and
        the limit check refunds what it must)."""
        try:
            return self.designate(when, None, plan_election, (), 0)
        except ElectionNotOpen:
            return plan_election

    def limit_scope(self, election: str, when: datetime) -> str:
        """The period a donor's limit applies to: one election, or one local calendar year
        for a PAC."""
        if self.type == "pac":
            return f"{self.committee_id}#Y{self.local_date(when).year}"
        return f"{self.committee_id}#{election}"

    def itemization_period(self, election: str, when: datetime) -> tuple[datetime, datetime]:
        """[start, end) of the period whose aggregate decides itemization, as the instants
        its first day begins and the day after its last begins, in the committee's zone."""
        cycle = self.cycle(self.local_date(when))
        return (local_midnight(cycle.start, self.zone),
                local_midnight(cycle.end + timedelta(days=1), self.zone))

    def view(self) -> dict[str, object]:
        body: dict[str, object] = {
            "committee_id": self.committee_id, "name": self.name, "type": self.type,
            "limit_cents": self.limit_cents,
            "itemization_threshold_cents": self.itemization_threshold_cents,
            "address": _address_view(self.address) if self.address else None,
            "treasurer": _name_view(self.treasurer) if self.treasurer else None,
            "treasurer_name": self.treasurer.display if self.treasurer else None,
            "time_zone": self.zone,
            "filing_frequency": self.filing_frequency,
            "opening_cash_on_hand_cents": self.opening_cash_on_hand_cents,
            "opening_cash_as_of": _day(self.opening_cash_as_of),
            "recurring_ends_at": _day(self.recurring_ends_at),
        }
        if self.type == "candidate":
            body["presumptive_redesignation"] = self.presumptive_redesignation
            c = self.candidate
            body.update({
                "candidate": ({"fec_id": c.fec_id, "name": c.name.display, "office": c.office,
                               "state": c.state, "district": c.district} if c else None),
                "previous_general_date": _day(self.previous_general_date),
                "elections": [{"code": e.code, "date": e.date.isoformat(),
                               "net_debt_cents": e.net_debt_cents} for e in self.elections],
                "status": self.status, "status_date": _day(self.status_date),
            })
        if self.time_zone is None:
            body["warnings"] = [f"time_zone is not set: {DEFAULT_TIME_ZONE} is assumed for every "
                                "period boundary until it is."]
        return body


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _address_view(a: Address) -> dict[str, object]:
    return {"line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state, "zip": a.zip}


def _name_view(n: Name) -> dict[str, object]:
    return {"first_name": n.first, "last_name": n.last, "middle_name": n.middle}


def default_committee(committee_id: str, defaults: CommitteeDefaults,
                      type: CommitteeType = "candidate", name: str = "") -> Committee:
    limit = defaults.pac_limit_cents if type == "pac" else defaults.candidate_limit_cents
    return Committee(committee_id, name or committee_id, type, limit,
                     defaults.itemization_threshold_cents)


def configure(committee_id: str, data: CommitteeInput, stored: Committee | None,
              defaults: CommitteeDefaults, now: datetime) -> Committee:
    """The committee as finance configures it (every field as sent, limits defaulting by type).
    A new committee must name its time zone; one stored before time zones keeps its own (or
    the assumed default). A status keeps its date unless it changes (then: today, locally)."""
    from chalicelib.compliance.input import split_name

    time_zone = data.time_zone or (stored.time_zone if stored else None)
    if stored is None and time_zone is None:
        raise InvalidInput("invalid_request", "A new committee needs its time zone.",
                           fields={"time_zone": "required, an IANA time zone such as America/Chicago"})
    base = default_committee(committee_id, defaults, data.type, data.name)
    treasurer = None
    if data.treasurer is not None:
        t = data.treasurer
        treasurer = Name(t.first_name, t.last_name, t.middle_name or None)
    elif data.treasurer_name is not None:
        first, last, middle = split_name(data.treasurer_name)
        treasurer = Name(first, last, middle)
    candidate = None
    if data.candidate is not None:
        c = data.candidate
        first, last, middle = split_name(c.name)
        candidate = Candidate(c.fec_id, Name(first, last, middle), c.office, c.state, c.district)
    status = data.status or (stored.status if stored and data.type == "candidate" else "active")
    status_date = data.status_date
    if status_date is None and status != "active":
        unchanged = stored is not None and stored.status == status
        status_date = ((stored.status_date if stored and unchanged else None)
                       or local_date(now, time_zone or DEFAULT_TIME_ZONE))
    a = data.address
    return Committee(
        committee_id, base.name, base.type,
        base.limit_cents if data.limit_cents is None else data.limit_cents,
        (base.itemization_threshold_cents if data.itemization_threshold_cents is None
         else data.itemization_threshold_cents),
        address=Address(a.line1, a.city, a.state, a.zip, a.line2 or None) if a else None,
        treasurer=treasurer, time_zone=time_zone, candidate=candidate,
        previous_general_date=data.previous_general_date,
        elections=tuple(sorted((Election(e.code, e.date, e.net_debt_cents) for e in data.elections or []),
                               key=lambda e: (e.date, e.code))),
        status=status, status_date=status_date, filing_frequency=data.filing_frequency,
        opening_cash_on_hand_cents=data.opening_cash_on_hand_cents,
        opening_cash_as_of=data.opening_cash_as_of,
        recurring_ends_at=data.recurring_ends_at,
        presumptive_redesignation_setting=(
            data.presumptive_redesignation if data.presumptive_redesignation is not None
            else (stored.presumptive_redesignation_setting if stored else None)),
    )


class CommitteeStore(Protocol):
    defaults: CommitteeDefaults

    def get(self, committee_id: str) -> Committee: ...
    def find(self, committee_id: str) -> Committee | None: ...
    def save(self, committee: Committee, now: datetime, queued: OutboxMessage | None = None) -> None: ...
    def list(self) -> list[Committee]: ...


class CommitteeService:
    """Committees as finance keeps them: what the views call (never the store itself)."""

    def __init__(self, store: CommitteeStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def configure(self, committee_id: str, data: CommitteeInput) -> Committee:
        """Save the committee as finance sends it (see `configure`)."""
        now = self.clock()
        from chalicelib.compliance.withdrawal import forgo_message

        stored = self.store.find(committee_id)
        committee = configure(committee_id, data, stored, self.store.defaults, now)
        # A lost primary or a withdrawal queues, with the change, the refunds of what was
        # given for the elections it forgoes (once: the same status again queues nothing).
        self.store.save(committee, now, forgo_message(stored, committee, now))
        return committee

    def get(self, committee_id: str) -> Committee:
        """The committee (the defaults of its id when finance never configured it)."""
        return self.store.get(committee_id)

    def list(self) -> list[Committee]:
        return self.store.list()
