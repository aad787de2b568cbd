"""Outside a local dev stage the app fails closed: with STAGE unset, a secret missing, an http
public URL or no trusted SNS topic, every route answers 503 and every job refuses to run, with
one log line naming the settings (never their values). Secrets come from SSM (moto's here)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib import deps
from chalicelib.api import middleware
from chalicelib.config import NotConfigured, problems, settings
from tests.helpers import captured_logs

pytestmark = pytest.mark.stack

SSM_TOKEN_SECRET = "token-secret-from-ssm-0123456789"
SSM_IDENTITY_SECRET = "identity-secret-from-ssm-0123456789"


@pytest.fixture()
def prod(local_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app under the prod stage's configuration, against moto. (chalice's test client sets
    a stage's variables only while it handles a request; STAGE is set here for the rest.)"""
    from chalice.test import Client

    from app import app

    saved = dict(os.environ)
    with Client(app, stage_name="prod") as client:
        for name in ("TOKEN_SECRET", "IDENTITY_SECRET", "SES_NOTIFICATION_TOPICS", "PUBLIC_BASE_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("STAGE", "prod")
        deps.reset()
        middleware._reported.clear()
        try:
            yield client
        finally:
            os.environ.clear()
            os.environ.update(saved)
            deps.reset()


def every_route(app: Any) -> list[tuple[str, str]]:
    return sorted((method, re.sub(r"\{[^}]+\}", "x", path))
                  for path, entries in app.routes.items() for method in entries)


def test_every_route_answers_503_and_jobs_refuse_when_misconfigured(prod: Any) -> None:
    from app import app

    routes = every_route(app)
    with captured_logs() as out:
        _call_everything(prod, routes)
    logged = [json.loads(line) for line in out.getvalue().splitlines()
              if line.startswith("{") and "refusing to serve" in line]
    assert len(logged) == 1, "the problems are logged once per container"
    assert set(logged[0]["problems"]) == {
        "TOKEN_SECRET is not set", "IDENTITY_SECRET is not set", "PUBLIC_BASE_URL is not an https URL",
        "SES_NOTIFICATION_TOPICS is empty (no SNS topic would be trusted)"}
    text = json.dumps(logged)
    assert os.environ["STRIPE_WEBHOOK_SECRET"] not in text and "sk_test" not in text


def _call_everything(prod: Any, routes: list[tuple[str, str]]) -> None:
    assert len(routes) > 40
    for method, path in routes:
        response = getattr(prod.http, method.lower())(path, headers={"Content-Type": "application/json"},
                                                      body=b"{}" if method != "GET" else None)
        body = json.loads(response.body)
        assert (response.status_code, body["error"]["code"]) == (503, "not_configured"), (method, path)
        assert response.headers["Retry-After"] == "60"
    event = prod.events.generate_sqs_event(message_bodies=[json.dumps({"export_id": "exp_x"})],
                                           queue_name="groundswell-prod-exports")
    with pytest.raises(NotConfigured):
        prod.lambda_.invoke("run_export", event)


def test_without_a_stage_nothing_serves(prod: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAGE")
    deps.reset()
    assert problems() == ("STAGE: Field required",)
    response = prod.http.get("/api/health")
    assert response.status_code == 503


def test_secrets_come_from_ssm_and_then_it_serves(prod: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ssm = boto3.client("ssm", region_name=settings().region)
    for name, value in (("TOKEN_SECRET", SSM_TOKEN_SECRET), ("IDENTITY_SECRET", SSM_IDENTITY_SECRET)):
        ssm.put_parameter(Name=f"/groundswell/prod/{name}", Value=value, Type="SecureString",
                          Overwrite=True)
    try:
        monkeypatch.setenv("PUBLIC_BASE_URL", "https://give.example.org")
        monkeypatch.setenv("SES_NOTIFICATION_TOPICS", "arn:aws:sns:us-east-1:123456789012:ses")
        deps.reset()
        assert problems() == ()
        assert settings().token_secret == SSM_TOKEN_SECRET
        assert deps.tokens().read(deps.tokens().issue("rsvp", "inv_1"), "rsvp") == "inv_1"
        assert settings().identity_secret == SSM_IDENTITY_SECRET
    finally:
        for name in ("TOKEN_SECRET", "IDENTITY_SECRET"):
            ssm.delete_parameter(Name=f"/groundswell/prod/{name}")
