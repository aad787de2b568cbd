"""Federal limits: intake reserves against the donor's limit, concurrent intake cannot beat it,
failures release the reservation, and an over-limit success refunds the excess exactly once."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import DonorAggregateModel, OutboxModel
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, ElectionCalendar, donation_body, staff, stripe_event

pytestmark = pytest.mark.stack


def committee_id() -> str:
    return "C" + "".join(random.choice("0123456789") for _ in range(8))


def setup(api, limit_cents: int | None = None, kind: str = "candidate") -> tuple[str, str]:
    cid = committee_id()
    if limit_cents is not None or kind != "candidate":
        body: dict[str, Any] = {"name": "Test committee", "type": kind, "time_zone": "America/Chicago"}
        if limit_cents is not None:
            body["limit_cents"] = limit_cents
        status, _ = api.call("PUT", f"/api/admin/committees/{cid}", body, staff(FINANCE_KEY))
        assert status == 200
    page = api.create_page(committee_id=cid)
    return page["slug"], cid


def succeeded(started: dict[str, Any]) -> dict[str, Any]:
    return stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                        amount=started["amount_cents"], amount_received=started["amount_cents"],
                        metadata={"donation_id": started["donation_id"]})


def failed(started: dict[str, Any]) -> dict[str, Any]:
    return stripe_event("payment_intent.payment_failed",
                        id=started["client_secret"].split("_secret_")[0], amount=started["amount_cents"],
                        metadata={"donation_id": started["donation_id"]})


def email() -> str:
    return f"limit.{time.time_ns()}@example.org"


def test_intake_refuses_what_would_pass_the_limit(api) -> None:
    slug, _ = setup(api)  # default candidate limit: $3,500 per election
    who = email()
    first = api.donate(slug, amount_cents=300_000, email=who)
    api.webhook(succeeded(first))
    status, error = api.call("POST", f"/api/pages/{slug}/donations", donation_body(60_000, email=who))
    assert status == 422
    assert error["error"]["code"] == "over_limit" and "remaining_cents" not in error["error"]
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(50_000, email=who))[0] == 201


def test_primary_and_general_are_separate_limits(api) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    who = email()
    api.donate(slug, amount_cents=350_000, email=who)
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(100, email=who))[0] == 422
    general = donation_body(350_000, email=who, election=calendar.general)
    assert api.call("POST", f"/api/pages/{slug}/donations", general)[0] == 201


def test_pac_limit_is_per_calendar_year(api) -> None:
    slug, cid = setup(api, kind="pac")
    who = email()
    api.donate(slug, amount_cents=500_000, email=who)
    status, error = api.call("POST", f"/api/pages/{slug}/donations", donation_body(100, email=who))
    assert status == 422 and error["error"]["code"] == "over_limit"
    year = time.gmtime().tm_year
    assert DonorAggregateModel.get(donor_id_for(who), f"{cid}#Y{year}").reserved_cents == 500_000


def test_twenty_concurrent_intakes_cannot_reserve_past_the_limit(api) -> None:
    from chalice.test import Client

    from app import app

    slug, cid = setup(api, limit_cents=10_000)
    who = email()

    def intake(_: int) -> int:
        with Client(app, stage_name="dev") as own:
            return own.http.post(f"/api/pages/{slug}/donations",
                                 headers={"Content-Type": "application/json"},
                                 body=json.dumps(donation_body(1_500, email=who))).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(intake, range(20)))
    assert statuses.count(201) == 6 and statuses.count(422) == 14
    aggregate = DonorAggregateModel.get(donor_id_for(who), f"{cid}#P2026")
    assert aggregate.exposure_cents == 9_000 and aggregate.reserved_cents == 9_000


def test_a_failed_payment_releases_its_reservation(api) -> None:
    slug, _ = setup(api, limit_cents=5_000)
    who = email()
    first = api.donate(slug, amount_cents=5_000, email=who)
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(100, email=who))[0] == 422
    api.webhook(failed(first))
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(5_000, email=who))[0] == 201


def test_success_releases_reservation_into_net_and_refunds_lower_it(api) -> None:
    slug, cid = setup(api, limit_cents=5_000)
    who = email()
    first = api.donate(slug, amount_cents=4_000, email=who)
    api.webhook(succeeded(first))
    aggregate = DonorAggregateModel.get(donor_id_for(who), f"{cid}#P2026")
    assert (aggregate.net_cents, aggregate.reserved_cents, aggregate.exposure_cents) == (4_000, 0, 4_000)
    refund = stripe_event("charge.refunded", payment_intent=first["client_secret"].split("_secret_")[0],
                          amount_refunded=3_000)
    api.webhook(refund)
    status, error = api.call("POST", f"/api/pages/{slug}/donations", donation_body(4_500, email=who))
    assert status == 422 and error["error"]["code"] == "over_limit"
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(4_000, email=who))[0] == 201


def test_an_over_limit_success_refunds_the_excess_exactly_once(api) -> None:
    slug, cid = setup(api, limit_cents=10_000)
    who = email()
    first = api.donate(slug, amount_cents=8_000, email=who)
    second = api.donate(slug, amount_cents=2_000, email=who)
    # The committee lowers its limit after both were reserved.
    api.call("PUT", f"/api/admin/committees/{cid}", {"name": "Test", "limit_cents": 9_000},
             staff(FINANCE_KEY))
    deps.committees()._cache.clear()
    api.webhook(succeeded(first))
    event = succeeded(second)
    for _ in range(2):  # delivered twice
        assert api.webhook(event)[0] == 200
    donation = api.donation(second["donation_id"])
    assert donation["status"] == "succeeded"
    assert donation["excess_refund_cents"] == 1_000
    assert donation["excess_reason"].startswith("over_limit")
    refunds = [m for m in OutboxModel.scan(OutboxModel.kind == "refund_excess")
               if m.payload["donation_id"] == second["donation_id"]]
    assert len(refunds) == 1 and refunds[0].payload["amount_cents"] == 1_000
    assert api.donation(first["donation_id"], key=ORGANIZER_KEY)["excess_refund_cents"] == 0


def test_one_person_giving_under_two_emails_shares_one_limit(api) -> None:
    slug, _ = setup(api, limit_cents=5_000)
    body = donation_body(4_000, email=email())
    first = api.call("POST", f"/api/pages/{slug}/donations", body)[1]
    api.webhook(succeeded(first))
    other = donation_body(2_000, email=email())
    other["donor"].update(first_name=body["donor"]["first_name"].upper(),
                          last_name=body["donor"]["last_name"])
    other["donor"]["address"]["zip"] = body["donor"]["address"]["zip"] + "1234"
    status, error = api.call("POST", f"/api/pages/{slug}/donations", other)
    assert status == 422 and error["error"]["code"] == "over_limit"
    other["amount_cents"] = 1_000
    second = api.call("POST", f"/api/pages/{slug}/donations", other)[1]
    assert api.donation(second["donation_id"])["donor_id"] == api.donation(first["donation_id"])["donor_id"]


def test_placeholder_employer_is_flagged_and_one_request_queued(api) -> None:
    slug, _ = setup(api)
    who = email()
    body = donation_body(2_000, email=who)
    body["donor"]["employer"] = "N/A"
    started = api.call("POST", f"/api/pages/{slug}/donations", body)[1]
    assert api.donation(started["donation_id"])["best_efforts_flag"] is True
    api.webhook(succeeded(started))
    requests = [m for m in OutboxModel.scan(OutboxModel.kind == "best_efforts_request")
                if m.payload["donation_id"] == started["donation_id"]]
    assert len(requests) == 1
    good = api.donate(slug, amount_cents=1_000)
    api.webhook(succeeded(good))
    assert api.donation(good["donation_id"])["best_efforts_flag"] is False
    assert not [m for m in OutboxModel.scan(OutboxModel.kind == "best_efforts_request")
                if m.payload["donation_id"] == good["donation_id"]]


def test_the_committee_list_shows_each_as_stored(api) -> None:
    _, cid = setup(api, limit_cents=12_300, kind="pac")
    status, body = api.call("GET", "/api/admin/committees", headers=staff(FINANCE_KEY))
    assert status == 200
    (mine,) = [c for c in body["committees"] if c["committee_id"] == cid]
    assert (mine["type"], mine["limit_cents"], mine["name"]) == ("pac", 12_300, "Test committee")
