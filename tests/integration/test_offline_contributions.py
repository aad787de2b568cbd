"""Checks, cash and wires finance enters (`POST /api/admin/contributions`), through the stack:
the gift is in the contributions export, counts against a later online gift's limit, and the
cash rules refuse with the rule named; a check whose employer is a placeholder asks the donor as an
online gift does."""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, donation_body, staff
from tests.integration.test_exports_api import download, finished, request_export
from tests.mail import html_of, mirrored, sent_to, text_of
from tests.reports_kit import committee_id

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("offline")) as folder:
        yield folder


def email() -> str:
    return f"offline.{time.time_ns()}@example.org"


def entry(cid: str, cents: int, who: str | None, method: str = "check", **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"committee_id": cid, "method": method, "amount_cents": cents,
                            "received_on": "2025-01-10", "election": "P2026",
                            "idempotency_key": f"offline-{uuid.uuid4().hex}", **more}
    if who is not None:
        body["donor"] = donation_body(email=who)["donor"]
    return body


def test_a_check_is_in_the_export_and_counts_against_a_later_online_gift(api: Any) -> None:
    cid = committee_id()
    who = email()
    body = entry(cid, 349_000, who, reference="1042", deposit_batch="dep-2025-01-10")
    status, made = api.call("POST", "/api/admin/contributions", body, staff(FINANCE_KEY))
    assert status == 201, made
    assert made["status"] == "succeeded" and made["method"] == "check" and made["reference"] == "1042"
    again = api.call("POST", "/api/admin/contributions", body, staff(FINANCE_KEY))
    assert again == (201, made)  # the same key: the same answer, nothing written twice
    export_id = request_export(api, "contributions_csv", "2025-01-05", "2025-01-20", cid)
    rows = list(csv.DictReader(io.StringIO(download(finished(api, export_id)["download_url"]))))
    assert [(r["donation_id"], r["amount_cents"], r["itemized"], r["method"], r["reference"],
             r["deposit_batch"]) for r in rows] == [
        (made["donation_id"], "349000", "true", "check", "1042", "dep-2025-01-10")]
    page = api.create_page(committee_id=cid, election="P2026")
    status, refused = api.call("POST", f"/api/pages/{page['slug']}/donations",
                               donation_body(2_000, email=who))
    assert status == 422 and refused["error"]["code"] == "over_limit"
    over = entry(cid, 2_000, who)
    status, refused = api.call("POST", "/api/admin/contributions", over, staff(FINANCE_KEY))
    assert status == 422 and refused["error"]["code"] == "over_limit"


def test_cash_over_100_from_one_person_is_refused_with_the_rule(api: Any) -> None:
    cid = committee_id()
    status, refused = api.call("POST", "/api/admin/contributions",
                               entry(cid, 10_100, email(), "cash"), staff(FINANCE_KEY))
    assert status == 422 and refused["error"]["code"] == "cash_over_limit"
    assert "110.4" in refused["error"]["rule"]


def test_anonymous_cash_over_50_is_refused(api: Any) -> None:
    status, refused = api.call("POST", "/api/admin/contributions",
                               entry(committee_id(), 5_100, None, "cash"), staff(FINANCE_KEY))
    assert status == 422 and refused["error"]["code"] == "anonymous_cash_over_limit"


def test_organizers_may_not_enter_contributions(api: Any) -> None:
    status, _ = api.call("POST", "/api/admin/contributions", entry(committee_id(), 1_000, email()),
                         staff(ORGANIZER_KEY))
    assert status == 403


def test_an_in_kind_gift_reaches_the_reports_ledger_as_what_was_given(api: Any) -> None:
    from datetime import datetime, timezone

    from chalicelib.storage.exports import MovementLedger

    cid = committee_id()
    body = entry(cid, 30_000, email(), "in_kind", in_kind_description="Printing of yard signs")
    status, made = api.call("POST", "/api/admin/contributions", body, staff(FINANCE_KEY))
    assert status == 201 and made["in_kind_description"] == "Printing of yard signs", made
    ledger = MovementLedger(10)
    moved = list(ledger.movements(cid, datetime(2025, 1, 1, tzinfo=timezone.utc),
                                  datetime(2025, 2, 1, tzinfo=timezone.utc)))
    assert [(m.kind, m.amount_cents, m.donation_id) for m in moved] == [
        ("contribution", 30_000, made["donation_id"])]
    facts = ledger.donations([made["donation_id"]])[made["donation_id"]]
    assert (facts.method, facts.in_kind_description) == ("in_kind", "Printing of yard signs")
    status, refused = api.call("POST", "/api/admin/contributions",
                               entry(cid, 30_000, email(), "in_kind"), staff(FINANCE_KEY))
    assert status == 400 and "in_kind_description" in refused["error"]["message"] + str(refused)


