"""The thermometer stays exact under load: 2,000 concurrent successful webhooks for one page,
delivered to the running API (`chalice local`), end with exact totals, and no counter shard item
takes more than a tenth of them."""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from chalicelib.config import settings
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.storage.donations import _to_item, counter_id
from chalicelib.storage.models import CounterShardModel, DonationModel
from tests.helpers import ORGANIZER_KEY, page_body, sign, staff, stripe_event

# moto's server applies one DynamoDB request at a time (devtools/local_aws.py), so the run takes
# minutes whatever the number of threads: slow, yet part of the default run (`make test`).
pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.slow, pytest.mark.timeout(1500)]

WEBHOOKS = int(os.environ.get("LOAD_WEBHOOKS", "2000"))
THREADS = 12
ATTEMPTS = 8  # Stripe retries whatever is not 2xx; so does this test


def pending_donations(slug: str, committee_id: str, n: int) -> list[Donation]:
    """`n` pending donations from `n` different donors, written with BatchWriteItem (intake's
    own path is tested elsewhere; here only the webhooks are under load)."""
    now = datetime.now(timezone.utc)
    donations = []
    for i in range(n):
        email = f"load.{i}.{uuid.uuid4().hex[:10]}@example.org"
        donor = DonorSnapshot(first_name="Load", last_name=f"Tester{uuid.uuid4().hex[:8]}",
                              email=email, address_line1="1 Main St", city="Springfield", state="IL",
                              zip="62701", employer="City Library", occupation="Librarian")
        donations.append(Donation(
            donation_id="don_" + uuid.uuid4().hex, page_slug=slug, committee_id=committee_id,
            election="P2026", donor=donor, donor_id=donor.donor_id, created_at=now,
            fingerprint="load",
            state=PaymentState(amount_cents=random.choice([500, 1000, 2700, 5000, 10_000])),
            limit_scope=f"{committee_id}#P2026", payment_intent_id="pi_" + uuid.uuid4().hex[:24],
            attestations={"us_citizen_or_permanent_resident": True, "own_funds": True,
                          "not_federal_contractor": True, "personal_card": True},
        ))
    with DonationModel.batch_write() as batch:
        for donation in donations:
            batch.save(_to_item(donation))
    return donations


def succeeded(d: Donation) -> str:
    event = stripe_event("payment_intent.succeeded", id=d.payment_intent_id, amount=d.amount_cents,
                         amount_received=d.amount_cents, metadata={"donation_id": d.donation_id})
    return json.dumps(event)


def test_2000_concurrent_webhooks_end_with_exact_sharded_totals(live_server: str) -> None:
    slug = "load-" + uuid.uuid4().hex[:10]
    committee_id = "C" + "".join(random.choice("0123456789") for _ in range(8))
    response = requests.post(f"{live_server}/api/admin/pages", headers=staff(ORGANIZER_KEY), timeout=10,
                             json=page_body(slug=slug, committee_id=committee_id))
    assert response.status_code == 201, response.text
    donations = pending_donations(slug, committee_id, WEBHOOKS)
    bodies = [succeeded(d) for d in donations]
    local = threading.local()

    def deliver(body: str) -> str:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        failure = "none"
        for attempt in range(ATTEMPTS):
            try:
                reply = session.post(f"{live_server}/webhooks/stripe", data=body.encode(), timeout=60,
                                     headers={"Content-Type": "application/json",
                                              "Stripe-Signature": sign(body)})
            except requests.ConnectionError as exc:  # `chalice local` has a small listen backlog
                failure = type(exc).__name__
            else:
                if reply.status_code == 200:
                    return str(reply.json()["outcome"])
                failure = f"http {reply.status_code}"
            time.sleep(0.05 * (attempt + 1))
        return failure

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(deliver, bodies))
    elapsed = time.monotonic() - started
    assert outcomes.count("applied") == WEBHOOKS, {o: outcomes.count(o) for o in set(outcomes)}

    page: dict[str, Any] = requests.get(f"{live_server}/api/pages/{slug}", timeout=10).json()
    assert page["raised_cents"] == sum(d.amount_cents for d in donations)
    assert page["contribution_count"] == WEBHOOKS
    shards = settings().counter_shards
    counts = {item.counter_id: int(item.contribution_count or 0)
              for item in CounterShardModel.batch_get([counter_id(slug, n) for n in range(shards)])}
    assert sum(counts.values()) == WEBHOOKS
    assert max(counts.values()) <= WEBHOOKS // 10, counts  # no item takes more than a tenth
    print(f"\n{WEBHOOKS} webhooks over {THREADS} threads in {elapsed:.1f}s; the largest of {shards} "
          f"shards took {max(counts.values())}")
