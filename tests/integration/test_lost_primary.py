"""A lost primary through the running stack: gifts paid at the stand-in for the general, the
status set to `lost_primary` (twice), the queues drained twice: one refund per general gift at
the stand-in, none for a held election's debts, and the general page takes no more gifts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from chalicelib import deps
from tests.followups_kit import delivered, drain_until
from tests.helpers import ElectionCalendar, donation_body
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("lost_primary")) as folder:
        yield folder


def standin(local_stack: dict[str, Any]) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})


def paid_gift(api: Any, local_stack: dict[str, Any], slug: str, election: str,
              cents: int) -> tuple[str, str]:
    """A gift designated for `election`, paid at the stand-in, its signed success delivered;
    returns its PaymentIntent id and its donor's email."""
    from tests.conftest import deliver_webhooks_to

    email = f"lost.{uuid.uuid4().hex[:10]}@example.org"
    body = donation_body(cents, email=email)
    body["election"] = election
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    deliver_webhooks_to(local_stack, None)  # the stand-in records events; this test delivers them
    return pay(api, local_stack, started), email


def pay(api: Any, local_stack: dict[str, Any], started: dict[str, Any]) -> str:
    """Confirm a started gift at the stand-in and deliver its signed success; its intent's id."""
    client = standin(local_stack)
    intent = started["client_secret"].split("_secret_")[0]
    client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})
    (event,) = [e for e in client.v1.events.list(params={"type": "payment_intent.succeeded",
                                                         "limit": 100}).data
                if e.data.object["id"] == intent]
    assert api.webhook(event.to_dict())[1]["outcome"] == "applied"
    return intent


def refunded_once(mailbox: Path, local_stack: dict[str, Any], intent: str, cents: int, email: str,
                  why: str) -> None:
    """The outbox drained twice: one refund of `cents` for `intent` at the stand-in, and the
    donor's one notice saying `why`."""
    deps.dispatcher().drain(limit=500)
    deps.dispatcher().drain(limit=500)
    events = standin(local_stack).v1.events.list(params={"type": "charge.refunded", "limit": 100}).data
    (one,) = [e.data.object for e in events if e.data.object["payment_intent"] == intent]
    assert one["amount_refunded"] == cents
    (notice,) = [m for m in sent_to(mailbox, email) if "refunded" in m["Subject"]]
    assert why in text_of(notice)


def test_a_lost_primary_refunds_each_general_gift_once(api, local_stack, mailbox: Path) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.general, [calendar.primary, calendar.general])
    general = [paid_gift(api, local_stack, slug, calendar.general, cents) for cents in (2_700, 4_100)]
    debts = calendar.page(calendar.held)  # gifts toward a held election's debts are kept
    kept, kept_email = paid_gift(api, local_stack, debts, calendar.held, 3_300)

    lost = calendar.configure(status="lost_primary")
    assert calendar.configure(status="lost_primary")["status_date"] == lost["status_date"]  # again
    job = f"forgo_elections#{calendar.committee_id}#lost_primary#{lost['status_date']}"
    assert drain_until(delivered(job)).status == "sent"
    deps.dispatcher().drain(limit=500)
    deps.dispatcher().drain(limit=500)  # a second run refunds nothing more

    events = standin(local_stack).v1.events.list(params={"type": "charge.refunded", "limit": 100}).data
    refunded = [e.data.object for e in events]
    for (intent, email), cents in zip(general, (2_700, 4_100), strict=True):
        (one,) = [c for c in refunded if c["payment_intent"] == intent]
        assert one["amount_refunded"] == cents
        (notice,) = [m for m in sent_to(mailbox, email) if "refunded" in m["Subject"]]
        assert "lost the primary election" in text_of(notice)
        assert f"your ${cents // 100} contribution" in text_of(notice)
    assert not [m for m in sent_to(mailbox, kept_email) if "refunded" in m["Subject"]]
    assert not [c for c in refunded if c["payment_intent"] == kept]

    body = donation_body(2_700, email=f"lost.{uuid.uuid4().hex[:10]}@example.org")
    status, answer = api.call("POST", f"/api/pages/{slug}/donations", {**body, "election": calendar.general})
    # Its elections (the primary is dated after the day it was lost, too) are all forgone: closed.
    assert status == 409 and answer["error"]["code"] == "page_closed", answer


