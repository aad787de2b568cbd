"""48-hour notices: $1,000 or more received from the 19th through the 3rd day before an election
(local dates in the committee's time zone) makes a Form 6 that `fecfile` reads back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.filing.errors import NotEligible
from chalicelib.filing.forms import Signature
from chalicelib.filing.model import Election
from chalicelib.filing.notices import notice_due, notice_election, notice_window, notices
from tests.helpers import assert_fec_round_trip, contributor, filing_committee, filing_receipt

GENERAL = date(2026, 11, 3)
COMMITTEE = filing_committee()
SIGNED = Signature(date(2026, 10, 25))


def gift(days_before: int, cents: int = 100_000, source: str = "gift", **changes: object) -> object:
    return filing_receipt(f"{source}-{days_before}", GENERAL - timedelta(days=days_before), cents,
                          election="G2026", **changes)


def test_a_thousand_dollars_ten_days_before_the_general_makes_a_form_6() -> None:
    person = contributor("Rosa", "Parks", employer="Montgomery Fair", occupation="Seamstress")
    received = gift(10, person=person)
    [notice] = notices(COMMITTEE, [received])  # type: ignore[list-item]
    assert notice.election.code == "G2026" and notice.received_on == date(2026, 10, 24)
    text = notice.fec_bytes(SIGNED).decode("ascii")
    parsed = assert_fec_round_trip(
        [{"record_type": "HDR", "ef_type": "FEC", "fec_version": "8.4", "soft_name": "Groundswell",
          "soft_ver": "1.0", "hdrcomment": "48-hour notice G2026 2026-10-24"},
         *notice.records(SIGNED)], text)
    form, [line] = parsed["filing"], parsed["itemizations"]["F65"]
    assert form["form_type"] == "F6" and form["filer_committee_id_number"] == "C00123456"
    assert (form["candidate_id_number"], form["candidate_last_name"], form["candidate_office"]) == (
        "H6IL13123", "Rivera", "H")
    assert (form["signer_last_name"], form["date_signed"].date()) == ("Okafor", date(2026, 10, 25))
    assert (line["contributor_last_name"], line["contributor_first_name"]) == ("Parks", "Rosa")
    assert line["contribution_amount"] == 1000.0
    assert line["contribution_date"].date() == date(2026, 10, 24)
    assert (line["contributor_employer"], line["contributor_occupation"]) == ("Montgomery Fair", "Seamstress")
    assert [json.loads(x)["form_type"] for x in notice.jsonl_bytes(SIGNED).splitlines()] == ["F6", "F65"]
    # The next report itemizes it under the same transaction id.
    assert line["transaction_id"] == received.transaction_id  # type: ignore[attr-defined]


@pytest.mark.parametrize(("days_before", "cents", "notice"), [
    (25, 100_000, False),  # before the window: the pre-election report covers it
    (20, 100_000, False),  # the pre-election report's close of books
    (19, 100_000, True),
    (10, 100_000, True),
    (3, 100_000, True),  # more than 48 hours before 12:01 a.m. on election day
    (2, 100_000, False),
    (1, 100_000, False),  # 24 hours before
    (10, 99_999, False),
    (10, 250_000, True),
])
def test_the_window_and_the_threshold(days_before: int, cents: int, notice: bool) -> None:
    assert (notice_election(COMMITTEE, gift(days_before, cents)) is not None) is notice  # type: ignore[arg-type]


def test_the_window_is_in_the_committees_local_dates() -> None:
    # 11:30 pm on October 31 in Chicago is already November 1 in UTC: the 3rd day before the
    # election locally (a notice), the 2nd in UTC (none).
    instant = datetime(2026, 11, 1, 4, 30, tzinfo=timezone.utc)
    local = COMMITTEE.local_date(instant)
    assert local == date(2026, 10, 31) and instant.date() == date(2026, 11, 1)
    received = filing_receipt("late", local, 100_000, election="G2026")
    assert notice_election(COMMITTEE, received) is not None
    assert notice_election(COMMITTEE, replace(received, date=instant.date())) is None
    assert notice_due(instant) == instant + timedelta(hours=48)


def test_the_primary_has_its_own_window_and_in_kind_and_earmarked_gifts_count() -> None:
    primary = date(2026, 6, 2)
    assert notice_window(COMMITTEE.elections[0]) == (date(2026, 5, 14), date(2026, 5, 30))
    kind = filing_receipt("kind", primary - timedelta(days=5), 120_000, method="in_kind",
                          in_kind_description="Office space")
    [notice] = notices(COMMITTEE, [kind])
    assert notice.election.code == "P2026"


def test_one_notice_per_day_with_every_contribution_of_the_day() -> None:
    day_one = [gift(10, source="a"), gift(10, 150_000, source="b")]
    day_two = [gift(9, source="c")]
    small = [gift(10, 50_000, source="d")]
    found = notices(COMMITTEE, [*day_one, *day_two, *small])  # type: ignore[list-item]
    assert [(n.received_on, len(n.contributions)) for n in found] == [
        (date(2026, 10, 24), 2), (date(2026, 10, 25), 1)]
    lines = found[0].records(SIGNED)[1:]
    assert sorted(line["contribution_amount"] for line in lines) == [1000.0, 1500.0]


def test_no_notice_for_an_election_the_candidate_left_or_for_a_pac() -> None:
    lost = filing_committee(elections=(Election("P2026", date(2026, 6, 2)),
                                       Election("G2026", GENERAL, participating=False)))
    assert notices(lost, [gift(10)]) == []  # type: ignore[list-item]
    assert notices(filing_committee("pac"), [gift(10)]) == []  # type: ignore[list-item]
    pac_notice = notices(COMMITTEE, [gift(10)])[0]  # type: ignore[list-item]
    with pytest.raises(NotEligible):
        replace(pac_notice, committee=filing_committee("pac")).records(SIGNED)
