"""Signals of prohibited money, through the stand-in: the card Stripe charged (its issuing
country, its fingerprint) arrives in the signed `charge.succeeded`, puts the contribution in the
review queue, and finance accepts or refunds it (once, through the outbox); nothing is refunded
by a signal itself."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import pytest
import stripe

from chalicelib import deps
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, donation_body, staff

pytestmark = pytest.mark.stack


def standin(local_stack: dict[str, Any]) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})


def campaign(api: Any) -> tuple[str, str]:
    cid = "C" + "".join(random.choices("0123456789", k=8))
    return api.create_page(committee_id=cid)["slug"], cid


def give(api: Any, slug: str, first: str = "Ana", last: str = "Rivera",
         cents: int = 5_000) -> dict[str, Any]:
    body = donation_body(cents, email=f"rv.{uuid.uuid4().hex[:10]}@example.org")
    body["donor"].update(first_name=first, last_name=last)
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    return dict(started)


def charged(api: Any, local_stack: dict[str, Any], started: dict[str, Any], card: str) -> dict[str, Any]:
    """Pay at the stand-in with `card` and deliver its signed events (the success, then the
    charge's own, as Stripe may send them in any order); returns the charge event."""
    from tests.conftest import deliver_webhooks_to

    deliver_webhooks_to(local_stack, None)  # the stand-in records events; this test delivers them
    client = standin(local_stack)
    intent = started["client_secret"].split("_secret_")[0]
    client.v1.payment_intents.confirm(intent, params={"payment_method": card})
    found = {}
    for kind, field in (("payment_intent.succeeded", "id"), ("charge.succeeded", "payment_intent")):
        events = client.v1.events.list(params={"type": kind, "limit": 100})
        (event,) = [e for e in events.data if e.data.object[field] == intent]
        found[kind] = event.to_dict()
    assert api.webhook(found["payment_intent.succeeded"])[1]["outcome"] == "applied"
    return found["charge.succeeded"]


def queue(api: Any) -> dict[str, dict[str, Any]]:
    reviews: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        path = "/api/admin/reviews?limit=100" + (f"&after={after}" if after else "")
        status, body = api.call("GET", path, headers=staff(FINANCE_KEY))
        assert status == 200, body
        reviews.update({r["donation_id"]: r for r in body["reviews"]})
        after = body["after"]
        if not after:
            return reviews


def test_a_foreign_card_on_a_us_address_is_queued_once_and_a_us_card_is_not(api, local_stack) -> None:
    slug, _ = campaign(api)
    foreign, domestic = give(api, slug), give(api, slug)
    event = charged(api, local_stack, foreign, "pm_card_ca")
    assert api.webhook(event)[1]["outcome"] == "applied"
    assert api.webhook(event)[1]["outcome"] == "duplicate"
    assert api.webhook(charged(api, local_stack, domestic, "pm_card_visa"))[1]["outcome"] == "applied"
    found = queue(api)
    review = found[foreign["donation_id"]]
    assert review["signals"] == [{"signal": "foreign_card", "card_country": "CA"}]
    assert (review["card_country"], review["review_status"], review["status"]) == ("CA", "open", "succeeded")
    assert domestic["donation_id"] not in found
    not_refunded(api, foreign["donation_id"])


def not_refunded(api: Any, donation_id: str) -> None:
    """A signal only queues the gift for a person: the outbox drained, nothing is refunded."""
    from tests.followups_kit import outbox_item

    deps.dispatcher().drain(limit=500)
    assert api.donation(donation_id)["refunded_cents"] == 0
    assert all(outbox_item(f"{kind}#{donation_id}") is None
               for kind in ("refund_review", "refund_excess", "refund_forgone"))


def test_one_card_for_donors_of_different_names_queues_the_later_gift(api, local_stack) -> None:
    slug, _ = campaign(api)
    ana, ana_again, bo = give(api, slug), give(api, slug, "ANA", "Rivera"), give(api, slug, "Bo", "Chen")
    for started in (ana, ana_again, bo):  # one card (pm_card_mastercard: one fingerprint)
        event = charged(api, local_stack, started, "pm_card_mastercard")
        assert api.webhook(event)[1]["outcome"] == "applied"
    found = queue(api)
    assert found[bo["donation_id"]]["signals"] == [{"signal": "shared_card",
                                                   "other_donation_id": ana["donation_id"]}]
    assert ana["donation_id"] not in found and ana_again["donation_id"] not in found
    not_refunded(api, bo["donation_id"])


def test_the_card_check_costs_two_dynamodb_requests_and_a_duplicate_one(api, local_stack) -> None:
    from tests.dynamo_counter import dynamodb_requests

    slug, cid = campaign(api)
    event = charged(api, local_stack, give(api, slug), "pm_card_amex")
    deps.committees().get(cid)  # the committee as the webhook's container caches it
    with dynamodb_requests() as first:
        assert api.webhook(event)[1]["outcome"] == "applied"
    assert sum(first.values()) <= 2, first
    with dynamodb_requests() as again:
        assert api.webhook(event)[1]["outcome"] == "duplicate"
    assert sum(again.values()) <= 2, again


def test_finance_accepts_or_refunds_once(api, local_stack) -> None:
    slug, _ = campaign(api)
    kept, returned = give(api, slug), give(api, slug, cents=7_500)
    for started in (kept, returned):
        api.webhook(charged(api, local_stack, started, "pm_card_mx"))
    assert {kept["donation_id"], returned["donation_id"]} <= set(queue(api))

    status, body = api.call("POST", f"/api/admin/reviews/{kept['donation_id']}", {"decision": "accept"},
                            staff(FINANCE_KEY))
    assert status == 200 and body["review_status"] == "accepted", body
    status, body = api.call("POST", f"/api/admin/reviews/{kept['donation_id']}", {"decision": "refund"},
                            staff(FINANCE_KEY))
    assert status == 409 and body["error"]["code"] == "review_decided"

    status, body = api.call("POST", f"/api/admin/reviews/{returned['donation_id']}", {"decision": "refund"},
                            staff(FINANCE_KEY))
    assert status == 200 and body["review_status"] == "refunded", body
    assert api.call("POST", f"/api/admin/reviews/{returned['donation_id']}", {"decision": "refund"},
                    staff(FINANCE_KEY))[0] == 409
    message = drain_until(delivered(f"refund_review#{returned['donation_id']}"))
    assert message.status == "sent", (message.status, message.last_error)
    client = standin(local_stack)
    intent = returned["client_secret"].split("_secret_")[0]
    deps.dispatcher().drain(limit=500)  # a second drain refunds nothing more
    events = client.v1.events.list(params={"type": "charge.refunded", "limit": 100}).data
    (refunded,) = [e for e in events if e.data.object["payment_intent"] == intent]  # one refund
    assert refunded.data.object["amount_refunded"] == 7_500
    assert api.webhook(refunded.to_dict())[1]["outcome"] == "applied"
    assert api.donation(returned["donation_id"])["status"] == "refunded"
    assert api.donation(kept["donation_id"])["status"] == "succeeded"
    found = queue(api)
    assert kept["donation_id"] not in found and returned["donation_id"] not in found


@pytest.mark.parametrize("body", [{"decision": "maybe"}, {"decision": "accept", "note": "x"}, [], None])
def test_a_bad_decision_is_refused_and_changes_nothing(api, local_stack, body: Any) -> None:
    slug, _ = campaign(api)
    started = give(api, slug)
    api.webhook(charged(api, local_stack, started, "pm_card_br"))
    status, error = api.call("POST", f"/api/admin/reviews/{started['donation_id']}", body, staff(FINANCE_KEY))
    assert status == 400 and error["error"]["code"] in ("invalid_request", "invalid_json"), error
    assert queue(api)[started["donation_id"]]["review_status"] == "open"


def test_only_finance_and_admin_see_the_queue(api) -> None:
    assert api.call("GET", "/api/admin/reviews")[0] == 401
    assert api.call("GET", "/api/admin/reviews", headers=staff(ORGANIZER_KEY))[0] == 403
    status, _ = api.call("POST", "/api/admin/reviews/don_x", {"decision": "accept"}, staff(ORGANIZER_KEY))
    assert status == 403
    status, error = api.call("POST", "/api/admin/reviews/don_nope", {"decision": "accept"},
                             staff(FINANCE_KEY))
    assert status == 404 and error["error"]["code"] == "review_not_found"


def test_the_console_lists_the_queue_and_decides_with_its_buttons(api, client, local_stack) -> None:
    from tests.console_kit import Console, staff_key, text

    slug, _ = campaign(api)
    flagged = give(api, slug)
    api.webhook(charged(api, local_stack, flagged, "pm_card_br"))
    desk = Console(client)
    assert desk.sign_in_with_key(staff_key("finance")).status_code == 303
    # The queue is oldest first and paged: follow it to this gift, as finance would (the suite's
    # other gifts share the stand-in's test cards, so the queue holds many).
    path, html = "/admin/reviews", ""
    while flagged["donation_id"] not in html:
        page = desk.get(path)
        assert page.status_code == 200
        html = text(page)
        more = re.search(r'href="(/admin/reviews\?after=[^"]+)"', html)
        if flagged["donation_id"] not in html:
            assert more, "the flagged gift is on no page of the queue"
            path = more[1].replace("&amp;", "&")
    row = html[html.index(flagged["donation_id"]):]
    assert "Card issued in BR" in row[:row.index("</tr>")]
    action = f"/admin/reviews/{flagged['donation_id']}"
    forged = desk.post(action, {"decision": "accept"}, csrf="not-the-token")
    assert forged.status_code == 403 and queue(api)[flagged["donation_id"]]["review_status"] == "open"
    done = desk.submit("/admin/reviews", action, {"decision": "accept"})
    assert done.status_code == 303 and done.headers["Location"].startswith("/admin/reviews")
    assert flagged["donation_id"] not in queue(api)
    again = desk.submit("/admin/reviews", action, {"decision": "refund"})
    assert again.status_code == 409 and "decided" in text(again)
    assert api.donation(flagged["donation_id"])["status"] == "succeeded"


def test_a_gift_whose_attestations_changed_after_a_refusal_is_queued(api, local_stack) -> None:
    slug, _ = campaign(api)
    body = donation_body(5_000, email=f"rv.{uuid.uuid4().hex[:10]}@example.org")
    body["attestations"]["us_citizen_or_permanent_resident"] = False
    status, refused = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 400 and "attestations.us_citizen_or_permanent_resident" in refused["error"]["fields"]
    note = refused["error"]["attestations_refused"]
    before = set(queue(api))

    body["attestations"]["us_citizen_or_permanent_resident"] = True
    body["attestations_refused"] = note  # as the page sends it back
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    assert set(queue(api)) - before == {started["donation_id"]}  # the refusal itself wrote nothing
    review = queue(api)[started["donation_id"]]
    assert review["signals"] == [{"signal": "attestations_changed",
                                  "refused": "us_citizen_or_permanent_resident"}]
    assert review["status"] == "pending"
    api.webhook(charged(api, local_stack, started, "pm_card_visa"))
    assert queue(api)[started["donation_id"]]["status"] == "succeeded"
    not_refunded(api, started["donation_id"])

    tampered = donation_body(2_000, email=f"rv.{uuid.uuid4().hex[:10]}@example.org")
    tampered["attestations_refused"] = note[:-3] + "abc"
    status, other = api.call("POST", f"/api/pages/{slug}/donations", tampered)
    assert status == 201
    assert queue(api)[other["donation_id"]]["signals"] == [{"signal": "attestations_changed",
                                                            "refused": "unknown"}]
    plain = give(api, slug)
    assert plain["donation_id"] not in queue(api)
