"""Issue 12, finding 7: a flood of abandoned intakes stalled the reconciler. `stale_pending`
read shard 0 first and the same 200 waiting donations every run, so a flood on one shard hid
every other stale donation for as long as it lasted. Now the reconciler pages past the ones it
checked recently, fairly across shards, and one address may keep at most `PENDING_PER_IP` (20)
donations pending in an hour. Each test fails on the code before the fix."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import stripe

from chalicelib import deps
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.giving.reconcile import Reconciler
from chalicelib.giving.service import Reservation
from chalicelib.storage.donations import shard_for
from chalicelib.storage.models import DonationModel
from tests.followups_kit import environment
from tests.helpers import donation_body, stripe_event

pytestmark = pytest.mark.stack

FLOOD = 250  # more than a run's limit (200), all on shard 0


def abandoned(slug: str, created_at: datetime) -> Donation:
    """A pending donation on shard 0 whose donor never confirmed (intake never reached Stripe)."""
    shards = deps.donation_store().pending_shards
    donation_id = next(i for i in ("don_" + uuid.uuid4().hex for _ in range(1000))
                       if shard_for(i, shards) == 0)
    donor = DonorSnapshot("Flo", "Od", f"{donation_id}@example.org", "1 Main St", "Springfield", "IL",
                          "62701", "Retired", "Retired")
    return Donation(donation_id=donation_id, page_slug=slug, committee_id="C00123456", election="P2026",
                    donor=donor, donor_id=donor.donor_id, created_at=created_at, fingerprint="flood",
                    state=PaymentState(100), limit_scope="C00123456#P2026", reserved_cents=100)


def test_a_flood_on_one_shard_does_not_hide_a_stale_donation_on_another(api, local_stack) -> None:
    from tests.conftest import deliver_webhooks_to

    # A moment of this test's own, long past: only its donations are stale then.
    base = datetime(2022, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=random.randrange(10**6))
    store = deps.donation_store()
    slug = api.create_page()["slug"]
    for _ in range(FLOOD):
        flood = abandoned(slug, base)
        store.create_pending(flood, Reservation(flood.donor_id, flood.donor_id, flood.limit_scope, 100,
                                                350_000))
    # The real one: paid at Stripe, its webhook lost, created with the flood, on another shard.
    deliver_webhooks_to(local_stack, None)
    started = next(s for s in (api.donate(slug, amount_cents=2700) for _ in range(20))
                   if shard_for(s["donation_id"], store.pending_shards) != 0)
    intent = started["client_secret"].split("_secret_")[0]
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})
    DonationModel(started["donation_id"]).update(  # as old as the flood
        actions=[DonationModel.created_at.set(base), DonationModel.checked_at.set(base)])

    def run(minutes: int) -> Any:
        service = deps.giving_service()
        at = base + timedelta(minutes=minutes)
        return Reconciler(service, store, deps.stripe_gateway(), lambda: at,  # type: ignore[arg-type]
                          stale_after=timedelta(minutes=15), expire_after=timedelta(minutes=30)).run()

    first, second = run(20), run(25)
    assert api.donation(started["donation_id"])["status"] == "succeeded"
    assert first.settled.get("succeeded") == 1  # within the first run
    # Each run pages past what the one before checked: 199 of the flood, then the other 51.
    assert (first.checked, second.checked) == (200, FLOOD - 199)
    assert second.settled == {"waiting": FLOOD - 199}


def test_the_21st_pending_intake_from_one_address_in_an_hour_is_429(api) -> None:
    with environment(PENDING_PER_IP="20"):  # the default (the suite's session raises it)
        twenty_then_refused(api)


def twenty_then_refused(api) -> None:
    slug = api.create_page()["slug"]
    n = uuid.uuid4().int
    address = {"X-Forwarded-For": f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"}
    started = []
    for _ in range(20):
        status, body = api.call("POST", f"/api/pages/{slug}/donations", donation_body(500), address)
        assert status == 201, body
        started.append(body)
    before = DonationModel.count()
    response = api.client.http.post(f"/api/pages/{slug}/donations", body=json.dumps(donation_body(500)),
                                    headers={"Content-Type": "application/json", **address})
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 3600
    assert DonationModel.count() == before  # refused, nothing written
    # Pending is what counts: once one of the twenty is paid, the address may start another.
    paid = started[0]
    assert api.webhook(stripe_event(
        "payment_intent.succeeded", id=paid["client_secret"].split("_secret_")[0], amount=500,
        amount_received=500, metadata={"donation_id": paid["donation_id"]}))[1]["outcome"] == "applied"
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(500), address)[0] == 201
    # Another address is not affected at all.
    assert api.call("POST", f"/api/pages/{slug}/donations", donation_body(500),
                    {"X-Forwarded-For": "192.0.2.77"})[0] == 201


def test_thirty_concurrent_intakes_from_one_address_start_only_twenty(api) -> None:
    """Issue 18: the address's pending count is added in the intake's own transaction, on
    condition that it leaves room, so intakes that all read the count before any was written
    still cannot pass `PENDING_PER_IP` together."""
    from concurrent.futures import ThreadPoolExecutor

    from chalice.test import Client

    from app import app
    from chalicelib.giving.velocity import pending_key
    from chalicelib.storage.models import VelocityModel
    from tests.helpers import unique_ip

    slug = api.create_page()["slug"]
    ip = unique_ip()

    def intake(_: int) -> int:
        with Client(app, stage_name="dev") as own:
            return own.http.post(f"/api/pages/{slug}/donations", body=json.dumps(donation_body(500)),
                                 headers={"Content-Type": "application/json",
                                          "X-Forwarded-For": ip}).status_code

    with environment(PENDING_PER_IP="20"), ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(intake, range(30)))
    assert statuses.count(201) == 20 and statuses.count(429) == 10, statuses
    hour = {pending_key(ip, d.created_at) for d in DonationModel.scan(DonationModel.client_ip == ip)}
    assert [VelocityModel.get(key).hits for key in hour] == [20]
