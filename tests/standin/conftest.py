"""Fixtures for the stand-in tests: one shared stand-in per module, or a fresh one per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from devtools.stripe_standin import RunningStandin, serve

from .helpers import sdk

FIXTURES = Path("/work/shared/reference/stripe/fixtures3.json")


@pytest.fixture(scope="module")
def standin() -> Iterator[RunningStandin]:
    running = serve(port=0, retry_base_seconds=0.05, max_attempts=4)
    yield running
    running.shutdown()


@pytest.fixture()
def client(standin: RunningStandin) -> stripe.StripeClient:
    return sdk(standin)


@pytest.fixture()
def fresh() -> Iterator[RunningStandin]:
    """A stand-in of its own, for tests that assert on whole balances or lists."""
    running = serve(port=0, retry_base_seconds=0.05, max_attempts=4)
    yield running
    running.shutdown()


@pytest.fixture(scope="session")
def stripe_fixtures() -> dict[str, Any]:
    """Stripe's own example objects (``resources.<type>``), to compare field names against."""
    if not FIXTURES.exists():
        pytest.skip("stripe fixtures not available")
    return json.loads(FIXTURES.read_text())["resources"]
