"""The background jobs' Stripe request budget (`STRIPE_REQUESTS_PER_SECOND`, issue 18): the
reconciler and another job container, running at once, stay within it together, as the Stripe
stand-in sees their requests arrive."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from chalicelib import deps
from chalicelib.giving.reconcile import Reconciler
from chalicelib.payments.gateway import StripeGateway
from chalicelib.ratelimit import RequestBudget
from chalicelib.storage.budgets import BudgetRepository

pytestmark = pytest.mark.stack
RATE = 4


def another_container() -> StripeGateway:
    """What a second job's container builds: its own gateway and budget, the same table."""
    s = deps.settings()
    budget = RequestBudget("stripe", lambda: s.stripe_requests_per_second, BudgetRepository())
    return StripeGateway(s.stripe_secret_key, s.stripe_webhook_secret, s.stripe_api_base,
                         budget=budget.take)


def test_a_burst_of_two_jobs_stays_within_the_shared_budget(api, local_stack, monkeypatch) -> None:
    monkeypatch.setenv("STRIPE_REQUESTS_PER_SECOND", str(RATE))
    deps.reset()
    try:
        page = api.create_page()
        intents = [api.donate(page["slug"], amount_cents=1_000 + n)["client_secret"].split("_secret_")[0]
                   for n in range(12)]
        service = deps.giving_service()
        reconciler = Reconciler(service, service.store, deps.job_stripe_gateway(),  # type: ignore[arg-type]
                                lambda: datetime.now(timezone.utc) + timedelta(minutes=20),
                                expire_after=timedelta(days=1))
        other = another_container()
        start = time.time()
        jobs = [threading.Thread(target=reconciler.run, kwargs={"limit": 12}),
                threading.Thread(target=lambda: [other.payment_intent_status(i) for i in intents])]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join(timeout=60)
        seen = requests.get(f"{local_stack['stripe_url']}/_standin/requests",
                            params={"since": start}, timeout=10).json()["requests"]
    finally:
        deps.reset()
    arrivals = sorted(r["at"] for r in seen if r["method"] == "GET"
                      and r["path"].startswith("/v1/payment_intents/"))
    assert len(arrivals) >= 20  # both jobs ran: 12 lookups each (fewer if a stale one had no intent)
    # A bucket refilled every second lets at most RATE through per calendar second: any 1 s
    # interval touches two seconds (two seconds' tokens), and a span of L seconds at most
    # L + 2 of them. Unbudgeted, the two jobs send all their requests within about a second.
    for i, t in enumerate(arrivals):
        in_one_second = sum(1 for u in arrivals[i:] if u < t + 1.0)
        assert in_one_second <= 2 * RATE
    span = arrivals[-1] - arrivals[0]
    assert len(arrivals) <= RATE * (span + 2)
