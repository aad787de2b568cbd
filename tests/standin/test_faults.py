"""Fault injection for chaos tests: seeded 500s and hangs with no side effects."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin

from .helpers import dev_post, sdk, wait_for

AUTH = {"Authorization": "Bearer sk_test_chaos"}


def set_faults(standin: RunningStandin, **config: Any) -> dict[str, Any]:
    r = dev_post(standin, "faults", config)
    assert r.status_code == 200, r.text
    return r.json()


def fault_status(standin: RunningStandin) -> dict[str, Any]:
    return requests.get(f"{standin.url}/_standin/faults", timeout=5).json()


def intent_count(client: stripe.StripeClient) -> int:
    return len(client.v1.payment_intents.list(params={"limit": 100}).data)


def test_injected_errors_have_no_side_effects(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    status = set_faults(fresh, error_rate=1.0, seed=7, paths=["/v1/payment_intents"])
    assert status["enabled"] is True
    assert status["counts"] == {"requests": 0, "errors": 0, "timeouts": 0, "rate_limited": 0}
    assert status["paths"] == ["/v1/payment_intents"] and status["seed"] == 7
    key = str(uuid.uuid4())
    params = {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    for _ in range(2):
        with pytest.raises(stripe.APIError) as exc:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        assert exc.value.http_status == 500 and exc.value.json_body["error"]["type"] == "api_error"
        assert exc.value.request_id and exc.value.request_id.startswith("req_")
    assert client.v1.customers.create(params={"name": "unaffected"}).id.startswith("cus_")
    assert fault_status(fresh)["counts"] == {"requests": 2, "errors": 2, "timeouts": 0, "rate_limited": 0}

    assert set_faults(fresh, error_rate=0)["enabled"] is False
    assert intent_count(client) == 0  # the faulted requests did nothing
    assert client.v1.events.list().data[0].type == "customer.created"
    retried = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert retried.status == "succeeded"
    assert retried.last_response.headers.get("Idempotent-Replayed") is None  # the 500 was not saved
    assert intent_count(client) == 1
    replay = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert replay.id == retried.id and replay.last_response.headers["Idempotent-Replayed"] == "true"


def test_faults_are_deterministic_from_the_seed(fresh: RunningStandin) -> None:
    def pattern() -> list[int]:
        return [
            requests.get(f"{fresh.url}/v1/balance", headers=AUTH, timeout=5).status_code for _ in range(30)
        ]

    set_faults(fresh, error_rate=0.4, seed=42)
    first = pattern()
    counts = fault_status(fresh)["counts"]
    set_faults(fresh, error_rate=0.4, seed=42)
    assert pattern() == first
    assert {200, 500} == set(first)
    assert counts == {"requests": 30, "errors": first.count(500), "timeouts": 0, "rate_limited": 0}
    set_faults(fresh, error_rate=0.4, seed=43)
    assert pattern() != first
    assert requests.get(f"{fresh.url}/_standin/health", timeout=5).status_code == 200  # never faulted


def test_timeouts_hang_then_answer_500(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    set_faults(fresh, timeout_rate=1.0, timeout_seconds=0.3, seed=1)
    started = time.monotonic()
    r = requests.post(
        f"{fresh.url}/v1/payment_intents", headers=AUTH, data={"amount": "500", "currency": "usd"}, timeout=5
    )
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.exceptions.ReadTimeout):  # the client gives up first
        requests.post(
            f"{fresh.url}/v1/payment_intents",
            headers=AUTH,
            data={"amount": "500", "currency": "usd"},
            timeout=0.05,
        )
    assert fault_status(fresh)["counts"]["timeouts"] == 2
    wait_for(lambda: fault_status(fresh)["hanging"] == 0)  # the abandoned request has finished
    set_faults(fresh, error_rate=0)
    assert intent_count(client) == 0


def test_sdk_retries_succeed_exactly_once(fresh: RunningStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe._http_client.HTTPClient, "MAX_DELAY", 0.02)
    client = sdk(fresh, retries=5)
    set_faults(fresh, error_rate=0.5, seed=3, paths=["/v1/payment_intents", "/v1/refunds"])
    intents = [
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
        )
        for _ in range(8)
    ]
    refunds = [client.v1.refunds.create(params={"payment_intent": pi.id}) for pi in intents]
    assert fault_status(fresh)["counts"]["errors"] > 0
    set_faults(fresh, error_rate=0)
    assert intent_count(client) == 8 and all(pi.status == "succeeded" for pi in intents)
    assert len({r.id for r in refunds}) == 8
    charges = client.v1.balance_transactions.list(params={"type": "charge", "limit": 100}).data
    assert len(charges) == 8


def test_fault_config_is_validated(fresh: RunningStandin) -> None:
    for bad in (
        {"error_rate": 1.5},
        {"error_rate": 0.6, "timeout_rate": 0.6},
        {"timeout_rate": "often"},
        {"timeout_seconds": -1},
        {"paths": "/v1/"},
        {"mystery": 1},
        {"rate_limit_rate": -0.1},
        {"rate_limit_rate": 0.5, "error_rate": 0.6},
        {"rate_limit_next": -1},
        {"rate_limit_next": 1.5},
        {"rate_limit_next": True},
    ):
        r = dev_post(fresh, "faults", bad)
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error", bad
    assert requests.post(f"{fresh.url}/_standin/faults", data="nope", timeout=5).status_code == 400
    assert fault_status(fresh)["enabled"] is False


# ------------------------------------------------------------- rate limits


def test_rate_limit_next_answers_exactly_n_429s_that_change_nothing(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    status = set_faults(fresh, rate_limit_next=2, paths=["/v1/payment_intents"])
    assert status["enabled"] is True and status["rate_limit_next"] == 2
    params = {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    key = str(uuid.uuid4())
    for _ in range(2):
        r = requests.post(
            f"{fresh.url}/v1/payment_intents",
            headers={**AUTH, "Idempotency-Key": key},
            data={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()},
            timeout=5,
        )
        assert r.status_code == 429
        assert r.headers["Stripe-Should-Retry"] == "true" and r.headers["Request-Id"].startswith("req_")
        error = r.json()["error"]
        assert error["type"] == "invalid_request_error" and error["code"] == "rate_limit"
        assert error["message"].startswith("Request rate limit exceeded.")
        assert error["doc_url"] == "https://stripe.com/docs/error-codes/rate-limit"
    assert client.v1.customers.create(params={"name": "other path"}).id.startswith("cus_")
    after = fault_status(fresh)
    assert after["counts"] == {"requests": 2, "errors": 0, "timeouts": 0, "rate_limited": 2}
    assert after["rate_limit_next"] == 0 and after["enabled"] is False
    assert intent_count(client) == 0  # the 429s did nothing
    pi = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert pi.status == "succeeded" and pi.last_response.headers.get("Idempotent-Replayed") is None
    assert intent_count(client) == 1


def test_the_sdk_raises_rate_limit_error_and_retries_a_429(
    fresh: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_faults(fresh, rate_limit_next=1)
    with pytest.raises(stripe.RateLimitError) as exc:
        sdk(fresh).v1.balance.retrieve()
    assert exc.value.http_status == 429 and exc.value.error.code == "rate_limit"
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe._http_client.HTTPClient, "MAX_DELAY", 0.02)
    set_faults(fresh, rate_limit_next=2)
    balance = sdk(fresh, retries=2).v1.balance.retrieve()  # Stripe-Should-Retry: the SDK tries again
    assert balance.object == "balance"
    assert fault_status(fresh)["counts"]["rate_limited"] == 2


def test_rate_limit_rate_is_seeded_and_counted(fresh: RunningStandin) -> None:
    def pattern() -> list[int]:
        return [
            requests.get(f"{fresh.url}/v1/balance", headers=AUTH, timeout=5).status_code for _ in range(30)
        ]

    set_faults(fresh, rate_limit_rate=0.3, error_rate=0.2, seed=5)
    first = pattern()
    counts = fault_status(fresh)["counts"]
    assert {200, 429, 500} == set(first)
    assert counts == {
        "requests": 30,
        "errors": first.count(500),
        "timeouts": 0,
        "rate_limited": first.count(429),
    }
    set_faults(fresh, rate_limit_rate=0.3, error_rate=0.2, seed=5)
    assert pattern() == first
