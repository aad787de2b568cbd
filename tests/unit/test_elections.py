"""The committee's calendar: cycles from the day after the previous general through the next,
a PAC's calendar year, local dates in the committee's time zone, the elections still open."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from chalicelib.compliance.committees import Committee, CommitteeDefaults, configure
from chalicelib.compliance.elections import Cycle, Election
from chalicelib.compliance.input import CommitteeInput
from chalicelib.errors import InvalidInput
from chalicelib.filing.model import Name
from tests.helpers import committee_body

D = date.fromisoformat


def candidate(previous: str | None, *elections: tuple[str, str], zone: str = "America/Chicago") -> Committee:
    return Committee("C00000001", "Rivera for Congress", "candidate", 350_000, 20_000,
                     time_zone=zone, previous_general_date=D(previous) if previous else None,
                     elections=tuple(Election(code, D(day)) for code, day in elections))


HOUSE = candidate("2024-11-05", ("P2026", "2026-06-02"), ("G2026", "2026-11-03"))
SENATE = candidate("2020-11-03", ("P2026", "2026-03-03"), ("G2026", "2026-11-03"))
PRESIDENT = candidate("2024-11-05", ("P2028", "2028-03-07"), ("G2028", "2028-11-07"))
# A seat vacated mid-term: the special general closes its own cycle; the next runs to November.
SPECIAL = candidate("2024-11-05", ("S2025", "2025-09-09"), ("P2026", "2026-06-02"), ("G2026", "2026-11-03"))
PAC = Committee("C00000002", "Neighbors PAC", "pac", 500_000, 20_000, time_zone="America/Los_Angeles")


@pytest.mark.parametrize(("committee", "day", "start", "end"), [
    (HOUSE, "2024-11-06", "2024-11-06", "2026-11-03"),  # the day after the previous general
    (HOUSE, "2026-06-02", "2024-11-06", "2026-11-03"),
    (HOUSE, "2026-11-03", "2024-11-06", "2026-11-03"),  # general election day is the cycle's last
    (HOUSE, "2024-11-05", "2022-11-09", "2024-11-05"),  # the previous general ends the one before
    (HOUSE, "2026-11-04", "2026-11-04", "2028-11-07"),  # the next, to the regularly scheduled general
    (SENATE, "2022-07-01", "2020-11-04", "2026-11-03"),  # six years
    (PRESIDENT, "2026-01-15", "2024-11-06", "2028-11-07"),  # four years
    (SPECIAL, "2025-06-01", "2024-11-06", "2025-09-09"),
    (SPECIAL, "2025-09-10", "2025-09-10", "2026-11-03"),
    (candidate(None), "2025-03-01", "2024-11-06", "2026-11-03"),  # nothing known: two years
    (PAC, "2026-07-04", "2026-01-01", "2026-12-31"),  # a PAC's calendar year
])
def test_cycles(committee: Committee, day: str, start: str, end: str) -> None:
    assert committee.cycle(D(day)) == Cycle(D(start), D(end))


@pytest.mark.parametrize(("committee", "day", "codes"), [
    (HOUSE, "2026-01-10", ["P2026", "G2026"]),
    (HOUSE, "2026-06-02", ["P2026", "G2026"]),  # a gift on primary day is still for the primary
    (HOUSE, "2026-06-03", ["G2026"]),
    (HOUSE, "2026-11-04", []),  # the next cycle has no election on the calendar yet
    (SPECIAL, "2025-06-01", ["S2025"]),  # the regular elections are another cycle's
    (SPECIAL, "2025-09-10", ["P2026", "G2026"]),
])
def test_open_elections(committee: Committee, day: str, codes: list[str]) -> None:
    assert [e.code for e in committee.open_elections(D(day))] == codes


def test_a_gift_late_on_new_years_eve_in_los_angeles_counts_in_the_old_year() -> None:
    late = datetime(2027, 1, 1, 7, 30, tzinfo=timezone.utc)  # 23:30 on December 31 in LA
    assert PAC.local_date(late) == D("2026-12-31")
    assert PAC.limit_scope("G2026", late) == "C00000002#Y2026"
    start, end = PAC.itemization_period("G2026", late)
    assert start <= late < end
    assert (start.astimezone(timezone.utc), end.astimezone(timezone.utc)) == (
        datetime(2026, 1, 1, 8, tzinfo=timezone.utc), datetime(2027, 1, 1, 8, tzinfo=timezone.utc))
    # The same instant in New York is already next year.
    assert Committee("C00000003", "East PAC", "pac", 500_000, 20_000,
                     time_zone="America/New_York").limit_scope("G2026", late) == "C00000003#Y2027"


def test_the_cycle_boundary_is_local_midnight() -> None:
    # 03:00 UTC on November 4 is still November 3, general election day, in Chicago.
    night = datetime(2026, 11, 4, 3, 0, tzinfo=timezone.utc)
    start, end = HOUSE.itemization_period("G2026", night)
    assert start == datetime(2024, 11, 6, 6, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 4, 6, 0, tzinfo=timezone.utc) and night < end


def body(**changes: Any) -> CommitteeInput:
    return CommitteeInput.model_validate(committee_body(**changes))


NOW = datetime(2026, 6, 3, 3, 0, tzinfo=timezone.utc)  # June 2 in Chicago


def test_configure_splits_the_treasurer_and_orders_the_elections() -> None:
    c = configure("C00000001", body(), None, CommitteeDefaults(), NOW)
    assert c.treasurer == Name("Dana", "Okafor", "M.")
    assert c.candidate is not None and c.candidate.name == Name("Ana", "Rivera")
    assert [(e.code, e.net_debt_cents) for e in c.elections] == [("P2026", 50_000), ("G2026", 0)]
    assert (c.status, c.status_date, c.limit_cents) == ("active", None, 350_000)
    assert "warnings" not in c.view()


def test_a_new_committee_needs_its_time_zone_and_an_old_one_is_warned() -> None:
    with pytest.raises(InvalidInput) as raised:
        configure("C00000001", body(time_zone=None), None, CommitteeDefaults(), NOW)
    assert "time_zone" in raised.value.fields
    old = Committee("C00000001", "Rivera", "candidate", 350_000, 20_000)
    kept = configure("C00000001", body(time_zone=None), old, CommitteeDefaults(), NOW)
    assert kept.time_zone is None and kept.zone == "America/New_York"
    assert "America/New_York is assumed" in kept.view()["warnings"][0]  # type: ignore[index]


def test_a_status_is_dated_the_day_it_was_set_in_the_committees_zone() -> None:
    lost = configure("C00000001", body(status="lost_primary"), None, CommitteeDefaults(), NOW)
    assert lost.status_date == D("2026-06-02")
    later = datetime(2026, 7, 1, tzinfo=timezone.utc)
    again = configure("C00000001", body(status="lost_primary"), lost, CommitteeDefaults(), later)
    assert again.status_date == D("2026-06-02")  # unchanged: keeps its date
    chosen = configure("C00000001", body(status="withdrawn", status_date="2026-06-20"), lost,
                       CommitteeDefaults(), later)
    assert chosen.status_date == D("2026-06-20")


@pytest.mark.parametrize(("changes", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "../../etc/passwd"}, "time_zone"),
    ({"elections": [{"code": "X2026", "date": "2026-11-03"}]}, "elections.0"),
    ({"elections": [{"code": "G2030", "date": "2026-11-03"}]}, "elections.0"),
    ({"elections": [{"code": "G2026", "date": "2026-11-03"}, {"code": "g2026", "date": "2026-11-03"}]},
     "elections"),
    ({"elections": [{"code": "G2026", "date": "2026-11-03", "net_debt_cents": -1}]},
     "elections.0.net_debt_cents"),
    ({"treasurer_name": "Okafor"}, "treasurer_name"),
    ({"treasurer": {"first_name": "Dana", "last_name": "Okafor"}}, "body"),  # and treasurer_name
    ({"candidate": {"fec_id": "S6IL00123", "name": "Ana Rivera", "office": "H", "state": "IL",
                    "district": "13"}}, "candidate"),
    ({"candidate": {"fec_id": "H6IL13123", "name": "Ana Rivera", "office": "H", "state": "IL"}},
     "candidate"),
    ({"status": "won"}, "status"),
    ({"type": "pac"}, "body"),  # a PAC has no candidate nor elections
])
def test_what_finance_may_not_send(changes: dict[str, Any], field: str) -> None:
    from chalicelib.api.http import validated

    with pytest.raises(InvalidInput) as raised:
        validated(CommitteeInput, committee_body(**changes))
    assert any(f == field or f.startswith(field + ".") for f in raised.value.fields), raised.value.fields


def test_monthly_gifts_end_30_days_after_the_cycle_s_last_election_at_local_midnight() -> None:
    from dataclasses import replace
    from datetime import timedelta

    c = candidate("2024-11-05", ("P2026", "2026-03-17"), ("G2026", "2026-11-03"))
    given = datetime(2026, 4, 1, 15, tzinfo=timezone.utc)
    assert c.recurring_end_day(given) == date(2026, 12, 3)
    # The start of December 3 in Chicago (CST, UTC-6).
    assert c.monthly_gifts_end(given) == datetime(2026, 12, 3, 6, tzinfo=timezone.utc)
    assert PAC.monthly_gifts_end(given) is None  # a PAC's gifts run until stopped
    assert candidate("2024-11-05").monthly_gifts_end(given) is None  # no elections: none
    # After the end day a new gift gets no cancel_at (Stripe refuses one in the past).
    assert c.monthly_gifts_end(datetime(2026, 12, 3, 7, tzinfo=timezone.utc)) is None
    # The committee's own day wins, for a PAC too.
    chosen = replace(PAC, recurring_ends_at=date(2026, 6, 30))
    assert chosen.monthly_gifts_end(given) == datetime(2026, 6, 30, 7, tzinfo=timezone.utc)
    assert replace(c, recurring_ends_at=date(2026, 5, 1)).recurring_end_day(given + timedelta(days=1)) \
        == date(2026, 5, 1)
