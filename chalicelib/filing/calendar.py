"""The filing calendar: which reports a committee files in a year, what each covers, when it is due.

The FEC's rules (52 U.S.C. 30104(a), 11 CFR 104.5), in local dates:
- A reporting period begins the day after the close of books of the committee's last report and
  ends on its own close of books; a committee's first report may begin earlier (it covers
  everything before it registered).
- Quarterly filers: `Q1` (through March 31, due April 15), `Q2` (June 30, July 15), `Q3`
  (September 30, October 15) and `YE` (December 31, due January 31). A PAC filing quarterly
  files semi-annually in a year without a regularly scheduled general election: `MY` (June 30,
  due July 31) and `YE`.
- Monthly filers: `M2` … `M12` (each covers the month before, due the 20th) and `YE`. In a
  general election year the pre- and post-general reports replace `M11` and `M12`.
- Candidate committees also file, for every election the candidate takes part in, a 12-day
  pre-election report (`12P`, `12R`, `12C`, `12S`, `12G`) that closes on the 20th day before the
  election and is due on the 12th, and after a general (or special) election a 30-day
  post-election report (`30G`, `30S`) that closes on the 20th day after and is due on the 30th.
  Monthly filers file only the pre- and post-general ones.
- Every PAC files `30G` in a general election year; a quarterly PAC also files `12G` if it made
  contributions or expenditures for the general in that report's period (an optional report).
- The FEC waives a quarterly report that would be due close to a pre- or post-election report,
  and publishes each waiver. We waive one whose due date is within 10 days of an election
  report's, except for the pre-general report, which the FEC's schedule always has alongside the
  October quarterly (check the FEC's notice for the year; docs/reports.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from chalicelib.filing.errors import PeriodNotInCalendar
from chalicelib.filing.model import Election, FilingCommittee

PRE_ELECTION_KINDS = frozenset("PRCSG")  # primary, runoff, convention, special, general
POST_ELECTION_KINDS = frozenset("GS")  # 30-day post-general and post-special reports
PRE_CLOSE_DAYS = 20  # a pre-election report is complete as of the 20th day before
PRE_DUE_DAYS = 12
POST_CLOSE_DAYS = 20  # a post-election report is complete as of the 20th day after
POST_DUE_DAYS = 30
WAIVER_DAYS = 10


@dataclass(frozen=True)
class ReportPeriod:
    """One report of the calendar: its code, coverage (both days included), due date and, for a
    pre- or post-election report, the election."""

    report_code: str
    coverage_from: date
    coverage_through: date
    due: date
    election: Election | None = None
    optional: bool = False

    def covers(self, day: date) -> bool:
        return self.coverage_from <= day <= self.coverage_through


@dataclass(frozen=True)
class _Due:
    code: str
    through: date
    due: date
    election: Election | None = None
    optional: bool = False
    waivable: bool = False  # a quarterly (or mid-year) report


def general_election_day(year: int) -> date:
    """The regularly scheduled federal general election: the Tuesday after the first Monday in
    November of an even year."""
    first = date(year, 11, 1)
    first_monday = first + timedelta(days=(7 - first.weekday()) % 7)
    return first_monday + timedelta(days=1)


def filing_calendar(committee: FilingCommittee, year: int) -> list[ReportPeriod]:
    """Every report whose close of books falls in `year`, in order, each covering from the day
    after the previous required report's close of books (January 1 for the first)."""
    due = _election_reports(committee, year)
    waivers = [d for d in due if not d.optional and d.code != "12G"]
    regular = [r for r in _regular_reports(committee, year)
               if not (r.waivable and any(abs((w.due - r.due).days) <= WAIVER_DAYS for w in waivers))]
    periods: list[ReportPeriod] = []
    start = date(year, 1, 1)
    for item in sorted([*regular, *due], key=lambda d: (d.through, d.due)):
        periods.append(ReportPeriod(item.code, start, item.through, item.due, item.election,
                                    item.optional))
        if not item.optional:
            start = item.through + timedelta(days=1)
    return periods


