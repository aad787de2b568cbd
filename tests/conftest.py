"""Session fixtures: moto's server and the Stripe stand-in on free ports, real connections only."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devtools import stack
from tests import helpers

# The suite is the dev stage. Test modules that import the storage models at collection read
# the stage's table names then, before the session fixture sets the rest of the environment.
os.environ.setdefault("STAGE", "dev")
# Donor ids are keyed with IDENTITY_SECRET; the domain tests (no local AWS, so no dev defaults)
# need one too.
os.environ.setdefault("IDENTITY_SECRET", "test-identity-secret-0123456789")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """moto's server and the Stripe stand-in, with tables created and dev staff keys seeded."""
    logs = tmp_path_factory.mktemp("logs")
    moto_port, stripe_port = stack.free_port(), stack.free_port()
    env = stack.local_env(moto_port, stripe_port)
    env.update({"STAGE": "dev", "DEV_ORGANIZER_KEY": helpers.ORGANIZER_KEY,
                "DEV_FINANCE_KEY": helpers.FINANCE_KEY, "STRIPE_WEBHOOK_SECRET": helpers.WEBHOOK_SECRET,
                # Most tests' intakes come from one address (the test client's 127.0.0.1) and
                # are never paid; the tests of the caps set them back (test_pending_flood.py,
                # test_card_testing.py). The suite now starts over 300 in some 10-minute windows.
                "PENDING_PER_IP": "1000000", "INTAKES_PER_IP": "1000000"})
    saved = dict(os.environ)
    os.environ.update(env)
    moto = standin = None
    try:
        moto = stack.start_moto(moto_port, logs / "moto.log")
        standin = stack.start_standin(stripe_port, env, None, logs / "standin.log")
        from chalicelib import deps
        from chalicelib.storage.resources import ensure_all
        from devtools.seed import seed_staff_keys

        deps.reset()
        ensure_all()
        seed_staff_keys()
        yield {"env": env, "moto_port": moto_port, "stripe_port": stripe_port,
               "stripe_url": f"http://127.0.0.1:{stripe_port}", "logs": logs}
    finally:
        stack.stop(standin, moto)
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture()
def client(local_stack: dict[str, Any]) -> Iterator[Any]:
    """chalice.test.Client over the real app, reaching moto's server and the stand-in."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as c:
        yield c


class Api:
    """Small JSON wrapper over chalice's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.last_headers: dict[str, str] = {}  # the headers of the last answer

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: str | bytes | None = None) -> tuple[int, Any]:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=hdrs, body=payload)
        self.last_headers = dict(response.headers)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            return response.status_code, json.loads(text) if text else None
        except ValueError:
            return response.status_code, text

    def create_page(self, **overrides: Any) -> dict[str, Any]:
        status, page = self.call("POST", "/api/admin/pages", helpers.page_body(**overrides),
                                 helpers.staff(helpers.ORGANIZER_KEY))
        assert status == 201, page
        return page

    def donate(self, slug: str, **overrides: Any) -> dict[str, Any]:
        status, body = self.call("POST", f"/api/pages/{slug}/donations", helpers.donation_body(**overrides))
        assert status == 201, body
        return body

    def webhook(self, event: dict[str, Any], **sign_args: Any) -> tuple[int, Any]:
        body, headers = helpers.signed(event, **sign_args)
        return self.call("POST", "/webhooks/stripe", raw=body, headers=headers)

    def public(self, slug: str) -> dict[str, Any]:
        status, page = self.call("GET", f"/api/pages/{slug}")
        assert status == 200, page
        return page

    def donation(self, donation_id: str, key: str = helpers.FINANCE_KEY) -> dict[str, Any]:
        status, body = self.call("GET", f"/api/admin/donations/{donation_id}", headers=helpers.staff(key))
        assert status == 200, body
        return body


@pytest.fixture()
def api(client: Any) -> Api:
    return Api(client)


@pytest.fixture()
def stripe_api(local_stack: dict[str, Any]) -> Any:
    """The Stripe stand-in's own HTTP API, as a test inspects it (server-side key)."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer sk_test_local_standin"
    session.base_url = local_stack["stripe_url"]  # type: ignore[attr-defined]
    return session


def deliver_webhooks_to(local_stack: dict[str, Any], url: str | None) -> None:
    """Point the stand-in's webhook delivery at `url` (None: record events, deliver nothing)."""
    response = requests.post(f"{local_stack['stripe_url']}/_standin/webhook",
                             json={"url": url, "secret": helpers.WEBHOOK_SECRET}, timeout=5)
    response.raise_for_status()


@pytest.fixture(scope="session")
def _api_process(local_stack: dict[str, Any]) -> Iterator[str]:
    port = stack.free_port()
    api = stack.start_api(port, local_stack["env"], local_stack["logs"] / "api.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stack.stop(api)


@pytest.fixture()
def live_server(local_stack: dict[str, Any], _api_process: str) -> Iterator[str]:
    """The API under `chalice local`, with the stand-in delivering signed webhooks to it."""
    deliver_webhooks_to(local_stack, f"{_api_process}/webhooks/stripe")
    try:
        yield _api_process
    finally:
        deliver_webhooks_to(local_stack, None)


@pytest.fixture()
def demo_page(live_server: str) -> str:
    """The seeded `demo` page, as `make run` seeds it."""
    from devtools.seed import seed_demo_page

    seed_demo_page()
    return "demo"
