"""The night's metrics, as CloudWatch would read them: EMF lines on stdout (no API call), from
the real app over the local stack (a signed webhook, the drain job), and from Stripe's and SES's
throttling answers sent by real local HTTP servers."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib import metrics
from tests.helpers import stripe_event

pytestmark = pytest.mark.stack


def emf_lines(text: str) -> list[dict[str, Any]]:
    """Every EMF document in captured stdout: a JSON object with CloudWatch's `_aws` metadata."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == metrics.NAMESPACE
            found.append(document)
    return found


def value(document: dict[str, Any], name: str) -> float:
    """A metric's value in an EMF document (powertools writes each as a list of datapoints)."""
    found = document[name]
    assert isinstance(found, list) and len(found) == 1, found
    return float(found[0])


def metric_names(document: dict[str, Any]) -> set[str]:
    return {m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


def pay(api, started: dict[str, Any]) -> tuple[int, Any]:
    event = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                         amount=started["amount_cents"], amount_received=started["amount_cents"],
                         metadata={"donation_id": started["donation_id"]})
    return api.webhook(event)


def test_a_successful_webhook_emits_the_contribution_metrics_for_its_page(api, capsys) -> None:
    slug = api.create_page()["slug"]
    started = api.donate(slug, amount_cents=2700)
    capsys.readouterr()
    status, body = pay(api, started)
    assert status == 200 and body["outcome"] == "applied"
    documents = emf_lines(capsys.readouterr().out)
    contribution = [d for d in documents if metrics.CONTRIBUTIONS in metric_names(d)]
    assert len(contribution) == 1
    line = contribution[0]
    assert line["page"] == slug and value(line, metrics.CONTRIBUTIONS) == 1.0
    assert value(line, metrics.CONTRIBUTION_CENTS) == 2700.0
    assert line["service"] == metrics.SERVICE and line["stage"] == "dev"
    assert sorted(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["page", "service", "stage"]
    webhook = [d for d in documents if metrics.WEBHOOK_REQUESTS in metric_names(d)]
    assert len(webhook) == 1 and value(webhook[0], metrics.WEBHOOK_OUTCOMES["applied"]) == 1.0
    assert value(webhook[0], metrics.WEBHOOK_NON_2XX) == 0.0
    # The same event again: a duplicate, no second contribution.
    capsys.readouterr()
    status, body = pay(api, started)
    again = emf_lines(capsys.readouterr().out)
    assert not [d for d in again if metrics.CONTRIBUTIONS in metric_names(d)]


def test_a_refused_webhook_counts_as_non_2xx(api, capsys) -> None:
    capsys.readouterr()
    status, _ = api.webhook(stripe_event("payment_intent.succeeded"), secret="whsec_wrong")
    assert status == 400
    [line] = [d for d in emf_lines(capsys.readouterr().out) if metrics.WEBHOOK_REQUESTS in metric_names(d)]
    assert value(line, metrics.WEBHOOK_NON_2XX) == 1.0
    assert value(line, metrics.WEBHOOK_OUTCOMES["refused"]) == 1.0


def test_the_drain_reports_the_oldest_due_message(client, capsys) -> None:
    from datetime import datetime, timedelta, timezone

    from chalicelib import deps
    from chalicelib.outbox.model import OutboxMessage
    from chalicelib.storage.models import OutboxModel

    now = datetime.now(timezone.utc)
    waiting = OutboxMessage(f"lag-{uuid.uuid4().hex}", "no-such-kind", now - timedelta(minutes=10))
    deps.outbox_store().item(waiting, now).save()
    capsys.readouterr()
    shard = deps.outbox_store().shard_of(waiting.message_id)  # as `drain_outbox` fans out
    result = client.lambda_.invoke("drain_shard", client.events.generate_sqs_event(
        message_bodies=[json.dumps({"shard": shard})], queue_name="drain"))
    assert result.payload is not None
    [line] = [d for d in emf_lines(capsys.readouterr().out)
              if metrics.OUTBOX_LAG_SECONDS in metric_names(d)]
    assert value(line, metrics.OUTBOX_LAG_SECONDS) >= 600  # ours, or an older one still due
    assert OutboxModel.get(waiting.message_id).status == "failed"  # and the drain took it
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Seconds"


class Throttling(BaseHTTPRequestHandler):
    """Answers every request 429, as Stripe and SES do at their rate limits."""

    body = b"{}"
    content_type = "application/json"
    extra: dict[str, str] = {}

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(429)
        self.send_header("Content-Type", self.content_type)
        for name, value in self.extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def throttling() -> Iterator[tuple[str, type[Throttling]]]:
    handler = type("Handler", (Throttling,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_every_stripe_429_is_counted(throttling, capsys) -> None:
    from chalicelib.errors import ProviderUnavailable
    from chalicelib.payments.gateway import StripeGateway

    url, handler = throttling
    handler.body = json.dumps({"error": {"type": "invalid_request_error", "code": "rate_limit",
                                         "message": "Too many requests"}}).encode()
    gateway = StripeGateway("sk_test_throttled", "whsec_x", api_base=url)
    capsys.readouterr()
    with pytest.raises(ProviderUnavailable):
        gateway.create_customer(email="a@example.org", name="A B", donor_id="d", idempotency_key="k")
    lines = [d for d in emf_lines(capsys.readouterr().out) if metrics.STRIPE_THROTTLES in metric_names(d)]
    assert len(lines) == 1 and value(lines[0], metrics.STRIPE_THROTTLES) == 1.0


def test_an_ses_throttle_is_counted_and_is_a_retry_not_a_refusal_of_the_address(throttling, capsys) -> None:
    import boto3
    from botocore.config import Config

    from chalicelib.followups.errors import AddressRefused, SendRefused
    from chalicelib.followups.model import OutgoingEmail
    from chalicelib.notify.ses import SesMailer

    url, handler = throttling
    handler.body = json.dumps({"message": "Maximum sending rate exceeded."}).encode()
    handler.extra = {"x-amzn-ErrorType": "TooManyRequestsException"}
    client = boto3.client("sesv2", endpoint_url=url, region_name="us-east-1",
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    mailer = SesMailer("us-east-1", "Team <team@example.org>", client=client)
    email = OutgoingEmail(message_id=f"thanks#{uuid.uuid4().hex}", to="donor@example.org",
                          subject="Thank you", text="Thanks", html="<p>Thanks</p>",
                          unsubscribe_url="https://example.org/u/x")
    capsys.readouterr()
    with pytest.raises(SendRefused) as refused:
        mailer.send(email)
    assert not isinstance(refused.value, AddressRefused)
    lines = [d for d in emf_lines(capsys.readouterr().out) if metrics.SES_THROTTLES in metric_names(d)]
    assert len(lines) == 1 and value(lines[0], metrics.SES_THROTTLES) == 1.0
