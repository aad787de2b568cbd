"""The filing calendar, as tables of the FEC's published schedules: report codes, coverage and
due dates by committee type, frequency and elections; periods off the calendar are refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.filing.calendar import filing_calendar, general_election_day, report_period
from chalicelib.filing.errors import PeriodNotInCalendar
from chalicelib.filing.model import Election
from tests.helpers import filing_committee

D = date.fromisoformat


def table(committee: object, year: int) -> list[tuple[str, str, str, str]]:
    return [(p.report_code, p.coverage_from.isoformat(), p.coverage_through.isoformat(), p.due.isoformat())
            for p in filing_calendar(committee, year)]  # type: ignore[arg-type]


def test_a_house_campaign_in_its_election_year() -> None:
    # The FEC's 2026 dates: pre-general closes October 14, due October 22; post-general closes
    # November 23, due December 3; the pre-primary closes on the 20th day before June 2.
    assert table(filing_committee(), 2026) == [
        ("Q1", "2026-01-01", "2026-03-31", "2026-04-15"),
        ("12P", "2026-04-01", "2026-05-13", "2026-05-21"),
        ("Q2", "2026-05-14", "2026-06-30", "2026-07-15"),
        ("Q3", "2026-07-01", "2026-09-30", "2026-10-15"),
        ("12G", "2026-10-01", "2026-10-14", "2026-10-22"),
        ("30G", "2026-10-15", "2026-11-23", "2026-12-03"),
        ("YE", "2026-11-24", "2026-12-31", "2027-01-31"),
    ]


def test_a_house_campaign_files_quarterly_in_the_year_between() -> None:
    assert [row[0] for row in table(filing_committee(), 2025)] == ["Q1", "Q2", "Q3", "YE"]


def test_an_early_primary_comes_before_the_first_quarter_closes() -> None:
    texas = filing_committee(elections=(Election("P2026", D("2026-03-03")),
                                        Election("G2026", D("2026-11-03"))))
    assert table(texas, 2026)[:2] == [("12P", "2026-01-01", "2026-02-11", "2026-02-19"),
                                      ("Q1", "2026-02-12", "2026-03-31", "2026-04-15")]


def test_a_quarterly_report_due_within_ten_days_of_a_pre_election_report_is_waived() -> None:
    # A July 28 primary: its pre-primary report is due July 16, a day after the July quarterly,
    # so it covers the whole second quarter and on to July 8.
    late = filing_committee(elections=(Election("P2026", D("2026-07-28")),
                                       Election("G2026", D("2026-11-03"))))
    codes = table(late, 2026)
    assert [row[0] for row in codes] == ["Q1", "12P", "Q3", "12G", "30G", "YE"]
    assert codes[1] == ("12P", "2026-04-01", "2026-07-08", "2026-07-16")
    assert codes[2] == ("Q3", "2026-07-09", "2026-09-30", "2026-10-15")


def test_the_october_quarterly_stays_alongside_the_pre_general() -> None:
    # 2012: the October quarterly was due 10/15 and the pre-general 10/25; both were filed.
    committee = filing_committee(elections=(Election("G2012", D("2012-11-06")),))
    rows = {row[0]: row for row in table(committee, 2012)}
    assert rows["Q3"][2:] == ("2012-09-30", "2012-10-15")
    assert rows["12G"] == ("12G", "2012-10-01", "2012-10-17", "2012-10-25")
    assert rows["30G"] == ("30G", "2012-10-18", "2012-11-26", "2012-12-06")
    assert rows["YE"][1] == "2012-11-27"


def test_a_lost_primary_files_no_general_election_reports() -> None:
    lost = filing_committee(elections=(Election("P2026", D("2026-06-02")),
                                       Election("G2026", D("2026-11-03"), participating=False)))
    assert [row[0] for row in table(lost, 2026)] == ["Q1", "12P", "Q2", "Q3", "YE"]


def test_a_special_election_has_its_pre_and_post_election_reports() -> None:
    special = filing_committee(elections=(Election("S2025", D("2025-04-01")),))
    assert table(special, 2025)[:3] == [("12S", "2025-01-01", "2025-03-12", "2025-03-20"),
                                        ("Q1", "2025-03-13", "2025-03-31", "2025-04-15"),
                                        ("30S", "2025-04-01", "2025-04-21", "2025-05-01")]


def test_a_quarterly_pac_files_semi_annually_without_a_general_election() -> None:
    assert table(filing_committee("pac"), 2025) == [
        ("MY", "2025-01-01", "2025-06-30", "2025-07-31"),
        ("YE", "2025-07-01", "2025-12-31", "2026-01-31"),
    ]


def test_a_quarterly_pac_in_a_general_election_year() -> None:
    periods = filing_calendar(filing_committee("pac"), 2026)
    assert [(p.report_code, p.optional) for p in periods] == [
        ("Q1", False), ("Q2", False), ("Q3", False), ("12G", True), ("30G", False), ("YE", False)]
    twelve, thirty = periods[3], periods[4]
    # The pre-general is filed only with general election activity; without it the
    # post-general covers from October 1.
    assert (twelve.coverage_from, twelve.coverage_through) == (D("2026-10-01"), D("2026-10-14"))
    assert (thirty.coverage_from, thirty.coverage_through) == (D("2026-10-01"), D("2026-11-23"))


@pytest.mark.parametrize(("year", "codes"), [
    (2025, [f"M{m}" for m in range(2, 13)] + ["YE"]),
    (2026, [f"M{m}" for m in range(2, 11)] + ["12G", "30G", "YE"]),
])
def test_a_monthly_pac(year: int, codes: list[str]) -> None:
    monthly = filing_committee("pac", filing_frequency="monthly")
    rows = table(monthly, year)
    assert [row[0] for row in rows] == codes
    assert rows[0] == ("M2", f"{year}-01-01", f"{year}-01-31", f"{year}-02-20")
    assert rows[-1][2:] == (f"{year}-12-31", f"{year + 1}-01-31")
    if year == 2026:
        assert rows[-4] == ("M10", "2026-09-01", "2026-09-30", "2026-10-20")
        assert rows[-1][1] == "2026-11-24"


def test_a_monthly_candidate_committee_files_no_pre_primary() -> None:
    monthly = filing_committee(filing_frequency="monthly")
    assert [row[0] for row in table(monthly, 2026)][-4:] == ["M10", "12G", "30G", "YE"]
    assert "12P" not in [row[0] for row in table(monthly, 2026)]


@pytest.mark.parametrize(("year", "day"), [(2024, "2024-11-05"), (2026, "2026-11-03"),
                                           (2028, "2028-11-07"), (2030, "2030-11-05")])
def test_general_election_day(year: int, day: str) -> None:
    assert general_election_day(year) == D(day)


def test_a_period_on_the_calendar_is_accepted() -> None:
    period = report_period(filing_committee(), "Q2", D("2026-05-14"), D("2026-06-30"))
    assert (period.report_code, period.due) == ("Q2", D("2026-07-15"))
    pre = report_period(filing_committee(), "12G", D("2026-10-01"), D("2026-10-14"))
    assert pre.election is not None and pre.election.code == "G2026"


@pytest.mark.parametrize(("code", "start", "end", "field"), [
    ("Q2", "2026-04-01", "2026-06-30", "from"),  # the pre-primary covers April 1 - May 13
    ("Q2", "2026-05-14", "2026-06-29", "to"),
    ("M7", "2026-06-01", "2026-06-30", "report_code"),  # a quarterly filer has no monthly reports
    ("MY", "2026-01-01", "2026-06-30", "report_code"),
    ("Q1", "2026-03-31", "2026-01-01", "to"),
])
def test_a_period_off_the_calendar_is_refused(code: str, start: str, end: str, field: str) -> None:
    with pytest.raises(PeriodNotInCalendar) as caught:
        report_period(filing_committee(), code, D(start), D(end))
    assert caught.value.code == "period_not_in_calendar" and field in caught.value.fields


def test_a_first_report_may_start_earlier_and_a_later_one_follows_the_last() -> None:
    committee = filing_committee()
    first = report_period(committee, "Q1", D("2025-10-20"), D("2026-03-31"), first_report=True)
    assert first.coverage_from == D("2025-10-20")
    with pytest.raises(PeriodNotInCalendar):
        report_period(committee, "Q1", D("2025-10-20"), D("2026-03-31"))
    # A PAC that filed the optional pre-general: its post-general starts after it.
    pac = filing_committee("pac")
    after = report_period(pac, "30G", D("2026-10-15"), D("2026-11-23"), last_through=D("2026-10-14"))
    assert after.coverage_from == D("2026-10-15")
    with pytest.raises(PeriodNotInCalendar):
        report_period(pac, "30G", D("2026-10-15"), D("2026-11-23"))


def test_a_period_already_covered_is_refused() -> None:
    with pytest.raises(PeriodNotInCalendar):
        report_period(filing_committee(), "Q1", D("2026-01-01"), D("2026-03-31"),
                      last_through=D("2026-05-13"))


def test_the_elections_decide_the_year_not_the_clock() -> None:
    # A committee with no 2026 primary on file files no pre-primary report.
    committee = replace(filing_committee(), elections=(Election("G2026", D("2026-11-03")),))
    assert "12P" not in [row[0] for row in table(committee, 2026)]