def report_period(committee: FilingCommittee, report_code: str, from_day: date, to_day: date, *,
                  last_through: date | None = None, first_report: bool = False) -> ReportPeriod:
    """The calendar's report `report_code` ending on `to_day`, checked against `from_day`.

    `from_day` must be the day after the close of books of the committee's last report
    (`last_through`, when known; otherwise the calendar's), or earlier for a `first_report`.
    Anything else is refused with `PeriodNotInCalendar`, naming what the calendar expects."""
    if to_day < from_day:
        raise PeriodNotInCalendar("period_not_in_calendar", "`to` is before `from`.",
                                  fields={"to": "must not be before `from`"})
    calendar = filing_calendar(committee, to_day.year)
    same_code = [p for p in calendar if p.report_code == report_code]
    if not same_code:
        codes = ", ".join(p.report_code for p in calendar)
        raise PeriodNotInCalendar(
            "period_not_in_calendar",
            f"{report_code} is not one of this committee's {to_day.year} reports ({codes}).",
            fields={"report_code": f"one of {codes}"})
    period = next((p for p in same_code if p.coverage_through == to_day), None)
    if period is None:
        ends = " or ".join(p.coverage_through.isoformat() for p in same_code)
        raise PeriodNotInCalendar(
            "period_not_in_calendar", f"{report_code} {to_day.year} closes its books on {ends}.",
            fields={"to": ends})
    expected = last_through + timedelta(days=1) if last_through else period.coverage_from
    if expected > to_day:
        raise PeriodNotInCalendar(
            "period_not_in_calendar",
            f"The last report already covers through {expected - timedelta(days=1)}.",
            fields={"report_code": "already covered by an earlier report"})
    if from_day != expected and not (first_report and from_day < expected):
        raise PeriodNotInCalendar(
            "period_not_in_calendar",
            f"{report_code} {to_day.year} covers from {expected.isoformat()}, the day after the "
            "last report's close of books.", fields={"from": expected.isoformat()})
    return replace(period, coverage_from=from_day)


def _general_election(committee: FilingCommittee, year: int) -> Election | None:
    """The general election the committee reports on in `year`, if there is one."""
    if committee.type == "pac":
        if year % 2:
            return None
        return Election(f"G{year}", general_election_day(year))
    return next((e for e in committee.elections
                 if e.kind == "G" and e.date.year == year and e.participating), None)


def _regular_reports(committee: FilingCommittee, year: int) -> list[_Due]:
    if committee.filing_frequency == "monthly":
        replaced = {"M11", "M12"} if _general_election(committee, year) else set()
        months = [_Due(f"M{m}", date(year, m, 1) - timedelta(days=1), date(year, m, 20))
                  for m in range(2, 13) if f"M{m}" not in replaced]
        return [*months, _year_end(year)]
    if committee.type == "pac" and year % 2:
        return [_Due("MY", date(year, 6, 30), date(year, 7, 31), waivable=True), _year_end(year)]
    quarters = [_Due(code, date(year, month, day), date(year, month + 1, 15), waivable=True)
                for code, month, day in (("Q1", 3, 31), ("Q2", 6, 30), ("Q3", 9, 30))]
    return [*quarters, _year_end(year)]


def _year_end(year: int) -> _Due:
    return _Due("YE", date(year, 12, 31), date(year + 1, 1, 31))


def _election_reports(committee: FilingCommittee, year: int) -> list[_Due]:
    """Pre- and post-election reports whose close of books falls in `year`."""
    if committee.type == "pac" or committee.filing_frequency == "monthly":
        general = _general_election(committee, year)
        if general is None:
            return []
        optional = committee.type == "pac" and committee.filing_frequency == "quarterly"
        return [_pre(general, optional), _post(general)]
    reports: list[_Due] = []
    for election in committee.elections:
        if not election.participating:
            continue
        if election.kind in PRE_ELECTION_KINDS:
            reports.append(_pre(election))
        if election.kind in POST_ELECTION_KINDS:
            reports.append(_post(election))
    return [r for r in reports if r.through.year == year]


def _pre(election: Election, optional: bool = False) -> _Due:
    return _Due(f"12{election.kind}", election.date - timedelta(days=PRE_CLOSE_DAYS),
                election.date - timedelta(days=PRE_DUE_DAYS), election, optional)


def _post(election: Election) -> _Due:
    return _Due(f"30{election.kind}", election.date + timedelta(days=POST_CLOSE_DAYS),
                election.date + timedelta(days=POST_DUE_DAYS), election)
