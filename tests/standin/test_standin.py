"""Stripe stand-in, exercised through the real stripe SDK (v16) and plain HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin, serve

from .helpers import PK, create_pi, wait_for

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path("/work/shared/reference/stripe/fixtures3.json")
SECRET = "whsec_test_secret"


def events_for(client: stripe.StripeClient, object_id: str) -> list[str]:
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.data.object.to_dict().get("id") == object_id]


def succeeded_pi(client: stripe.StripeClient, pm: str = "pm_card_visa") -> Any:
    pi = create_pi(client, metadata={"donation_id": "don_1"})
    return client.v1.payment_intents.confirm(pi.id, params={"payment_method": pm})


# ------------------------------------------------------------------ basics


def test_create_and_retrieve(client: stripe.StripeClient) -> None:
    pi = create_pi(
        client,
        metadata={"donation_id": "don_42", "campaign": "spring"},
        automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
        receipt_email="donor@example.com",
        description="Donation",
        statement_descriptor_suffix="SPRING",
        setup_future_usage="off_session",
    )
    assert pi.id.startswith("pi_") and pi.object == "payment_intent"
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(pi.id + "_secret_")
    assert pi.metadata.to_dict() == {"donation_id": "don_42", "campaign": "spring"}
    assert pi.automatic_payment_methods.to_dict() == {"allow_redirects": "never", "enabled": True}
    assert pi.livemode is False and isinstance(pi.created, int)
    again = client.v1.payment_intents.retrieve(pi.id)
    assert again.to_dict() == pi.to_dict()


def test_payment_method_types_both_array_encodings(standin: RunningStandin) -> None:
    auth = {"Authorization": "Bearer sk_test_x"}
    for key in ("payment_method_types[]", "payment_method_types[0]"):
        r = requests.post(
            f"{standin.url}/v1/payment_intents",
            headers=auth,
            data={"amount": "500", "currency": "usd", key: "card"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["payment_method_types"] == ["card"]
        assert r.json()["automatic_payment_methods"] is None


def test_payment_method_without_confirm_requires_confirmation(client: stripe.StripeClient) -> None:
    pi = create_pi(client, payment_method="pm_card_visa")
    assert pi.status == "requires_confirmation" and pi.payment_method.startswith("pm_")
    assert client.v1.payment_intents.confirm(pi.id).status == "succeeded"


def test_unknown_and_missing_params(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_pi(client, bogus="1")
    assert exc.value.param == "bogus" and exc.value.code == "parameter_unknown"
    assert exc.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_pi(client, automatic_payment_methods={"enabled": True, "nope": "x"})
    assert exc.value.param == "automatic_payment_methods[nope]"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"currency": "usd"})
    assert exc.value.code == "parameter_missing" and exc.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_pi(client, amount=49)
    assert exc.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_pi(client, amount="ten")
    assert exc.value.code == "parameter_invalid_integer"


def test_auth_required(standin: RunningStandin) -> None:
    r = requests.post(f"{standin.url}/v1/payment_intents", data={"amount": "500", "currency": "usd"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
    r = requests.post(
        f"{standin.url}/v1/payment_intents",
        data={"amount": "500", "currency": "usd"},
        headers={"Authorization": f"Bearer {PK}"},
    )
    assert r.status_code == 401
    bad = stripe.StripeClient(
        "sk_live_abcdefgh1234", base_addresses={"api": standin.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.payment_intents.retrieve("pi_x")


def test_not_found_and_unknown_route(client: stripe.StripeClient, standin: RunningStandin) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.retrieve("pi_missing")
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"
    r = requests.get(f"{standin.url}/v1/customers", headers={"Authorization": "Bearer sk_test_x"})
    assert r.status_code == 404 and "Unrecognized request URL" in r.json()["error"]["message"]


# ------------------------------------------------------------- idempotency


def test_idempotent_replay(client: stripe.StripeClient, standin: RunningStandin) -> None:
    key = str(uuid.uuid4())
    params = {"amount": 2500, "currency": "usd", "metadata": {"donation_id": "d-idem"}}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    second = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert first.id == second.id
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    assert events_for(client, first.id) == ["payment_intent.created"]
    event = client.v1.events.list(params={"type": "payment_intent.created", "limit": 100}).data
    assert [e.request.idempotency_key for e in event if e.data.object.id == first.id] == [key]


def test_idempotency_key_reused_with_other_params(client: stripe.StripeClient) -> None:
    key = str(uuid.uuid4())
    client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd"}, options={"idempotency_key": key}
    )
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(
            params={"amount": 2600, "currency": "usd"}, options={"idempotency_key": key}
        )


def test_validation_errors_are_not_saved_for_replay(client: stripe.StripeClient) -> None:
    key = str(uuid.uuid4())
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            params={"amount": 10, "currency": "usd"}, options={"idempotency_key": key}
        )
    pi = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd"}, options={"idempotency_key": key}
    )
    assert pi.id.startswith("pi_")


# ---------------------------------------------------------------- payments


def test_server_side_confirm_succeeds(client: stripe.StripeClient) -> None:
    pi = succeeded_pi(client)
    assert pi.status == "succeeded" and pi.amount_received == 1000
    assert pi.payment_method.startswith("pm_") and pi.latest_charge.startswith("ch_")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_intent == pi.id and charge.status == "succeeded" and charge.paid
    assert charge.amount_captured == 1000 and charge.amount_refunded == 0 and charge.refunded is False
    assert charge.metadata.to_dict() == {}
    assert charge.payment_method_details.card.last4 == "4242"
    assert charge.payment_method_details.card.brand == "visa"
    assert charge.balance_transaction.startswith("txn_")
    other = client.v1.charges.retrieve(succeeded_pi(client).latest_charge)
    assert other.payment_method_details.card.fingerprint == charge.payment_method_details.card.fingerprint
    assert events_for(client, pi.id) == ["payment_intent.created", "payment_intent.succeeded"]
    assert events_for(client, charge.id) == ["charge.succeeded"]
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == charge.id


def test_server_side_confirm_declined(client: stripe.StripeClient) -> None:
    pi = create_pi(client)
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_chargeDeclined"})
    assert exc.value.http_status == 402 and exc.value.code == "card_declined"
    assert exc.value.error.decline_code == "generic_decline"
    assert exc.value.json_body["error"]["payment_intent"]["id"] == pi.id
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "generic_decline"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "failed"
    assert events_for(client, pi.id)[-1] == "payment_intent.payment_failed"
    assert events_for(client, pi.latest_charge) == ["charge.failed"]


def test_confirm_twice_is_unexpected_state(client: stripe.StripeClient) -> None:
    pi = succeeded_pi(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert exc.value.code == "payment_intent_unexpected_state"


def test_create_with_confirm(client: stripe.StripeClient) -> None:
    pi = create_pi(client, payment_method="pm_card_visa", confirm=True, off_session=True)
    assert pi.status == "succeeded"


def test_manual_capture_and_cancel(client: stripe.StripeClient) -> None:
    pi = create_pi(client, capture_method="manual", payment_method="pm_card_visa", confirm=True)
    assert pi.status == "requires_capture" and pi.amount_capturable == 1000
    pi = client.v1.payment_intents.capture(pi.id)
    assert pi.status == "succeeded" and pi.amount_received == 1000
    canceled = client.v1.payment_intents.cancel(
        create_pi(client).id, params={"cancellation_reason": "abandoned"}
    )
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"


# ------------------------------------------------------------------ refunds


def test_refund_partial_then_full(client: stripe.StripeClient) -> None:
    pi = succeeded_pi(client)
    refund = client.v1.refunds.create(
        params={
            "payment_intent": pi.id,
            "amount": 300,
            "reason": "requested_by_customer",
            "metadata": {"by": "staff"},
        }
    )
    assert refund.id.startswith("re_") and refund.status == "succeeded" and refund.charge == pi.latest_charge
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.amount_refunded == 300 and charge.refunded is False
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 800})
    assert exc.value.code == "amount_too_large" and exc.value.param == "amount"
    client.v1.refunds.create(params={"charge": charge.id})
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 1000 and charge.refunded is True
    assert len(charge.refunds.data) == 2
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert exc.value.code == "charge_already_refunded"
    refunded = [
        e
        for e in client.v1.events.list(params={"type": "charge.refunded", "limit": 100}).data
        if e.data.object.id == charge.id
    ]
    assert len(refunded) == 2
    assert refunded[0].data.object.payment_intent == pi.id and refunded[0].data.object.refunded is True
    assert refunded[0].data.previous_attributes.amount_refunded == 300
    assert client.v1.refunds.retrieve(refund.id).amount == 300


# ----------------------------------------------------------------- disputes


def test_dispute_won(client: stripe.StripeClient) -> None:
    pi = succeeded_pi(client, "pm_card_createDispute")
    assert pi.status == "succeeded"
    created = [
        e
        for e in client.v1.events.list(params={"type": "charge.dispute.*", "limit": 100}).data
        if e.data.object.payment_intent == pi.id
    ]
    assert [e.type for e in created] == ["charge.dispute.funds_withdrawn", "charge.dispute.created"]
    dispute = created[-1].data.object
    assert dispute.id.startswith("dp_") and dispute.status == "needs_response"
    assert dispute.charge == pi.latest_charge and dispute.reason == "fraudulent" and dispute.amount == 1000
    assert client.v1.charges.retrieve(pi.latest_charge).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert exc.value.code == "charge_disputed"
    updated = client.v1.disputes.update(
        dispute.id, params={"evidence": {"uncategorized_text": "winning_evidence"}}
    )
    assert updated.status == "won"
    assert events_for(client, dispute.id) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]


def test_dispute_close_is_lost(client: stripe.StripeClient) -> None:
    pi = succeeded_pi(client, "pm_card_createDispute")
    dispute = next(
        e.data.object
        for e in client.v1.events.list(params={"type": "charge.dispute.created"}).data
        if e.data.object.payment_intent == pi.id
    )
    closed = client.v1.disputes.close(dispute.id)
    assert closed.status == "lost"
    assert events_for(client, dispute.id)[-1] == "charge.dispute.closed"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute.id)


# ------------------------------------------------------------------- events


def test_event_shape_and_list_paging(client: stripe.StripeClient) -> None:
    pi = succeeded_pi(client)
    first_two = client.v1.events.list(params={"limit": 2})
    assert len(first_two.data) == 2 and first_two.has_more is True
    assert first_two.data[0].type == "payment_intent.succeeded" and first_two.data[0].data.object.id == pi.id
    rest = client.v1.events.list(params={"limit": 1, "starting_after": first_two.data[1].id})
    assert rest.data[0].type == "payment_intent.created"
    event = client.v1.events.retrieve(first_two.data[0].id)
    assert event.id.startswith("evt_") and event.object == "event" and event.livemode is False
    assert event.api_version == "2026-10-28.endive"
    assert event.request.id.startswith("req_") and isinstance(event.created, int)


def test_objects_have_fixture_fields(client: stripe.StripeClient) -> None:
    if not FIXTURES.exists():
        pytest.skip("stripe fixtures not available")
    fixture = json.loads(FIXTURES.read_text())["resources"]
    pi = succeeded_pi(client, "pm_card_createDispute")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    refund_pi = succeeded_pi(client)
    refund = client.v1.refunds.create(params={"payment_intent": refund_pi.id, "amount": 100})
    event = client.v1.events.list(params={"type": "charge.dispute.created", "limit": 1}).data[0]
    objects = {
        "payment_intent": pi,
        "charge": charge,
        "refund": refund,
        "dispute": event.data.object,
        "event": event,
    }
    for name, obj in objects.items():
        missing = set(fixture[name]) - set(obj.to_dict())
        assert not missing, f"{name} lacks {sorted(missing)}"


# --------------------------------------------------------- webhook delivery


class Receiver:
    """A local webhook endpoint that fails its first ``fail_first`` requests with 500."""

    def __init__(self, fail_first: int = 1) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[bytes, dict[str, str], int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if len(receiver.received) < receiver.fail_first else 200
                receiver.received.append((body, dict(self.headers), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/stripe"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_webhook_delivery_signed_and_retried() -> None:
    standin = serve(port=0, retry_base_seconds=0.05, max_attempts=4)
    receiver = Receiver(fail_first=1)
    try:
        r = requests.post(f"{standin.url}/_standin/webhook", json={"url": receiver.url, "secret": SECRET})
        assert r.json()["ok"] is True
        client = stripe.StripeClient("sk_test_1", base_addresses={"api": standin.url}, max_network_retries=0)
        pi = create_pi(client)
        deliveries = wait_for(
            lambda: [d for d in requests.get(f"{standin.url}/_standin/deliveries").json() if d["delivered"]]
        )
        assert (
            deliveries[0]["event_id"]
            and deliveries[0]["attempts"] == 2
            and deliveries[0]["last_status"] == 200
        )
        assert [status for _, _, status in receiver.received] == [500, 200]
        for body, headers, _ in receiver.received:
            assert headers["Content-Type"] == "application/json; charset=utf-8"
            assert stripe.WebhookSignature.verify_header(
                body, headers["Stripe-Signature"], SECRET, tolerance=300
            )
            event = client.construct_event(body, headers["Stripe-Signature"], SECRET)
            assert event.type == "payment_intent.created" and event.data.object.id == pi.id
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.WebhookSignature.verify_header(
                receiver.received[0][0],
                receiver.received[0][1]["Stripe-Signature"],
                "whsec_wrong",
                tolerance=300,
            )
        assert client.v1.events.retrieve(deliveries[0]["event_id"]).pending_webhooks == 0
    finally:
        standin.shutdown()
        receiver.server.shutdown()


# ------------------------------------------------- Stripe.js / client-side


def confirm_client_side(
    standin: RunningStandin, pi: Any, number: str, secret: str | None = None
) -> requests.Response:
    return requests.post(
        f"{standin.url}/v1/payment_intents/{pi.id}/confirm",
        headers={"Origin": "http://127.0.0.1:8000"},
        data={
            "key": PK,
            "client_secret": secret or pi.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 2),
            "payment_method_data[card][cvc]": "123",
            "payment_method_data[billing_details][name]": "Jane Donor",
            "payment_method_data[billing_details][email]": "jane@example.com",
            "payment_method_data[billing_details][address][postal_code]": "94110",
            "return_url": "http://127.0.0.1:8000/thanks",
        },
    )


def test_client_side_confirm_with_publishable_key(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    pi = create_pi(client, metadata={"donation_id": "don_js"})
    r = confirm_client_side(standin, pi, "4242 4242 4242 4242")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    body = r.json()
    assert body["status"] == "succeeded" and body["id"] == pi.id
    assert "metadata" not in body  # publishable keys see a subset
    charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(pi.id).latest_charge)
    assert charge.billing_details.name == "Jane Donor"
    assert charge.billing_details.address.postal_code == "94110"
    fetched = requests.get(
        f"{standin.url}/v1/payment_intents/{pi.id}", params={"key": PK, "client_secret": pi.client_secret}
    )
    assert fetched.status_code == 200 and fetched.json()["status"] == "succeeded"


def test_client_side_wrong_secret_refused(client: stripe.StripeClient, standin: RunningStandin) -> None:
    pi = create_pi(client)
    r = confirm_client_side(standin, pi, "4242424242424242", secret=pi.id + "_secret_wrong")
    assert r.status_code == 400 and r.json()["error"]["param"] == "client_secret"
    r = requests.get(f"{standin.url}/v1/payment_intents/{pi.id}", params={"key": PK})
    assert r.status_code == 400
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"


@pytest.mark.parametrize(
    ("number", "code", "decline_code"),
    [
        ("4000000000009995", "card_declined", "insufficient_funds"),
        ("4000000000000002", "card_declined", "generic_decline"),
        ("4242424242424241", "incorrect_number", None),
    ],
)
def test_client_side_card_errors(
    client: stripe.StripeClient, standin: RunningStandin, number: str, code: str, decline_code: str | None
) -> None:
    pi = create_pi(client)
    r = confirm_client_side(standin, pi, number)
    assert r.status_code == 402
    error = r.json()["error"]
    assert (
        error["type"] == "card_error" and error["code"] == code and error.get("decline_code") == decline_code
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"


def test_client_side_dispute_card(client: stripe.StripeClient, standin: RunningStandin) -> None:
    pi = create_pi(client)
    assert confirm_client_side(standin, pi, "4000000000000259").json()["status"] == "succeeded"
    assert "charge.dispute.created" in [e.type for e in client.v1.events.list(params={"limit": 5}).data]


def test_cors_preflight_and_stripe_js(standin: RunningStandin) -> None:
    r = requests.options(
        f"{standin.url}/v1/payment_intents/pi_x/confirm",
        headers={
            "Origin": "http://127.0.0.1:8000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
    for path in ("/v3/", "/v3", "/v3/stripe.js"):
        js = requests.get(standin.url + path)
        assert js.status_code == 200 and js.headers["Content-Type"].startswith("application/javascript")
        assert "confirmCardPayment" in js.text and "document.currentScript" in js.text
    assert requests.get(f"{standin.url}/_standin/health").json() == {"ok": True}


def test_cli_starts_and_prints_url() -> None:
    env = {**os.environ, "STRIPE_PORT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_standin"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("stripe stand-in listening on http://127.0.0.1:")
        assert requests.get(line.rsplit(" ", 1)[1] + "/_standin/health").json() == {"ok": True}
    finally:
        proc.terminate()
        proc.wait(timeout=5)
