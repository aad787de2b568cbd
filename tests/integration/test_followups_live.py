"""Follow-ups through the running stack: `chalice local`, moto's server, the Stripe stand-in
delivering signed webhooks, and the app's own scheduled drain (as the local worker runs it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import action_body, drain_at, fresh_zip, now, outbox_item
from tests.helpers import ORGANIZER_KEY, donation_body, page_body, sign, staff, wait_for
from tests.mail import links, mirrored, sent_to, text_of, token_of

pytestmark = [pytest.mark.stack, pytest.mark.server]


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


def worker_drains_until(predicate: Any, timeout: float = 20.0) -> Any:
    """The app's `drain_outbox` schedule, invoked as the local worker invokes it."""
    from app import app
    from devtools.worker import Worker

    worker = Worker(app)

    def step() -> Any:
        worker.next_run = dict.fromkeys(worker.next_run, 0.0)
        worker.run_once()
        return predicate()

    return wait_for(step, timeout=timeout, interval=0.1)


def standin(local_stack: dict[str, Any]) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})


def create_action(server: str, **overrides: Any) -> dict[str, Any]:
    response = requests.post(f"{server}/api/admin/actions", json=action_body(**overrides),
                             headers=staff(ORGANIZER_KEY), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def close_action(server: str, action_id: str) -> None:
    requests.put(f"{server}/api/admin/actions/{action_id}", json={"active": False},
                 headers=staff(ORGANIZER_KEY), timeout=10)


def test_a_donation_gets_exactly_one_thank_you_with_invitations_when_its_webhook_comes_three_times(
        live_server: str, local_stack, mailbox) -> None:
    zip_ = fresh_zip()
    canvass = create_action(live_server, kind="canvass", title="Saturday canvass", virtual=False,
                            location={"city": "Springfield", "state": "IL", "zip": zip_})
    try:
        page = page_body()
        assert requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY),
                             timeout=10).status_code == 201
        donor = f"live.{uuid.uuid4().hex[:10]}@example.org"
        body = donation_body(2700, email=donor, interests=["canvass"])
        body["donor"]["address"]["zip"] = zip_
        started = requests.post(f"{live_server}/api/pages/{page['slug']}/donations", json=body, timeout=10)
        assert started.status_code == 201, started.text
        intent_id = started.json()["client_secret"].split("_secret_")[0]
        donation_id = started.json()["donation_id"]

        client = standin(local_stack)
        client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
        wait_for(lambda: outbox_item(f"thanks#{donation_id}"), timeout=10)  # the stand-in's delivery
        events = client.v1.events.list(params={"type": "payment_intent.succeeded", "limit": 100})
        (event,) = [e for e in events.data if e.data.object["id"] == intent_id]
        payload = json.dumps(event.to_dict())
        for _ in range(2):  # the same event twice more, as a retrying Stripe would send it
            answer = requests.post(f"{live_server}/webhooks/stripe", data=payload, timeout=10, headers={
                "Content-Type": "application/json", "Stripe-Signature": sign(payload)})
            assert answer.status_code == 200 and answer.json()["outcome"] == "duplicate"

        worker_drains_until(lambda: sent_to(mailbox, donor))
        worker_drains_until(lambda: outbox_item(f"thanks#{donation_id}").status == "sent")
        (message,) = sent_to(mailbox, donor)
        assert message["Subject"] == "Thank you, Ana"
        assert canvass["title"] in text_of(message) and "$27" in text_of(message)
        assert "/api/unsubscribe/" in message["List-Unsubscribe"]
        assert links(message, "u") and links(message, "i")
        # The invitation link opens over HTTP on the running API.
        invitation = requests.get(live_server + links(message, "i")[0], timeout=10)
        assert invitation.status_code == 200 and canvass["title"] in invitation.text
    finally:
        close_action(live_server, canvass["action_id"])


def test_capacity_holds_under_20_concurrent_rsvps_for_the_last_seats(live_server: str, local_stack) -> None:
    from chalicelib import deps, tokens
    from chalicelib.followups.model import Invitation, invitation_id_for

    action = create_action(live_server, title="Small house meeting", capacity=5)
    try:
        store = deps.followups().store
        people = [donor_id_for(f"seat.{uuid.uuid4().hex[:10]}@example.org") for _ in range(23)]
        store.record_invitations([
            Invitation(invitation_id_for(p, action["action_id"]), p, action["action_id"], "invited",
                       now(), "test#seats") for p in people])
        links_ = [deps.tokens().issue(tokens.RSVP, invitation_id_for(p, action["action_id"]))
                  for p in people]

        def rsvp(token: str) -> tuple[int, str]:
            # An answer is idempotent, so a client may repeat it when `chalice local` (a small
            # threaded server) drops a connection under the burst.
            for attempt in range(3):
                try:
                    response = requests.post(f"{live_server}/api/invitations/{token}/rsvp",
                                             json={"response": "yes"}, timeout=30)
                    break
                except requests.ConnectionError:
                    if attempt == 2:
                        raise
            body = response.json()
            return response.status_code, body.get("status") or body["error"]["code"]

        for token in links_[:3]:  # three seats go first
            assert rsvp(token) == (200, "yes")
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(rsvp, links_[3:]))
        assert sorted(answers).count((200, "yes")) == 2, answers
        assert sorted(answers).count((409, "full")) == 18, answers
        detail = requests.get(f"{live_server}/api/admin/actions/{action['action_id']}",
                              headers=staff(ORGANIZER_KEY), timeout=10).json()
        assert (detail["seats_taken"], detail["seats_left"], detail["rsvps"]["yes"]) == (5, 0, 5)
    finally:
        close_action(live_server, action["action_id"])


def test_unsubscribe_over_http_stops_the_reminder(live_server: str, local_stack, mailbox) -> None:
    action = create_action(live_server, title="Phone bank night")
    try:
        page = page_body()
        requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY), timeout=10)
        donor = f"live.{uuid.uuid4().hex[:10]}@example.org"
        started = requests.post(f"{live_server}/api/pages/{page['slug']}/donations",
                                json=donation_body(2700, email=donor), timeout=10).json()
        client = standin(local_stack)
        client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                          params={"payment_method": "pm_card_visa"})
        wait_for(lambda: outbox_item(f"thanks#{started['donation_id']}"), timeout=10)
        worker_drains_until(lambda: sent_to(mailbox, donor))
        (message,) = sent_to(mailbox, donor)
        one_click = message["List-Unsubscribe"].strip("<>")
        path = one_click[one_click.index("/api/unsubscribe/"):]
        answer = requests.post(live_server + path, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"unsubscribed": True}
        drain_at(now() + timedelta(days=2, minutes=5))
        item = outbox_item(f"reminder#{started['donation_id']}")
        assert (item.status, item.last_error) == ("failed", "unsubscribed")
        assert len(sent_to(mailbox, donor)) == 1
        assert token_of(path)
    finally:
        close_action(live_server, action["action_id"])