def test_a_conduit_gift_keeps_its_conduit_through_to_the_reports_ledger(api: Any) -> None:
    from datetime import datetime, timezone

    from chalicelib.storage.exports import MovementLedger

    cid = committee_id()
    conduit = {"name": "ActBlue", "fec_id": "C00401224",
               "address": {"line1": "PO Box 441146", "city": "Somerville", "state": "MA",
                           "zip": "02144"}}
    status, made = api.call("POST", "/api/admin/contributions",
                            entry(cid, 25_000, email(), "conduit", conduit=conduit,
                                  reference="AB-7781"), staff(FINANCE_KEY))
    assert status == 201 and made["method"] == "conduit", made
    assert made["conduit"]["name"] == "ActBlue" and made["conduit"]["fec_id"] == "C00401224"
    ledger = MovementLedger(10)
    moved = list(ledger.movements(cid, datetime(2025, 1, 1, tzinfo=timezone.utc),
                                  datetime(2025, 2, 1, tzinfo=timezone.utc)))
    facts = ledger.donations([m.donation_id for m in moved])[made["donation_id"]]
    assert facts.method == "conduit" and facts.conduit is not None
    assert (facts.conduit.name, facts.conduit.city, facts.reference) == ("ActBlue", "Somerville",
                                                                         "AB-7781")
    status, refused = api.call("POST", "/api/admin/contributions",
                               entry(cid, 25_000, email(), "conduit"), staff(FINANCE_KEY))
    assert status == 400, refused


def test_an_offline_donor_gets_a_receipt_without_a_share_link_to_no_page(api: Any,
                                                                         mailbox: Path) -> None:
    who = email()
    status, made = api.call("POST", "/api/admin/contributions",
                            entry(committee_id(), 5_000, who, reference="2201"), staff(FINANCE_KEY))
    assert status == 201, made
    drain_until(delivered(f"thanks#{made['donation_id']}"))
    [receipt] = sent_to(mailbox, who)
    text, html = text_of(receipt), html_of(receipt)
    assert "Your contribution of $50 is in." in text, text
    for body in (text, html):
        assert "/r/" not in body and "offline" not in body and "Bring a friend" not in body


def test_a_deposit_reconciles_to_the_cent_against_its_declared_total(api: Any) -> None:
    cid = committee_id()
    batch = f"dep-{uuid.uuid4().hex[:12]}"
    made = []
    for cents, method in ((25_000, "check"), (5_000, "cash")):
        status, body = api.call("POST", "/api/admin/contributions",
                                entry(cid, cents, email(), method, deposit_batch=batch,
                                      reference=f"ref-{cents}"), staff(FINANCE_KEY))
        assert status == 201, body
        made.append(body["donation_id"])
    path = f"/api/admin/deposits/{batch}"
    status, seen = api.call("GET", path, None, staff(FINANCE_KEY))
    assert status == 200, seen
    assert (seen["declared"], seen["reconciled"], seen["total_cents"], seen["count"]) == (
        False, False, 30_000, 2)
    assert sorted((e["donation_id"], e["method"]) for e in seen["entries"]) == sorted(
        zip(made, ["check", "cash"], strict=True))
    slip = {"committee_id": cid, "expected_total_cents": 30_001, "deposited_on": "2025-01-11"}
    status, short = api.call("PUT", path, slip, staff(FINANCE_KEY))
    assert status == 200 and short["reconciled"] is False and short["difference_cents"] == -1
    status, fixed = api.call("PUT", path, {**slip, "expected_total_cents": 30_000},
                             staff(FINANCE_KEY))
    assert status == 200 and fixed["reconciled"] is True and fixed["difference_cents"] == 0
    assert api.call("GET", path, None, staff(FINANCE_KEY))[1]["reconciled"] is True
    assert api.call("GET", path, None, staff(ORGANIZER_KEY))[0] == 403
    assert api.call("GET", "/api/admin/deposits/dep-none-such", None, staff(FINANCE_KEY))[0] == 404
    assert api.call("PUT", path, {**slip, "expected_total_cents": -1}, staff(FINANCE_KEY))[0] == 400


def test_a_check_without_employer_asks_the_donor_as_an_online_gift_does(api: Any) -> None:
    from chalicelib import deps

    body = entry(committee_id(), 25_000, email(), reference="3301")
    body["donor"].update(employer="N/A", occupation="Information requested")  # as the check left it
    status, made = api.call("POST", "/api/admin/contributions", body, staff(FINANCE_KEY))
    assert status == 201, made
    queued = deps.outbox_store().get(f"best_efforts#{made['donation_id']}")
    assert queued is not None and queued.kind == "best_efforts_request"
    complete = entry(committee_id(), 25_000, email(), reference="3302")
    status, made = api.call("POST", "/api/admin/contributions", complete, staff(FINANCE_KEY))
    assert status == 201 and deps.outbox_store().get(f"best_efforts#{made['donation_id']}") is None
