"""Best efforts (11 CFR 104.7) against in-memory twins: which answers count as missing, what the
law text says for each committee type, one request per flagged contribution, and an answer
recorded on each contribution it completes with the committee's local day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

import pytest

from chalicelib.compliance.best_efforts import (
    BestEffortsAnswers,
    best_efforts_handler,
    is_placeholder,
    law_notice,
    missing_fields,
    plan_best_efforts_request,
    read_answer,
)
from chalicelib.compliance.committees import Committee, CommitteeDefaults, default_committee
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.outbox.model import Delivered, OutboxMessage
from chalicelib.tokens import EMPLOYMENT, Tokens
from tests.giving_twins import T0, DonorRecord, MemoryDonations, MemoryPages, page

SECRET = "unit-test-secret-0123456789"


@pytest.mark.parametrize("value", ["N/A", "n/a", "NA", "none", "None ", "unemployed?", "Teacher?",
                                   "?", "Information Requested", "self", "J.S.", "x", "", None,
                                   "refused", "idk", "see above"])
def test_placeholders_count_as_missing(value: str | None) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["Retired", "Not employed", "Unemployed", "Homemaker", "Student",
                                   "Self-employed", "IBM", "GE", "Teacher"])
def test_real_answers_are_answers(value: str) -> None:
    assert not is_placeholder(value)


def test_the_law_is_stated_for_the_committee_type() -> None:
    assert law_notice("candidate") == (
        "Federal law requires us to use our best efforts to collect and report the name, mailing "
        "address, occupation and name of employer of individuals whose contributions exceed $200 "
        "in an election cycle.")
    assert law_notice("pac").endswith("exceed $200 in a calendar year.")


def committee(committee_id: str, type: str = "candidate", time_zone: str | None = None) -> Committee:
    return replace(default_committee(committee_id, CommitteeDefaults(), type=type),  # type: ignore[arg-type]
                   time_zone=time_zone)


class Committees:
    def __init__(self, *found: Committee) -> None:
        self.found = {c.committee_id: c for c in found}

    def get(self, committee_id: str) -> Committee:
        return self.found.get(committee_id) or committee(committee_id)


def donor(email: str = "ana@example.org", employer: str = "N/A",
          occupation: str = "Librarian") -> DonorSnapshot:
    return DonorSnapshot("Ana", "Rivera", email, "1 Main St", "Springfield", "IL", "62701",
                         employer, occupation)


def donation(donation_id: str, snapshot: DonorSnapshot | None = None, paid: bool = True,
             committee_id: str = "C00000001", refunded: int = 0) -> Donation:
    snapshot = snapshot or donor()
    return Donation(donation_id, "spring", committee_id, "P2026", snapshot, snapshot.donor_id, T0, "fp",
                    PaymentState(2_500, paid=paid, failed=not paid, refunded_cents=refunded))


def store_with(*donations: Donation) -> MemoryDonations:
    store = MemoryDonations()
    for d in donations:
        store.donations[d.donation_id] = d
        store.donors.setdefault(d.donor_id, DonorRecord(d.donor))
    return store


def test_one_request_is_planned_per_flagged_success() -> None:
    flagged = donation("don_1", paid=False)
    success = PaymentState(2_500, paid=True)
    (message,) = plan_best_efforts_request(flagged, success, T0)
    assert message.message_id == "best_efforts#don_1"
    assert message.due_at == T0  # due with the success: well inside the 30 days the rule allows
    assert plan_best_efforts_request(replace(flagged, state=success), success, T0) == []  # not again
    assert plan_best_efforts_request(donation("don_2", donor(employer="Acme"), paid=False), success, T0) == []


def ask_with(store: MemoryDonations, committees: Committees) -> tuple[list[Any], Any]:
    sent: list[Any] = []

    def send_once(message: OutboxMessage, recipient: str, email: Any) -> Delivered:
        sent.append((message.message_id, recipient, email))
        return Delivered("ses-1")

    ask = best_efforts_handler(store, committees, send_once, Tokens(SECRET, lambda: T0),
                               lambda path: "https://give.example" + path, MemoryPages(page()))
    return sent, ask


def message(donation_id: str) -> OutboxMessage:
    return OutboxMessage(f"best_efforts#{donation_id}", "best_efforts_request", T0,
                         {"donation_id": donation_id})


def test_the_request_goes_through_the_send_path_with_the_law_and_a_link_naming_the_gift() -> None:
    store = store_with(donation("don_1", donor(employer="N/A", occupation="none"), committee_id="CPAC"))
    sent, ask = ask_with(store, Committees(committee("CPAC", "pac")))
    assert ask(message("don_1")).result == "ses-1"
    ((message_id, recipient, email),) = sent
    assert (message_id, recipient) == ("best_efforts#don_1", store.donations["don_1"].donor_id)
    assert law_notice("pac") in " ".join(email.text.split())
    token = email.text.split("/e/", 1)[1].split()[0]
    claims = Tokens(SECRET, lambda: T0).claims(token, EMPLOYMENT)
    assert claims.subjects == (store.donations["don_1"].donor_id, "don_1")
    assert missing_fields(store.donations["don_1"].donor) == ["employer", "occupation"]


def test_nothing_is_asked_once_answered_or_when_the_gift_does_not_stand() -> None:
    answered = replace(donation("don_1"), best_efforts_answered_on=date(2026, 10, 2))
    store = store_with(answered, donation("don_2", paid=False), donation("don_3", refunded=2_500))
    sent, ask = ask_with(store, Committees())
    assert ask(message("don_1")).result == "skipped: answered"
    assert ask(message("don_2")).result == "skipped: donation is failed"
    assert ask(message("don_3")).result == "skipped: donation is refunded"
    assert sent == []


def answers(store: MemoryDonations, committees: Committees,
            moment: datetime) -> tuple[BestEffortsAnswers, Tokens]:
    tokens = Tokens(SECRET, lambda: moment)
    return BestEffortsAnswers(store, committees, tokens, lambda: moment), tokens


def test_an_answer_completes_the_donors_flagged_gifts_dated_in_the_committees_time() -> None:
    mine = [donation("don_1", committee_id="CLA"),
            donation("don_2", donor(occupation="?"), committee_id="CLA")]
    complete = donation("don_3", donor(employer="Acme"))
    theirs = donation("don_4", donor("bo@example.org"))
    store = store_with(*mine, complete, theirs)
    # 05:30 UTC on January 1 is still December 31 in Los Angeles.
    moment = datetime(2026, 1, 1, 5, 30, tzinfo=timezone.utc)
    zoned = Committees(committee("CLA", time_zone="America/Los_Angeles"))
    service, tokens = answers(store, zoned, moment)
    token = tokens.issue(EMPLOYMENT, mine[0].donor_id, "don_1")
    answer = service.record(token, "County Hospital", "Nurse")
    assert answer.answered_on == {"don_1": date(2025, 12, 31), "don_2": date(2025, 12, 31)}
    for d in ("don_1", "don_2"):
        got = store.donations[d]
        assert (got.best_efforts_employer, got.best_efforts_occupation) == ("County Hospital", "Nurse")
        assert got.donor.employer == "N/A"  # what was given stays as given
    assert store.donations["don_3"].best_efforts_answered_on is None
    assert store.donations["don_4"].best_efforts_answered_on is None
    assert store.donors[mine[0].donor_id].snapshot.employer == "County Hospital"


def test_a_link_for_someone_elses_gift_records_nothing() -> None:
    store = store_with(donation("don_1"), donation("don_4", donor("bo@example.org")))
    service, tokens = answers(store, Committees(), T0)
    token = tokens.issue(EMPLOYMENT, store.donations["don_1"].donor_id, "don_4")
    store.donations["don_1"] = replace(store.donations["don_1"], best_efforts_answered_on=date(2026, 1, 1))
    with pytest.raises(NotFound):
        service.record(token, "Acme", "Clerk")
    assert store.donations["don_4"].best_efforts_answered_on is None


def test_an_answer_must_be_real() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_answer({"employer": "N/A", "occupation": "x" * 201})
    assert set(caught.value.fields) == {"employer", "occupation"}
    assert read_answer({"employer": " Acme ", "occupation": "Retired"}) == ("Acme", "Retired")
