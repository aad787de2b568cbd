"""Issue 12, finding 5, attacked through the running stack (`chalice local`, moto's server, the
Stripe stand-in delivering signed webhooks): intake with a person's name and ZIP under another
email locked that person out of giving for a day, and the 422 told the attacker what the person
had given. Each test fails on the code before the fix."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import stripe

from chalicelib import deps
from chalicelib.giving.model import Donation, donor_id_for
from chalicelib.giving.reconcile import Reconciler
from chalicelib.storage.models import DonorAggregateModel
from chalicelib.tokens import DONOR
from tests.helpers import ORGANIZER_KEY, donation_body, page_body, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server]


def new_page(server: str) -> dict[str, Any]:
    page = page_body(committee_id="C" + str(uuid.uuid4().int)[:8])
    assert requests.post(f"{server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY),
                         timeout=5).status_code == 201
    return page


def intake(server: str, slug: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{server}/api/pages/{slug}/donations", json=body, timeout=10)


def status_of(server: str, donation_id: str) -> str:
    return requests.get(f"{server}/api/admin/donations/{donation_id}", headers=staff(ORGANIZER_KEY),
                        timeout=5).json()["status"]


def victim_who_gave(server: str, stripe_url: str, slug: str, cents: int) -> dict[str, Any]:
    """A donor whose gift of `cents` succeeded (confirmed at the stand-in, its webhook landed)."""
    body = donation_body(cents)
    started = intake(server, slug, body).json()
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": stripe_url})
    client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                      params={"payment_method": "pm_card_visa"})
    wait_for(lambda: status_of(server, started["donation_id"]) == "succeeded")
    return body


def impersonating(victim: dict[str, Any], cents: int) -> dict[str, Any]:
    """The attack: the victim's name and ZIP (FEC practice links them to the victim) under the
    attacker's own email."""
    body = donation_body(cents, email=f"mallory.{uuid.uuid4().hex[:8]}@example.net")
    body["donor"] = {**copy.deepcopy(victim["donor"]), "email": body["donor"]["email"]}
    return body


def test_a_stranger_cannot_lock_a_named_person_out_of_giving(live_server, local_stack) -> None:
    page = new_page(live_server)
    slug, scope = page["slug"], f"{page['committee_id']}#P2026"
    victim = victim_who_gave(live_server, local_stack["stripe_url"], slug, 100_000)
    # The attacker reserves what the law still lets the victim give ($2,500), and never pays.
    held = intake(live_server, slug, impersonating(victim, 250_000))
    assert held.status_code == 201, held.text
    # The victim's own link still offers up to what they may give...
    ladder = deps.tokens().issue(DONOR, donor_id_for(victim["donor"]["email"]))
    own = requests.get(f"{live_server}/api/pages/{slug}", params={"t": ladder}, timeout=5).json()
    assert own["ask_source"] == "personal" and max(own["ask_amounts_cents"]) == 250_000
    # ...and they can give it.
    given = intake(live_server, slug, donation_body(250_000, email=victim["donor"]["email"]))
    assert given.status_code == 201, given.text
    victim_aggregate = DonorAggregateModel.get(donor_id_for(victim["donor"]["email"]), scope)
    assert (victim_aggregate.net_cents, victim_aggregate.reserved_cents) == (100_000, 250_000)


def test_the_over_limit_answer_tells_a_stranger_nothing(live_server, local_stack) -> None:
    page = new_page(live_server)
    victim = victim_who_gave(live_server, local_stack["stripe_url"], page["slug"], 100_000)
    refused = intake(live_server, page["slug"], impersonating(victim, 300_000))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "over_limit" and set(error) == {"code", "message", "fields"}
    assert not re.search(r"\d", error["message"]), error["message"]  # no amount, no limit
    assert "remaining" not in refused.text


class OnlyThese:
    """The reconciler's pending source narrowed to this test's donations (the session's moto
    holds every other test's pending donations too; which the reconciler picks first is not
    what this test is about)."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def stale_pending(self, checked_before: datetime, limit: int) -> list[Donation]:
        found = [deps.giving_service().donation(i) for i in self.ids]
        return [d for d in found if d.status == "pending" and d.created_at <= checked_before][:limit]

    def mark_checked(self, donation_id: str, when: datetime) -> None:
        """Each run here asks about every one of this test's donations again."""


def test_an_unconfirmed_reservation_is_released_after_reservation_minutes(live_server, local_stack,
                                                                       stripe_api) -> None:
    page = new_page(live_server)
    slug, scope = page["slug"], f"{page['committee_id']}#P2026"
    victim = victim_who_gave(live_server, local_stack["stripe_url"], slug, 100_000)
    attack = impersonating(victim, 250_000)
    held = intake(live_server, slug, attack).json()
    holder = donor_id_for(attack["donor"]["email"])
    assert DonorAggregateModel.get(holder, scope).reserved_cents == 250_000
    wired = deps.reconciler()  # as the scheduled job builds it: RESERVATION_MINUTES, default 30
    assert wired.expire_after == timedelta(minutes=30)

    def run_at(minutes: int) -> None:
        at = datetime.now(timezone.utc) + timedelta(minutes=minutes)
        Reconciler(wired.giving, OnlyThese([held["donation_id"]]), wired.stripe, lambda: at,
                   wired.stale_after, wired.expire_after).run()

    run_at(25)
    assert status_of(live_server, held["donation_id"]) == "pending"
    run_at(31)
    assert status_of(live_server, held["donation_id"]) == "failed"
    intent = held["client_secret"].split("_secret_")[0]
    assert stripe_api.get(f"{stripe_api.base_url}/v1/payment_intents/{intent}").json()["status"] == "canceled"
    released = DonorAggregateModel.get(holder, scope)
    assert (released.reserved_cents, released.exposure_cents) == (0, 0)
