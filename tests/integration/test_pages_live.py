"""Page features through the running API (`chalice local` over HTTP): the visitor cookie a real
client keeps, its sticky variant, a donor's ladder and a deadline move with its history."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from chalicelib import deps
from chalicelib.giving.model import donor_id_for
from chalicelib.tokens import DONOR
from tests.helpers import (
    ORGANIZER_KEY,
    donation_body,
    page_body,
    signed,
    staff,
    stripe_event,
    wait_for,
)

pytestmark = [pytest.mark.stack, pytest.mark.server]
VARIANTS = [{"id": "urgent", "headline": "Hours left"}, {"id": "local", "headline": "Neighbors"}]


def create(server: str, **fields: object) -> str:
    body = page_body(**fields)
    reply = requests.post(f"{server}/api/admin/pages", json=body, headers=staff(ORGANIZER_KEY), timeout=10)
    assert reply.status_code == 201, reply.text
    return str(body["slug"])


def test_a_browser_keeps_its_cookie_and_its_variant(live_server: str) -> None:
    slug = create(live_server, variants=VARIANTS)
    visitor = requests.Session()
    first = visitor.get(f"{live_server}/api/pages/{slug}", timeout=10)
    assert first.status_code == 200 and "gs_vid" in visitor.cookies
    assert "HttpOnly" in first.headers["Set-Cookie"] and first.headers["Cache-Control"] == "no-store"
    arm = first.json()["variant"]["id"]
    for _ in range(3):
        again = visitor.get(f"{live_server}/api/pages/{slug}", timeout=10)
        assert again.json()["variant"]["id"] == arm and "Set-Cookie" not in again.headers
        assert again.headers["Vary"] == "Cookie"
    html = visitor.get(f"{live_server}/donate/{slug}", timeout=10).text
    assert f'data-variant="{arm}"' in html
    for _ in range(2):  # what the page's script sends: the cookie counts the visitor once
        counted = visitor.post(f"{live_server}/api/pages/{slug}/visits", json={}, timeout=10).json()
        assert counted["variant_id"] == arm
    results = requests.get(f"{live_server}/api/admin/pages/{slug}/results", headers=staff(ORGANIZER_KEY),
                           timeout=10).json()
    assert sum(v["visitors"] for v in results["variants"]) == 1 and results["winner"] is None


def test_a_donor_link_and_a_moved_deadline(live_server: str) -> None:
    committee = "C" + str(uuid.uuid4().int)[:8]
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    slug = create(live_server, committee_id=committee, deadline=soon)
    email = f"live.{uuid.uuid4().hex[:8]}@example.org"
    started = requests.post(f"{live_server}/api/pages/{slug}/donations",
                            json=donation_body(10_000, email=email), timeout=10).json()
    event = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                         amount=10_000, amount_received=10_000,
                         metadata={"donation_id": started["donation_id"]})
    body, headers = signed(event)
    assert requests.post(f"{live_server}/webhooks/stripe", data=body.encode(), headers=headers,
                         timeout=10).status_code == 200
    token = deps.tokens().issue(DONOR, donor_id_for(email))
    ladder = wait_for(lambda: requests.get(f"{live_server}/api/pages/{slug}", params={"t": token},
                                           timeout=10).json()["ask_amounts_cents"])
    assert ladder == [10_000, 15_000, 20_000, 30_000]
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    reply = requests.put(f"{live_server}/api/admin/pages/{slug}", json={"deadline": later},
                         headers=staff(ORGANIZER_KEY), timeout=10)
    assert reply.status_code == 200
    assert requests.get(f"{live_server}/api/pages/{slug}", timeout=10).json()["deadline_extended"] is True
    history = requests.get(f"{live_server}/api/admin/pages/{slug}/history", headers=staff(ORGANIZER_KEY),
                           timeout=10).json()["history"]
    assert [h["action"] for h in history] == ["created", "updated"] and history[1]["deadline_extended"]
