"""Helpers shared by the stand-in tests: polling, SDK clients and common payment steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
import stripe

from devtools.stripe_standin import RunningStandin

PK = "pk_test_123"


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def sdk(standin: RunningStandin, retries: int = 0) -> stripe.StripeClient:
    """The real stripe SDK pointed at ``standin``."""
    return stripe.StripeClient(
        "sk_test_123", base_addresses={"api": standin.url}, max_network_retries=retries
    )


def create_pi(client: stripe.StripeClient, **params: Any) -> Any:
    return client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", **params})


def paid_pi(client: stripe.StripeClient, amount: int = 1000, pm: str = "pm_card_visa", **params: Any) -> Any:
    """A PaymentIntent confirmed server-side with ``pm`` (succeeds for the default visa)."""
    return create_pi(client, amount=amount, payment_method=pm, confirm=True, **params)


def event_types(client: stripe.StripeClient, object_id: str) -> list[str]:
    """Types of the events about ``object_id``, oldest first."""
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.data.object.to_dict().get("id") == object_id]


def dev_post(standin: RunningStandin, path: str, body: Any = None) -> requests.Response:
    """POST to one of the stand-in's ``/_standin/`` dev endpoints."""
    return requests.post(f"{standin.url}/_standin/{path}", json=body, timeout=10)