def test_a_lost_primary_ends_monthly_plans_for_the_general(api, stripe_api, local_stack,
                                                            mailbox: Path) -> None:
    from tests.integration.test_renewal_mail import monthly_gift

    calendar = ElectionCalendar(api)
    email, donation, client = monthly_gift(api, stripe_api, local_stack, calendar.page(calendar.general))
    lost = calendar.configure(status="lost_primary")
    drain_until(delivered(f"forgo_elections#{calendar.committee_id}#lost_primary#{lost['status_date']}"))
    subscription = donation["subscription_id"]
    assert drain_until(delivered(f"end_plan_forgone#{subscription}")).status == "sent"
    drain_until(delivered(f"plan_ended#{subscription}"))
    deps.dispatcher().drain(limit=500)
    assert client.v1.subscriptions.retrieve(subscription).status == "canceled"
    (ended,) = [m for m in sent_to(mailbox, email) if "has ended" in m["Subject"]]
    assert "no longer in the race" in text_of(ended)


def test_a_withdrawal_refunds_the_gifts_for_later_elections_once(api, local_stack, mailbox: Path) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    intent, email = paid_gift(api, local_stack, slug, calendar.general, 5_000)
    out = calendar.configure(status="withdrawn")
    drain_until(delivered(f"forgo_elections#{calendar.committee_id}#withdrawn#{out['status_date']}"))
    refunded_once(mailbox, local_stack, intent, 5_000, email, "withdrew from the race")


def test_a_lost_primary_closes_the_general_pages_and_narrows_the_others(api, local_stack) -> None:
    from datetime import datetime, timezone

    from chalicelib.compliance.withdrawal import FORGO_JOB
    from chalicelib.outbox.model import OutboxMessage
    from chalicelib.storage.models import PageModel

    calendar = ElectionCalendar(api)  # a held election with debts, a primary and a general ahead
    general = calendar.page(calendar.general)
    both = calendar.page(calendar.general, [calendar.held, calendar.general])
    debts = calendar.page(calendar.held)
    lost = calendar.configure(status="lost_primary")  # today: the primary and the general forgone
    job = f"forgo_elections#{calendar.committee_id}#lost_primary#{lost['status_date']}"
    assert drain_until(delivered(job)).status == "sent"

    status, view = api.call("GET", f"/api/pages/{general}")
    assert status == 200 and view["status"] == "closed" and view["closed_reason"] == "election_forgone"
    html = api.client.http.get(f"/donate/{general}").body.decode()
    assert "The candidate is no longer running in this election; no new gifts are taken." in html
    assert 'id="donate"' not in html  # no form
    body = donation_body(2_700, email=f"lost.{uuid.uuid4().hex[:10]}@example.org")
    status, answer = api.call("POST", f"/api/pages/{general}/donations", body)
    assert status == 409 and answer["error"]["code"] == "page_closed", answer
    assert "no longer running" in answer["error"]["message"]

    status, view = api.call("GET", f"/api/pages/{both}")  # open for the held election's debts only
    assert view["status"] == "open" and view["closed_reason"] is None
    assert view["elections"] == [calendar.held] and view["election"] == calendar.held
    status, _ = api.call("POST", f"/api/pages/{both}/donations",
                         {**donation_body(1_000, email=f"lost.{uuid.uuid4().hex[:10]}@example.org"),
                          "election": calendar.held})
    assert status == 201
    status, view = api.call("GET", f"/api/pages/{debts}")
    assert view["status"] == "open" and view["elections"] == [calendar.held]

    versions = {slug: PageModel.get(slug, consistent_read=True).version for slug in (general, both, debts)}
    again = OutboxMessage(job, FORGO_JOB, datetime.now(timezone.utc), {"committee_id": calendar.committee_id})
    assert deps.outbox_handlers()[FORGO_JOB](again).result.endswith("0 pages changed")  # run again
    assert {slug: PageModel.get(slug, consistent_read=True).version
            for slug in (general, both, debts)} == versions


