"""Reattribution through the running stack: a primary gift's excess that the general has no
room for is held; the donor's notice carries a signed link where they name the other holder of
the card account and the amount; that person's email carries their own link where they confirm
with their own details. Opening either link changes nothing; until both have posted nothing
moves; confirming twice moves the amount once, from the donor's aggregate to theirs, and the
quarter's report carries its memo rows; a confirmation past their limit is a 422 page and
writes nothing."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import deps
from chalicelib.api.html import FORM
from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import DonorAggregateModel
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, redesignated_gift
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("reattribution")) as folder:
        yield folder


def net(donor_id: str, scope: str) -> int:
    try:
        return int(DonorAggregateModel.get(donor_id, scope, consistent_read=True).net_cents)
    except DonorAggregateModel.DoesNotExist:
        return 0


def link(mailbox: Path, email: str, subject: str, path: str) -> str:
    (message,) = [m for m in sent_to(mailbox, email) if subject in m["Subject"]]
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def post(api: Any, path: str, **fields: str) -> tuple[int, str]:
    return api.call("POST", path, raw=urlencode(fields), headers={"Content-Type": FORM})


def ben_form(email: str) -> dict[str, str]:
    return {"first_name": "Ben", "last_name": "Cho", "email": email, "line1": "2 Oak Ave",
            "city": "Springfield", "state": "IL", "zip": "62702", "employer": "Springfield Schools",
            "occupation": "Teacher", "us_citizen_or_permanent_resident": "on", "own_funds": "on",
            "not_federal_contractor": "on", "personal_card": "on"}


FILING = {"filing_frequency": "quarterly", "opening_cash_on_hand_cents": 0,
          "opening_cash_as_of": "2024-11-06"}


def held_gift(api: Any, mailbox: Path) -> tuple[dict[str, Any], str]:
    """A gift with $10 held, and the donor's reattribution link from their notice."""
    email = f"ana.{uuid.uuid4().hex[:10]}@example.org"
    donation_id = redesignated_gift(api, general_cents=9_000, email=email, **FILING)
    donation = api.donation(donation_id, key=FINANCE_KEY)
    assert (donation["excess_held_cents"], donation["redesignated_cents"]) == (1_000, 0)
    drain_until(delivered(f"excess_notice#{donation_id}"))
    donation["scope"] = f"{donation['committee_id']}#{donation['election']}"
    return donation, link(mailbox, email, "over the legal limit", "/reattribution/")


def test_reattribution_confirmed_by_both_people_moves_the_amount_once(api, mailbox: Path) -> None:
    donation, ask = held_gift(api, mailbox)
    donation_id, scope, ana = donation["donation_id"], donation["scope"], donation["donor_id"]
    ben_email = f"ben.{uuid.uuid4().hex[:10]}@example.org"
    ben = donor_id_for(ben_email)
    assert (net(ana, scope), net(ben, scope)) == (10_000, 0)

    for _ in range(2):  # a mail scanner opens the donor's link: nothing changes
        status, page = api.call("GET", ask)
        assert status == 200 and "Ask them to confirm" in page
    status, page = post(api, ask, first_name="Ben", last_name="Cho", email=ben_email, amount="20")
    assert status == 400 and "aria-invalid" in page  # more than is held: the form again
    for _ in range(2):  # posted twice: one request
        status, page = post(api, ask, first_name="Ben", last_name="Cho", email=ben_email, amount="6")
        assert status == 200 and "We asked Ben to confirm" in page
    assert (net(ana, scope), net(ben, scope)) == (10_000, 0)  # nothing moves yet

    drain_until(delivered(f"reattribution_request#{donation_id}"))
    confirm = link(mailbox, ben_email, "confirm your part", "/reattribution/confirm/")
    status, page = api.call("GET", confirm)
    assert status == 200 and "Confirm $6 as my contribution" in page
    status, page = post(api, confirm, **{**ben_form(ben_email), "own_funds": ""})
    assert status == 400 and "Federal law requires each of these to be true" in page
    assert (net(ana, scope), net(ben, scope)) == (10_000, 0)

    for _ in range(2):  # confirmed twice: moved once
        status, page = post(api, confirm, **ben_form(ben_email))
        assert status == 200 and "it is confirmed" in page
    assert (net(ana, scope), net(ben, scope)) == (9_400, 600)
    after = api.donation(donation_id, key=FINANCE_KEY)
    assert (after["excess_held_cents"], after["reattribution_status"], after["reattribution_cents"]) == \
        (400, "confirmed", 600)
    status, page = api.call("GET", ask)  # the donor's link now says so
    assert status == 200 and "now counts as theirs" in page
    report_rows(api, donation, ben_email)


