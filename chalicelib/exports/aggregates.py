"""Donor aggregates as of each movement, replayed from the ledger in time order.

The FEC's `contribution_aggregate` of a contribution is the donor's net total to the committee
in its aggregation period (candidate: the two-year election cycle; PAC: the calendar year) up
to and including that contribution: contributions minus refunds and lost disputes, i.e. the
signed sum of the donor's movements. A contribution is itemized when that total passes the
committee's threshold ($200 by default), so a donor who crosses it midway is itemized from the
crossing contribution on, and a refund lowers the aggregate of every later contribution.

Memory holds one running total per donor and open period, never the movements themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.exports.model import LedgerMovement


class ItemizationRules(Protocol):
    """What a committee tells the replay (see `compliance.committees.Committee`)."""

    @property
    def itemization_threshold_cents(self) -> int: ...

    def itemization_period(self, election: str, when: datetime) -> tuple[datetime, datetime]: ...


def election_of(when: datetime) -> str:
    """The general election of the cycle `when` falls in (`G2026` for 2025 and 2026)."""
    return f"G{when.year + when.year % 2}"


def replay_start(rules: ItemizationRules, start: datetime) -> datetime:
    """Where a replay must begin for the aggregates at `start` to be complete."""
    period_start, _ = rules.itemization_period(election_of(start), start)
    return min(period_start, start)


@dataclass(frozen=True)
class Replayed:
    """A movement's effect: the donor's aggregate after it, and (for a contribution) whether
    it is itemized."""

    aggregate_cents: int
    itemized: bool


class AggregateReplay:
    """Running net totals per donor and aggregation period, fed movements in time order."""

    def __init__(self, rules: ItemizationRules) -> None:
        self.rules = rules
        self._periods: dict[tuple[datetime, datetime], dict[str, int]] = {}

    def apply(self, movement: LedgerMovement) -> Replayed:
        period = self.rules.itemization_period(movement.election, movement.occurred_at)
        self._close_periods_before(movement.occurred_at)
        totals = self._periods.setdefault(period, {})
        total = totals.get(movement.donor_id, 0) + movement.amount_cents
        totals[movement.donor_id] = total
        itemized = movement.kind == "contribution" and total > self.rules.itemization_threshold_cents
        return Replayed(total, itemized)

    def aggregate(self, donor_id: str, when: datetime, election: str = "") -> int:
        """A donor's aggregate at `when` (after every movement applied so far)."""
        period = self.rules.itemization_period(election or election_of(when), when)
        return self._periods.get(period, {}).get(donor_id, 0)

    def snapshot(self) -> AggregateReplay:
        """An independent copy, to replay the same movements again from this point."""
        copy = AggregateReplay(self.rules)
        copy._periods = {period: dict(totals) for period, totals in self._periods.items()}
        return copy

    @property
    def donors_tracked(self) -> int:
        return sum(len(totals) for totals in self._periods.values())

    def _close_periods_before(self, when: datetime) -> None:
        # Movements arrive in time order: a period that has ended is never needed again.
        for period in [p for p in self._periods if p[1] <= when]:
            del self._periods[period]