def test_a_lost_primary_job_out_of_time_resumes_and_refunds_each_gift_once(api, local_stack,
                                                                          mailbox: Path) -> None:
    """A budget that stops the job midway (a timer moving a second each read, a one-second
    budget: one page, or one instant of the ledger, a part): its continuations, queued through
    the outbox, finish the pages and the refunds; delivered twice and the job run again, each
    general gift is refunded once at the stand-in."""
    from datetime import datetime, timedelta, timezone

    from chalicelib.compliance.withdrawal import FORGO_JOB, forgo_handler
    from chalicelib.outbox.dispatcher import Dispatcher
    from chalicelib.outbox.model import OutboxMessage
    from chalicelib.storage.exports import MovementLedger
    from tests.unit.test_withdrawal import Ticks

    calendar = ElectionCalendar(api)
    slugs = [calendar.page(calendar.general) for _ in range(3)]
    amounts = (1_100, 1_200, 1_300, 1_400)
    general = [paid_gift(api, local_stack, slugs[n % 3], calendar.general, cents)
               for n, cents in enumerate(amounts)]

    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    budgeted = forgo_handler(deps.committees(), MovementLedger(deps.settings().ledger_shards),
                             deps.donation_store(), deps.outbox_store(), clock, deps.page_store(),
                             budget=timedelta(seconds=1), timer=Ticks())
    parts: list[tuple[OutboxMessage, str]] = []

    def part(message: OutboxMessage) -> Any:
        delivered = budgeted(message)
        parts.append((message, delivered.result))
        return delivered

    drain = Dispatcher(deps.outbox_store(), {**deps.outbox_handlers(), FORGO_JOB: part}, clock)
    lost = calendar.configure(status="lost_primary")
    job = f"forgo_elections#{calendar.committee_id}#lost_primary#{lost['status_date']}"
    for _ in range(40):
        drain.drain(limit=500)
        mine = [(m, r) for m, r in parts if m.payload["committee_id"] == calendar.committee_id]
        if mine and "continues as" not in mine[-1][1]:
            break
    assert mine[0][0].message_id == job and "continues as" in mine[0][1]  # stopped midway
    assert len(mine) >= len(slugs) and all(m.message_id.startswith(f"{job}@") for m, _ in mine[1:])
    assert "continues as" not in mine[-1][1]

    for slug in slugs:  # every page closed, across the parts
        _, view = api.call("GET", f"/api/pages/{slug}")
        assert view["closed_reason"] == "election_forgone", (slug, mine)
    deps.dispatcher().drain(limit=500)
    deps.dispatcher().drain(limit=500)  # refunds delivered twice
    again = OutboxMessage(job, FORGO_JOB, clock(), {"committee_id": calendar.committee_id})
    deps.outbox_handlers()[FORGO_JOB](again)  # the whole job once more: nothing new
    deps.dispatcher().drain(limit=500)

    events = standin(local_stack).v1.events.list(params={"type": "charge.refunded", "limit": 100}).data
    for (intent, email), cents in zip(general, amounts, strict=True):
        (one,) = [e.data.object for e in events if e.data.object["payment_intent"] == intent]
        assert one["amount_refunded"] == cents
        (notice,) = [m for m in sent_to(mailbox, email) if "refunded" in m["Subject"]]
        assert "lost the primary election" in text_of(notice)


def test_a_committees_pages_are_read_from_its_index_never_a_scan(local_stack, monkeypatch) -> None:
    """`committee_pages` queries the pages table's `by-committee` index: one committee's pages,
    in slug order, from a resume point; the table is never scanned (a Scan here fails)."""
    from chalicelib.storage.models import PageModel
    from tests.giving_twins import page

    committee, other = (f"C{uuid.uuid4().int % 10**8:08d}" for _ in range(2))
    tag = uuid.uuid4().hex[:8]
    store = deps.page_store()
    for n in (2, 0, 1):
        store.create(page(f"idx-{tag}-{n}", committee_id=committee))
    store.create(page(f"idx-{tag}-other", committee_id=other))

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pages table was scanned")

    monkeypatch.setattr(PageModel, "scan", no_scan)
    mine = [f"idx-{tag}-{n}" for n in range(3)]
    assert [p.slug for p in store.committee_pages(committee)] == mine
    assert [p.slug for p in store.committee_pages(committee, after=mine[0])] == mine[1:]
    assert [p.slug for p in store.committee_pages(committee, page_size=1)] == mine  # across pages
    assert [p.committee_id for p in store.committee_pages(other)] == [other]


def test_a_general_gift_paid_after_the_job_ran_is_refunded_once(api, local_stack, mailbox: Path) -> None:
    """Started before the status was set, confirmed after the job read the ledger: its signed
    success queues its refund and the notice; the webhook delivered twice, one refund."""
    from tests.conftest import deliver_webhooks_to

    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.general)
    email = f"lost.{uuid.uuid4().hex[:10]}@example.org"
    status, started = api.call("POST", f"/api/pages/{slug}/donations",
                               {**donation_body(3_100, email=email), "election": calendar.general})
    assert status == 201, started
    deliver_webhooks_to(local_stack, None)
    lost = calendar.configure(status="lost_primary")
    drain_until(delivered(f"forgo_elections#{calendar.committee_id}#lost_primary#{lost['status_date']}"))
    intent = pay(api, local_stack, started)
    (event,) = [e for e in standin(local_stack).v1.events.list(
        params={"type": "payment_intent.succeeded", "limit": 100}).data if e.data.object["id"] == intent]
    assert api.webhook(event.to_dict())[1]["outcome"] == "duplicate"  # delivered twice
    refunded_once(mailbox, local_stack, intent, 3_100, email, "lost the primary election")
