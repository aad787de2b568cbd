"""Only real elections, through the running stack: a donor's election code must be one the
committee's calendar has open and the page offers (`P1999`, `G2030`, `E9999` are refused and
nothing is written), a held election takes gifts only toward its net debt, and a page offers
only its committee's elections."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.giving.model import donor_id_for
from chalicelib.giving.service import _donation_id
from chalicelib.storage.models import DonationModel, DonorAggregateModel
from tests.helpers import ORGANIZER_KEY, ElectionCalendar, donation_body, page_body, staff, stripe_event

pytestmark = pytest.mark.stack


def give(api: Any, slug: str, cents: int, election: str | None) -> tuple[int, Any, dict[str, Any]]:
    body = donation_body(cents, email=f"designation.{uuid.uuid4().hex[:10]}@example.org")
    if election:
        body["election"] = election
    status, answer = api.call("POST", f"/api/pages/{slug}/donations", body)
    return status, answer, body


@pytest.mark.parametrize("bad", ["P1999", "G2030", "E9999"])
def test_an_election_code_that_is_not_open_is_refused_and_nothing_is_written(api, bad: str) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    status, answer, body = give(api, slug, 350_000, bad)
    assert status == 400, answer
    assert answer["error"]["code"] == "election_not_open"
    assert answer["error"]["open_elections"] == [calendar.primary, calendar.general]
    with pytest.raises(DoesNotExist):
        DonationModel.get(_donation_id(slug, body["idempotency_key"]))
    donor = donor_id_for(body["donor"]["email"])
    for election in (bad, calendar.primary, calendar.general):
        with pytest.raises(DoesNotExist):
            DonorAggregateModel.get(donor, f"{calendar.committee_id}#{election}")


def test_the_server_designates_and_a_donor_chooses_only_what_the_page_offers(api) -> None:
    calendar = ElectionCalendar(api)
    both = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    status, started, _ = give(api, both, 2_700, None)
    assert status == 201 and api.donation(started["donation_id"])["election"] == calendar.primary
    status, started, _ = give(api, both, 2_700, calendar.general)
    assert status == 201 and api.donation(started["donation_id"])["election"] == calendar.general
    primary_only = calendar.page(calendar.primary)
    assert api.public(primary_only)["elections"] == [calendar.primary]
    status, answer, _ = give(api, primary_only, 2_700, calendar.general)
    assert status == 400 and answer["error"]["code"] == "election_not_open"


def test_a_held_election_takes_gifts_only_toward_its_net_debt(api) -> None:
    calendar = ElectionCalendar(api)
    debts = calendar.page(calendar.primary, [calendar.primary, calendar.held])
    status, answer, _ = give(api, debts, 5_001, calendar.held)
    assert status == 422 and answer["error"]["code"] == "over_net_debt", answer
    status, started, _ = give(api, debts, 3_000, calendar.held)
    assert status == 201 and api.donation(started["donation_id"])["election"] == calendar.held
    paid = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                        amount=3_000, metadata={"donation_id": started["donation_id"]})
    assert api.webhook(paid)[0] == 200
    counter = DonorAggregateModel.get(f"debt#{calendar.committee_id}", calendar.held, consistent_read=True)
    assert (counter.net_cents, counter.reserved_cents, counter.exposure_cents) == (3_000, 0, 3_000)
    # Gifts toward the debts are summed: $30 pending leaves $20 of the $50.
    status, answer, _ = give(api, debts, 2_001, calendar.held)
    assert status == 422 and answer["error"]["code"] == "over_net_debt", answer
    status, started, _ = give(api, debts, 2_000, calendar.held)
    assert status == 201, started
    # A page whose own election is over sends an undesignated gift to the next election.
    past = calendar.page(calendar.held)
    status, started, _ = give(api, past, 2_700, None)
    assert status == 201 and api.donation(started["donation_id"])["election"] == calendar.primary


def test_a_page_offers_only_its_committees_elections(api) -> None:
    calendar = ElectionCalendar(api)
    for election, elections in [("G2030", None), (calendar.primary, [calendar.primary, "G2030"]),
                                (calendar.primary, [calendar.general])]:
        body = {"committee_id": calendar.committee_id, "election": election,
                **({"elections": elections} if elections else {})}
        status, answer = api.call("POST", "/api/admin/pages", page_body(**body), staff(ORGANIZER_KEY))
        assert status == 400 and answer["error"]["code"] == "unknown_election", answer
    slug = calendar.page(calendar.primary)
    status, answer = api.call("PUT", f"/api/admin/pages/{slug}", {"elections": [calendar.primary, "E9999"]},
                              staff(ORGANIZER_KEY))
    assert status == 400
    assert answer["error"]["fields"] == {"elections.1": "not one of the committee's elections"}
    status, answer = api.call("PUT", f"/api/admin/pages/{slug}",
                              {"elections": [calendar.primary, calendar.general]}, staff(ORGANIZER_KEY))
    assert status == 200 and answer["elections"] == [calendar.primary, calendar.general], answer


def test_after_the_primary_is_lost_no_general_election_gift_is_taken(api) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.general, [calendar.primary, calendar.general, calendar.held])
    assert calendar.configure(status="lost_primary")["status_date"] is not None
    for election in (None, calendar.general, calendar.primary):
        status, answer, _ = give(api, slug, 2_700, election)
        assert status == 400 and answer["error"]["code"] == "election_not_open", answer
    status, started, _ = give(api, slug, 5_000, calendar.held)  # a held election's debts still may be
    assert status == 201, started
