"""DynamoDB failing under the webhook and intake: botocore's standard retry mode absorbs what it
may, and what is left answers 503 `try_again` with nothing written, so Stripe (or the donor)
retries; never a 2xx with nothing written, never a bare 500. Faults are injected through
botocore's `before-send` hook on the app's own clients (devtools/chaos.py): the request never
reaches moto."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chalicelib.storage.models import DonationModel, ProcessedEventModel
from devtools.chaos import AwsFaults, dynamodb_clients
from tests.helpers import stripe_event

pytestmark = pytest.mark.stack


@contextmanager
def faults(**kwargs) -> Iterator[AwsFaults]:
    injector = AwsFaults(**kwargs)
    injector.install()
    try:
        yield injector
    finally:
        injector.uninstall()


def succeeded(started: dict) -> dict:
    return stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                        amount=started["amount_cents"], amount_received=started["amount_cents"],
                        metadata={"donation_id": started["donation_id"]})


def totals(api, slug: str) -> tuple[int, int]:
    page = api.public(slug)
    return page["raised_cents"], page["contribution_count"]


def test_pynamodb_clients_use_botocores_standard_retry_mode_with_bounded_attempts(api) -> None:
    api.public(api.create_page()["slug"])  # opens the app's connections
    configs = {(c.meta.config.retries["mode"], c.meta.config.retries["total_max_attempts"])
               for c in dynamodb_clients()}
    assert configs == {("standard", 4)}


@pytest.mark.parametrize("kind", ["throttled", "timeout", "conflict"])
def test_a_webhook_whose_transaction_cannot_commit_answers_503_and_writes_nothing(api, kind) -> None:
    page = api.create_page()
    started = api.donate(page["slug"])
    event = succeeded(started)
    with faults(rate=1.0, operations={"TransactWriteItems"}, kinds=(kind,)) as injected:
        status, body = api.webhook(event)
    assert status == 503 and body["error"]["code"] == "try_again", body
    # botocore retried throttling and timeouts itself (4 attempts); a conflict is retried by the
    # service (re-read, recompute, commit again), 5 times.
    assert injected.requests["TransactWriteItems"] in ((4,) if kind != "conflict" else (5,))
    assert api.donation(started["donation_id"])["status"] == "pending"
    assert totals(api, page["slug"]) == (0, 0)
    with pytest.raises(ProcessedEventModel.DoesNotExist):
        ProcessedEventModel.get(event["id"])
    # Stripe delivers again, storage is back: applied once.
    status, body = api.webhook(event)
    assert (status, body["outcome"]) == (200, "applied")
    assert totals(api, page["slug"]) == (2700, 1)


def test_a_throttle_that_passes_is_absorbed_by_botocores_retries(api) -> None:
    page = api.create_page()
    started = api.donate(page["slug"])
    with faults(rate=1.0, operations={"TransactWriteItems"}, kinds=("throttled",), limit=2) as injected:
        status, body = api.webhook(succeeded(started))
    assert (status, body["outcome"]) == (200, "applied")
    assert injected.requests["TransactWriteItems"] == 3  # two throttled, the third committed
    assert totals(api, page["slug"]) == (2700, 1)


def test_intake_under_a_storage_outage_answers_503_in_the_error_format(api) -> None:
    from tests.helpers import donation_body

    page = api.create_page()
    body = donation_body()
    before = DonationModel.count()
    with faults(rate=1.0, operations={"TransactWriteItems"}, kinds=("timeout",)):
        status, answer = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
    assert status == 503 and answer["error"]["code"] == "try_again"
    assert DonationModel.count() == before
    status, answer = api.call("POST", f"/api/pages/{page['slug']}/donations", body)  # the retry
    assert status == 201


def test_a_send_whose_sending_mark_lost_its_answer_still_begins_once(local_stack) -> None:
    """botocore resends a write whose answer timed out; `begin_send` must read its own write
    as its own (not as another send in progress, which would leave the email unsent)."""
    import uuid
    from datetime import datetime, timezone

    from chalicelib import deps
    from chalicelib.storage.followups import FollowupRepository

    repo = FollowupRepository(deps.settings().region, deps.outbox_store())
    message_id = f"thanks#{uuid.uuid4().hex}"
    now = datetime.now(timezone.utc)
    with faults(rate=0.0, lost_answer_rate=1.0, operations={"UpdateItem"}, limit=1) as injected:
        assert repo.begin_send(message_id, "thanks", "per_x", now) is True
    assert injected.injected[("UpdateItem", "lost answer")] == 1  # applied, then resent
    assert repo.begin_send(message_id, "thanks", "per_x", now) is False  # a second send does not begin


def test_a_sending_mark_whose_retries_all_fail_is_taken_back(local_stack) -> None:
    """The mark is applied but every answer is lost (botocore out of retries): nothing was
    sent, so the mark is taken back and the next attempt sends, instead of ending unsent."""
    import uuid
    from datetime import datetime, timezone

    from botocore.exceptions import ReadTimeoutError
    from pynamodb.exceptions import UpdateError

    from chalicelib import deps
    from chalicelib.storage.followups import FollowupRepository
    from chalicelib.storage.models import MailModel

    repo = FollowupRepository(deps.settings().region, deps.outbox_store())
    message_id = f"thanks#{uuid.uuid4().hex}"
    client = MailModel._get_connection().connection.client
    calls: list[str] = []

    def answers_lost(request, **_):  # type: ignore[no-untyped-def]
        calls.append("update")
        if len(calls) == 1:
            client._endpoint.http_session.send(request)  # applied by the server
        if len(calls) <= 4:  # botocore's four attempts all time out
            raise ReadTimeoutError(endpoint_url=request.url)
        return None

    client.meta.events.register("before-send.dynamodb.UpdateItem", answers_lost, unique_id="lost-all")
    try:
        with pytest.raises(UpdateError):
            repo.begin_send(message_id, "thanks", "per_x", datetime.now(timezone.utc))
    finally:
        client.meta.events.unregister("before-send.dynamodb.UpdateItem", unique_id="lost-all")
    assert len(calls) == 5 and repo.mail_record(message_id).state == "not_sent"  # type: ignore[union-attr]
    assert repo.begin_send(message_id, "thanks", "per_x", datetime.now(timezone.utc)) is True


def test_a_refused_send_is_marked_unsent_even_when_storage_fails_once_more(local_stack) -> None:
    """SES (or the send budget) refused, so nothing was sent; marking that (`abandon_send`) fails
    through all of botocore's attempts once. It is tried again: left `sending`, the message would
    read as perhaps sent and never be sent (the chaos run found this)."""
    import uuid
    from datetime import datetime, timezone

    from botocore.exceptions import ReadTimeoutError

    from chalicelib import deps
    from chalicelib.storage.followups import FollowupRepository
    from chalicelib.storage.models import MailModel

    repo = FollowupRepository(deps.settings().region, deps.outbox_store())
    message_id = f"thanks#{uuid.uuid4().hex}"
    assert repo.begin_send(message_id, "thanks", "per_x", datetime.now(timezone.utc)) is True
    client = MailModel._get_connection().connection.client
    calls: list[str] = []

    def unreachable(request, **_):  # type: ignore[no-untyped-def]
        calls.append("update")
        if len(calls) <= 4:  # botocore's four attempts of the first write all time out, unsent
            raise ReadTimeoutError(endpoint_url=request.url)
        return None

    client.meta.events.register("before-send.dynamodb.UpdateItem", unreachable, unique_id="unsend")
    try:
        repo.abandon_send(message_id, "SendRefused")
    finally:
        client.meta.events.unregister("before-send.dynamodb.UpdateItem", unique_id="unsend")
    assert len(calls) == 5 and repo.mail_record(message_id).state == "not_sent"  # type: ignore[union-attr]
    assert repo.begin_send(message_id, "thanks", "per_x", datetime.now(timezone.utc)) is True