def report_rows(api: Any, donation: dict[str, Any], ben_email: str) -> None:
    """The quarter's report (POST /api/admin/reports, built by its queue) carries the gift tagged
    REATTRIBUTED and its two memo rows, valid against the FEC's schemas and read back by fecfile.
    The donor's $190 in the cycle is not itemized, so the gift is restated as a memo row first."""
    from datetime import date, timedelta

    import requests
    from jsonschema import Draft7Validator

    from chalicelib.filing.ids import transaction_id
    from chalicelib.filing.schemas import schema
    from tests.helpers import assert_fec_round_trip, run_queues, staff
    from tests.integration.test_fec_reports_api import _header

    committee = donation["committee_id"]
    today = date.today()
    quarter = (today.month - 1) // 3  # the quarter of today, the gift's day (the committee is in UTC)
    last = (date(today.year, 12, 31) if quarter == 3
            else date(today.year, 3 * quarter + 4, 1) - timedelta(days=1))
    period = {"report_code": ("Q1", "Q2", "Q3", "YE")[quarter],
              "from": date(today.year, 3 * quarter + 1, 1).isoformat(), "to": last.isoformat()}
    status, answer = api.call("POST", "/api/admin/reports", {"committee_id": committee, **period},
                              staff(FINANCE_KEY))
    assert status == 202, answer
    run_queues()
    report_id = answer["report_id"]
    status, draft = api.call("GET", f"/api/admin/reports/{report_id}", headers=staff(FINANCE_KEY))
    assert status == 200 and draft["status"] == "draft" and draft["errors"] == [], draft
    status, final = api.call("POST", f"/api/admin/reports/{report_id}/finalize",
                             {"treasurer_name": "Dana Okafor", "date_signed": today.isoformat()},
                             staff(FINANCE_KEY))
    assert status == 200, final
    status, urls = api.call("GET", f"/api/admin/reports/{report_id}/file", headers=staff(FINANCE_KEY))
    assert status == 200, urls
    text = requests.get(urls["fec_url"], timeout=10).content.decode("ascii")
    records = [json.loads(line) for line in requests.get(urls["jsonl_url"], timeout=10).text.splitlines()]
    by_tag = {r.get("reattribution_redesignation_tag"): r for r in records[1:]}
    out, into = by_tag["REATTRIBUTION_FROM"], by_tag["REATTRIBUTION_TO"]
    original = by_tag["REATTRIBUTED"]
    assert (original["contribution_amount"], original["memo_code"]) == (20.0, True)
    gift_id = transaction_id("SA", donation["donation_id"])  # the restated row names it
    assert out["back_reference_tran_id_number"] == into["back_reference_tran_id_number"] == gift_id
    assert gift_id in original["memo_text_description"]
    assert draft["lines"]["L11aii_individuals_unitemized_period"] == 190.0  # memos count in no line
    assert (out["contribution_amount"], into["contribution_amount"]) == (-6.0, 6.0)
    assert (into["contributor_first_name"], into["contributor_employer"]) == ("Ben", "Springfield Schools")
    for row in records[1:]:
        errors = list(Draft7Validator(schema(row["transaction_type_identifier"])).iter_errors(row))
        assert not errors, (row["transaction_type_identifier"], [e.message for e in errors])
    assert_fec_round_trip([_header(text), *records], text)


def test_a_confirmation_past_the_other_persons_limit_is_refused_and_writes_nothing(api, mailbox) -> None:
    donation, ask = held_gift(api, mailbox)
    scope = donation["scope"]
    ben_email = f"ben.{uuid.uuid4().hex[:10]}@example.org"
    ben = donor_id_for(ben_email)
    DonorAggregateModel(ben, scope, net_cents=8_500, exposure_cents=8_500).save()  # Ben gave $85
    assert post(api, ask, first_name="Ben", last_name="Cho", email=ben_email, amount="10")[0] == 200
    drain_until(delivered(f"reattribution_request#{donation['donation_id']}"))
    confirm = link(mailbox, ben_email, "confirm your part", "/reattribution/confirm/")
    status, page = post(api, confirm, **ben_form(ben_email))
    assert status == 422 and "legal limit" in page
    assert net(ben, scope) == 8_500
    assert api.donation(donation["donation_id"], key=FINANCE_KEY)["reattribution_status"] == "requested"
    deps.committees().forget(donation["committee_id"])
