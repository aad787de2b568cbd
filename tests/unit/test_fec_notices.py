"""48-hour notices over in-memory twins: the webhook plans a check only for a success of $1,000
or more; the check (off the webhook) decides with the committee's calendar in local dates, adds
the gift to its day's notice and tells finance through the one send path; the notice's file is
Form 6 with one F65 per contribution, and its filing is recorded once."""

from __future__ import annotations

from datetime import date, datetime, timezone

import fecfile
import pytest

from chalicelib.errors import Conflict, NotFound
from chalicelib.exports.model import DonationFacts
from chalicelib.fec_reports.notices import NoticeService
from chalicelib.fec_reports.planning import NOTICE_CHECK, plan_notice_check
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.outbox.model import OutboxMessage
from chalicelib.staff.auth import StaffKey
from tests.giving_twins import MemoryCommittees
from tests.reports_kit import (
    Files,
    Ledger,
    MemoryNotices,
    SentMail,
    StaffList,
    donor_facts,
    house_committee,
)

NOW = datetime(2026, 5, 24, 2, tzinfo=timezone.utc)
DANA = StaffKey("k" * 64, "finance", "Dana", email="dana@example.org")
STAFF = [DANA, StaffKey("o" * 64, "organizer", "Olu", email="olu@example.org"),
         StaffKey("r" * 64, "finance", "Rae", revoked=True, email="rae@example.org"),
         StaffKey("n" * 64, "finance", "Noa")]  # no email on file


def donation(donation_id: str, cents: int, paid: bool = False) -> Donation:
    snapshot = DonorSnapshot("Ana", "Rivera", "ana@example.org", "1 Main St", "Springfield", "IL",
                             "62701", "City Library", "Librarian")
    return Donation(donation_id, "spring", "C00123456", "P2026", snapshot, snapshot.donor_id, NOW,
                    "fp", PaymentState(cents, paid=paid))


def facts(donation_id: str, cents: int, paid_at: str, donor: str = "ana") -> DonationFacts:
    return DonationFacts(donation_id, donor_facts(donor), cents, 0, "succeeded", "P2026", "spring",
                         paid_at=datetime.fromisoformat(paid_at).replace(tzinfo=timezone.utc))


def build(*gifts: DonationFacts) -> tuple[NoticeService, MemoryNotices, SentMail, Files]:
    notices, sent, files = MemoryNotices(), SentMail(), Files()
    ledger = Ledger([], {g.donation_id: g for g in gifts})
    service = NoticeService(notices, ledger, MemoryCommittees(house_committee()), files,
                            StaffList(*STAFF), lambda: sent, "https://api.example.org",
                            clock=lambda: NOW)
    return service, notices, sent, files


def check(service: NoticeService, donation_id: str) -> str:
    message = OutboxMessage(f"{NOTICE_CHECK}#{donation_id}", NOTICE_CHECK, NOW,
                            {"donation_id": donation_id, "committee_id": "C00123456"})
    return service.check(message).result


def test_the_webhook_plans_a_check_only_for_a_new_success_of_a_thousand_dollars() -> None:
    (message,) = plan_notice_check(donation("don_1", 100_000), PaymentState(100_000, paid=True), NOW)
    assert message.message_id == "notice_check#don_1" and message.kind == NOTICE_CHECK
    assert message.payload == {"donation_id": "don_1", "committee_id": "C00123456"}
    assert plan_notice_check(donation("don_2", 99_999), PaymentState(99_999, paid=True), NOW) == []
    already = donation("don_3", 100_000, paid=True)
    assert plan_notice_check(already, PaymentState(100_000, paid=True), NOW) == []  # a redelivery


def test_a_gift_ten_days_before_the_primary_needs_a_notice_and_finance_is_told() -> None:
    # The primary is June 2 (Central time); May 23, 9 pm in Illinois is 2 am UTC on May 24.
    service, notices, sent, _ = build(facts("don_1", 100_000, "2026-05-24T02:00"))
    assert check(service, "don_1").endswith("told 1")
    (notice,) = notices.items.values()
    assert (notice.election, notice.received_on, notice.contributions) == ("P2026", date(2026, 5, 23),
                                                                           ("don_1",))
    assert notice.due_at == datetime(2026, 5, 26, 2, tzinfo=timezone.utc)  # 48 hours after receipt
    ((recipient, email),) = sent.sent.values()
    assert email.to == "dana@example.org" and recipient == f"staff#{'k' * 16}"
    assert "$1,000.00" in email.text and "2026-05-26 02:00 UTC" in email.text
    assert notice.notice_id in email.text
    check(service, "don_1")  # the outbox delivering it again changes nothing
    assert len(notices.items) == 1 and len(sent.sent) == 1


@pytest.mark.parametrize(("paid_at", "why"), [
    ("2026-05-08T17:00", "25 days before: the pre-primary report carries it"),
    ("2026-06-01T05:00", "the day before (midnight local): less than 48 hours before"),
    ("2026-05-31T17:00", "two days before: less than 48 hours before 12:01 am on election day"),
])
def test_no_notice_outside_the_window(paid_at: str, why: str) -> None:
    service, notices, sent, _ = build(facts("don_1", 250_000, paid_at))
    assert check(service, "don_1") == "no notice needed", why
    assert notices.items == {} and sent.sent == {}


def test_a_day_is_one_notice_whose_file_is_form_6_with_a_line_per_gift() -> None:
    service, notices, _, files = build(facts("don_1", 100_000, "2026-05-28T15:00", "ana"),
                                       facts("don_2", 150_000, "2026-05-28T20:00", "bo"),
                                       facts("don_3", 120_000, "2026-05-29T15:00", "cy"))
    for donation_id in ("don_2", "don_1", "don_3"):
        check(service, donation_id)
    first, second = sorted(notices.items.values(), key=lambda n: n.received_on)
    assert first.contributions == ("don_1", "don_2") and second.contributions == ("don_3",)
    assert first.due_at == datetime(2026, 5, 30, 15, tzinfo=timezone.utc)  # the earliest gift's
    assert [n.notice_id for n in service.list("C00123456")] == [second.notice_id, first.notice_id]
    url, _ = service.file_url(first.notice_id)
    key = url.removeprefix("https://files.test/").split("?")[0]
    parsed = fecfile.loads(files.read(key).decode())
    assert parsed["filing"]["form_type"] == "F6"
    assert parsed["filing"]["candidate_id_number"] == "H6IL13123"
    lines = parsed["itemizations"]["F65"]
    assert sorted((r["contributor_first_name"], r["contribution_amount"]) for r in lines) == [
        ("Ana", 1000.0), ("Bo", 1500.0)]


def test_filing_is_recorded_once() -> None:
    service, notices, _, _ = build(facts("don_1", 100_000, "2026-05-28T15:00"))
    check(service, "don_1")
    (notice,) = notices.items.values()
    assert service.mark_filed(notice.notice_id).filed_at == NOW
    with pytest.raises(Conflict):
        service.mark_filed(notice.notice_id)
    with pytest.raises(NotFound):
        service.mark_filed("ntc_none")
