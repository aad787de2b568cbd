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

from tests.followups_kit import action_body, drain_at, fresh_zip, invite, now, outbox_item
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


def _answer(server: str, token: str, response: str) -> tuple[int, dict[str, Any]]:
    # An answer is idempotent, so a client may repeat it when `chalice local` (a small threaded
    # server) drops a connection under the burst.
    for attempt in range(3):
        try:
            answer = requests.post(f"{server}/api/invitations/{token}/rsvp",
                                   json={"response": response}, timeout=30)
            return answer.status_code, answer.json()
        except requests.ConnectionError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _seats(server: str, action_id: str) -> dict[str, Any]:
    return requests.get(f"{server}/api/admin/actions/{action_id}", headers=staff(ORGANIZER_KEY),
                        timeout=10).json()


def test_capacity_holds_under_20_concurrent_rsvps_for_the_last_seats(live_server: str, local_stack) -> None:
    action = create_action(live_server, title="Small house meeting", capacity=5)
    try:
        tokens_ = [t for _, t in invite(action["action_id"], 23, "seat")]
        for token in tokens_[:3]:  # three seats go first
            assert _answer(live_server, token, "yes")[1]["status"] == "yes"
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda t: _answer(live_server, t, "yes"), tokens_[3:]))
        statuses = [(code, body["status"]) for code, body in answers]
        assert statuses.count((200, "yes")) == 2 and statuses.count((200, "waitlisted")) == 18, answers
        # A position is the line as it stood at the answer; once the burst is over, asking again
        # shows each person their own place.
        line = [t for t, (_, b) in zip(tokens_[3:], answers, strict=True) if b["status"] == "waitlisted"]
        assert sorted(_answer(live_server, t, "yes")[1]["position"] for t in line) == list(range(1, 19))
        detail = _seats(live_server, action["action_id"])
        assert (detail["seats_taken"], detail["seats_left"], detail["rsvps"]["yes"]) == (5, 0, 5)
        assert (detail["waiting"], detail["rsvps"]["waitlisted"]) == (18, 18)
    finally:
        close_action(live_server, action["action_id"])


def test_20_concurrent_cancellations_and_joins_never_seat_past_capacity_and_tell_each_seated_once(
        live_server: str, local_stack, mailbox) -> None:
    action = create_action(live_server, title=f"Porch rally {uuid.uuid4().hex[:4]}", capacity=5)
    try:
        seated = invite(action["action_id"], 5, "held")
        waiting = invite(action["action_id"], 5, "line")
        joining = invite(action["action_id"], 15, "late")
        for _, token in seated:
            assert _answer(live_server, token, "yes")[1]["status"] == "yes"
        for n, (_, token) in enumerate(waiting, 1):
            assert _answer(live_server, token, "yes")[1]["position"] == n

        burst = [(t, "cancel") for _, t in seated] + [(t, "yes") for _, t in joining]
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda job: _answer(live_server, *job), burst))
        assert [b["status"] for _, b in answers[:5]] == ["cancelled"] * 5, answers
        # The five who waited were ahead of every newcomer: they get the five seats freed.
        assert [b["status"] for _, b in answers[5:]] == ["waitlisted"] * 15, answers
        assert sorted(_answer(live_server, t, "yes")[1]["position"] for _, t in joining) == list(range(1, 16))
        detail = _seats(live_server, action["action_id"])
        counts = detail["rsvps"]
        assert (detail["seats_taken"], counts["yes"], counts["cancelled"]) == (5, 5, 5)
        assert (detail["waiting"], counts["waitlisted"]) == (15, 15)
        for _, token in waiting:
            assert _answer(live_server, token, "yes")[1]["status"] == "yes"

        subject = f"A seat opened up: {action['title']}"
        worker_drains_until(lambda: all(sent_to(mailbox, email) for email, _ in waiting), timeout=60)
        drain_at(now())  # and once more: nothing is told twice
        for email, _ in waiting:
            assert [m["Subject"] for m in sent_to(mailbox, email)] == [subject]
        for email, _ in seated + joining:
            assert not [m for m in sent_to(mailbox, email) if m["Subject"] == subject]
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
