"""The chaos run (devtools/chaos.py) at a smaller size: 300 Stripe events through the real webhook
endpoint, a third delivered twice (some concurrently), shuffled, with DynamoDB and Stripe faults,
Stripe's retries simulated; every invariant must hold. `make chaos` runs the long form (2,000+)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from devtools.chaos import ChaosConfig, ChaosRun

pytestmark = [pytest.mark.stack, pytest.mark.slow]
EVENTS = int(os.environ.get("CHAOS_TEST_EVENTS", "300"))


@pytest.mark.timeout(900)
def test_chaos_on_the_webhook_path_keeps_every_invariant(local_stack: dict[str, Any]) -> None:
    config = ChaosConfig(events=EVENTS, seed=20261103, threads=6)
    run = ChaosRun(config, local_stack["stripe_url"])
    report = run.run()
    print("\n" + report.render())
    assert report.ok, report.render()
    webhook = report.figures["webhook"]
    assert webhook["events"] >= EVENTS
    duplicated = int(webhook["events delivered twice"].split()[0])
    assert duplicated >= 0.30 * webhook["events"] and webhook["of which concurrently"] > 0
    assert webhook["applied before their success (refunds, disputes)"] > 0
    faults = report.figures["AWS faults injected"]
    assert faults["by_operation"].get("TransactWriteItems", 0) > 0
    assert set(faults["by_kind"]) == {"throttled", "timeout", "conflict"}
    stripe = report.figures["Stripe faults at intake"]
    assert stripe["errors"] + stripe["timeouts"] > 0
    assert report.figures["stripe API calls during webhook delivery"] == 0
