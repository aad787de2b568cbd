"""Best efforts that reach the report, through the running stack: a flagged contribution gets
one request (however often the drain runs), its FEC row says INFORMATION REQUESTED until the
donor answers through the signed link, and then carries the answer, dated on the contribution."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from jsonschema import Draft7Validator

from chalicelib import deps
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, donation_body, run_queues, staff, stripe_event, tampered_token
from tests.mail import links, mirrored, sent_to, text_of, token_of

pytestmark = pytest.mark.stack

SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "fec" / "INDIVIDUAL_RECEIPT.json"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CYCLE = ("Federal law requires us to use our best efforts to collect and report the name, mailing "
         "address, occupation and name of employer of individuals whose contributions exceed $200 "
         "in an election cycle.")
YEAR = CYCLE.replace("an election cycle", "a calendar year")


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("best_efforts")) as folder:
        yield folder


def committee(api: Any, kind: str = "candidate") -> tuple[str, str]:
    cid = "C" + "".join(random.choices("0123456789", k=8))
    if kind != "candidate":
        status, body = api.call("PUT", f"/api/admin/committees/{cid}",
                                {"name": "Neighbors PAC", "type": kind, "time_zone": "America/Chicago"},
                                staff(FINANCE_KEY))
        assert status == 200, body
    return api.create_page(committee_id=cid)["slug"], cid


def give(api: Any, slug: str, email: str, cents: int = 25_000, **donor: str) -> dict[str, Any]:
    body = donation_body(cents, email=email)
    body["donor"].update(donor)
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    paid = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                        amount=cents, amount_received=cents,
                        metadata={"donation_id": started["donation_id"]})
    assert api.webhook(paid)[1]["outcome"] == "applied"
    assert api.webhook(paid)[1]["outcome"] == "duplicate"  # Stripe delivers twice: no second request
    return dict(started)


def schedule_a_row(api: Any, cid: str, donation_id: str) -> dict[str, Any]:
    """The contribution's row in today's FEC Schedule A export: validated against the FEC's
    schema, and the same occupation and employer read back from the `.fec` file by fecfile."""
    import fecfile

    from chalicelib.filing.ids import transaction_id

    today = datetime.now(timezone.utc).date().isoformat()
    status, job = api.call("POST", "/api/exports", {"kind": "fec_schedule_a", "from": today, "to": today,
                                                     "committee_id": cid}, staff(FINANCE_KEY))
    assert status == 202, job
    run_queues()
    status, done = api.call("GET", f"/api/exports/{job['export_id']}", headers=staff(FINANCE_KEY))
    assert done["status"] == "succeeded", done
    rows = [json.loads(line) for line in requests.get(done["jsonl_url"], timeout=10).text.splitlines()]
    txn = transaction_id("SA", donation_id)
    (row,) = [r for r in rows if r.get("transaction_id") == txn]
    assert [e.message for e in Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(row)] == []
    parsed = fecfile.loads(requests.get(done["download_url"], timeout=10).text)
    (back,) = [b for b in parsed["itemizations"]["Schedule A"] if b["transaction_id"] == txn]
    assert (back["contributor_employer"], back["contributor_occupation"]) == (
        row["contributor_employer"], row["contributor_occupation"])
    return row


def request_to(mailbox: Path, email: str) -> list[Any]:
    return [m for m in sent_to(mailbox, email) if "/e/" in text_of(m)]


def test_a_flagged_gift_is_asked_once_reported_as_requested_then_with_the_answer(api, mailbox) -> None:
    slug, cid = committee(api)
    email = f"be.{uuid.uuid4().hex[:10]}@example.org"
    started = give(api, slug, email, employer="Springfield Schools", occupation="unemployed?")
    donation_id = started["donation_id"]
    assert api.donation(donation_id)["best_efforts_flag"] is True

    message_id = f"best_efforts#{donation_id}"
    first = drain_until(delivered(message_id))
    assert first.status == "sent", (first.status, first.result)
    deps.dispatcher().drain(limit=500)  # the drain runs again
    again = deps.outbox_handlers()["best_efforts_request"]  # and a retry of the message itself
    from chalicelib.outbox.model import OutboxMessage

    retried = again(OutboxMessage(message_id, "best_efforts_request", first.due_at, dict(first.payload)))
    assert retried.result == first.result  # the send ledger answers; nothing is mailed again
    time.sleep(0.2)
    (request,) = request_to(mailbox, email)
    assert CYCLE in text_of(request).replace("\n", " ")
    assert "occupation" in text_of(request)

    # Until the donor answers, the report says INFORMATION REQUESTED, never their "unemployed?".
    row = schedule_a_row(api, cid, donation_id)
    assert row["contributor_occupation"] == "INFORMATION REQUESTED"
    assert row["contributor_employer"] == "Springfield Schools"

    (path,) = links(request, "e")
    status, page = api.call("GET", path)
    assert status == 200 and "<form" in page and CYCLE in page
    assert api.donation(donation_id)["best_efforts_answered_on"] is None  # showing records nothing

    status, page = api.call("POST", path, headers=FORM, raw="employer=Springfield+Schools&occupation=N%2FA")
    assert status == 400 and 'aria-invalid="true"' in page
    assert api.donation(donation_id)["best_efforts_answered_on"] is None

    status, page = api.call("POST", path, headers=FORM, raw="employer=Springfield+Schools&occupation=Teacher")
    assert status == 200 and "Teacher" in page
    recorded = api.donation(donation_id)
    # The committee's own day (one configured without a time zone is in New York's).
    local_today = datetime.now(ZoneInfo("America/New_York")).date().isoformat()
    assert recorded["best_efforts_answered_on"] == local_today
    assert recorded["best_efforts_answer"] == {"employer": "Springfield Schools", "occupation": "Teacher"}
    assert recorded["donor"]["occupation"] == "unemployed?"  # what was given stays as given

    row = schedule_a_row(api, cid, donation_id)
    assert (row["contributor_employer"], row["contributor_occupation"]) == ("Springfield Schools", "Teacher")


def test_each_flagged_gift_gets_its_request_and_one_answer_completes_them_all(api, mailbox) -> None:
    slug, _ = committee(api)
    email = f"be.{uuid.uuid4().hex[:10]}@example.org"
    gifts = [give(api, slug, email, cents, employer="N/A", occupation="none") for cents in (2_000, 3_000)]
    for g in gifts:
        drain_until(delivered(f"best_efforts#{g['donation_id']}"))
    time.sleep(0.2)
    requests_sent = request_to(mailbox, email)
    assert len(requests_sent) == 2  # one per flagged contribution
    path = links(requests_sent[0], "e")[0]
    status, answer = api.call("POST", f"/api/employment/{token_of(path)}",
                              {"employer": "Self-employed", "occupation": "Carpenter"})
    assert status == 200 and answer["contributions"] == 2, answer
    for g in gifts:
        assert api.donation(g["donation_id"])["best_efforts_answer"] == {
            "employer": "Self-employed", "occupation": "Carpenter"}


def test_a_pac_states_the_calendar_year_in_the_request_and_on_its_page(api, mailbox) -> None:
    slug, _ = committee(api, "pac")
    email = f"be.{uuid.uuid4().hex[:10]}@example.org"
    started = give(api, slug, email, occupation="Information requested")
    drain_until(delivered(f"best_efforts#{started['donation_id']}"))
    time.sleep(0.2)
    (request,) = request_to(mailbox, email)
    assert YEAR in text_of(request).replace("\n", " ")
    status, page = api.call("GET", f"/donate/{slug}")
    assert status == 200 and YEAR in page and CYCLE not in page
    candidate_slug, _ = committee(api)
    status, page = api.call("GET", f"/donate/{candidate_slug}")
    assert status == 200 and CYCLE in page


def test_a_bad_link_is_refused_and_writes_nothing(api, mailbox) -> None:
    slug, _ = committee(api)
    email = f"be.{uuid.uuid4().hex[:10]}@example.org"
    started = give(api, slug, email, employer="n/a")
    drain_until(delivered(f"best_efforts#{started['donation_id']}"))
    time.sleep(0.2)
    (request,) = request_to(mailbox, email)
    path = links(request, "e")[0]
    tampered = tampered_token(path)
    assert api.call("GET", tampered)[0] == 400
    assert api.call("POST", tampered, headers=FORM, raw="employer=A+Co&occupation=Clerk")[0] == 400
    answer = {"employer": "A", "occupation": "B"}
    status, _ = api.call("POST", f"/api/employment/{token_of(tampered)}", answer)
    assert status == 400
    assert api.donation(started["donation_id"])["best_efforts_answered_on"] is None
