"""The drain fanned out (issue 18), over real connections: the schedule's requests, one per
`due` shard, drained by concurrent shard workers (two per shard, as when a slow run overlaps the
next minute's) deliver every message exactly once, checked against the send ledger and against
what moto's SES accepted; a message delivered again sends no second email; a worker stops
within its time budget and leaves the rest due."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib import deps
from chalicelib.followups.input import SignupRequest
from chalicelib.giving.model import donor_id_for
from chalicelib.outbox.fanout import ShardWorker, plan
from chalicelib.storage.models import MailModel, OutboxModel
from tests.integration.test_ses_rate import local_ses
from tests.mail import mirrored, sent_to

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("drain-mail")) as folder:
        yield folder


def signups(n: int) -> tuple[list[str], list[OutboxModel]]:
    run = uuid.uuid4().hex[:8]
    emails = [f"drain.{run}.{i}@example.org" for i in range(n)]
    for email in emails:
        assert deps.audience().signup(SignupRequest(email=email))
    people = {donor_id_for(e) for e in emails}
    ours = [m for m in OutboxModel.scan(OutboxModel.kind == "confirm_signup")
            if m.message_id.split("#")[1] in people]
    assert len(ours) == n
    return emails, ours


def test_due_messages_across_shards_are_delivered_once_by_concurrent_workers(mailbox: Path) -> None:
    emails, ours = signups(60)
    shards = {deps.outbox_store().shard_of(m.message_id) for m in ours}
    assert len(shards) > 5  # spread over the shards, as the index hashes them
    requests = plan(deps.settings().outbox_shards)
    workers = [threading.Thread(target=deps.shard_worker().run, args=(shard,))
               for shard in requests for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    final = [OutboxModel.get(m.message_id, consistent_read=True) for m in ours]
    assert {m.status for m in final} == {"sent"} and max(int(m.attempts) for m in final) == 1
    ledger = [MailModel.get(m.message_id, consistent_read=True) for m in ours]
    assert {(r.state, int(r.attempts)) for r in ledger} == {("sent", 1)}
    accepted = [sent_to(mailbox, e) for e in emails]
    assert [len(a) for a in accepted] == [1] * len(emails)  # SES took each exactly once
    assert {a[0]["X-SES-Message-Id"] for a in accepted} == {r.ses_message_id for r in ledger}

    # Delivered again (its `sent` mark lost, say): the send ledger answers, SES is not asked.
    again = ours[0]
    item = OutboxModel.get(again.message_id, consistent_read=True)
    item.update(actions=[OutboxModel.status.set("pending"), OutboxModel.due_at.set(item.created_at),
                         OutboxModel.pending_shard.set(deps.outbox_store().shard_of(again.message_id))])
    report = deps.shard_worker().run(deps.outbox_store().shard_of(again.message_id))
    assert report.sent >= 1
    assert OutboxModel.get(again.message_id, consistent_read=True).status == "sent"
    assert len(sent_to(mailbox, emails[0])) == 1


def test_a_worker_stops_within_its_budget_and_leaves_the_rest_due(local_stack) -> None:
    local_ses(local_stack, max_send_rate=2)
    deps.reset()
    try:
        _, ours = signups(100)
        by_shard: dict[str, list[OutboxModel]] = {}
        for m in ours:
            by_shard.setdefault(deps.outbox_store().shard_of(m.message_id), []).append(m)
        shard, mine = max(by_shard.items(), key=lambda kv: len(kv[1]))
        worker = ShardWorker(deps.dispatcher(), deps.outbox_store(), deps.dispatcher().clock,
                             budget=timedelta(seconds=1))
        start = time.monotonic()
        report = worker.run(shard)
        elapsed = time.monotonic() - start
    finally:
        local_ses(local_stack, max_send_rate=100)
        deps.reset()
    # It stopped at its budget; a delivery begun before it may wait up to 2 s for a token.
    assert elapsed < 1 + 2.5
    statuses = [OutboxModel.get(m.message_id, consistent_read=True).status for m in mine]
    assert report.sent == statuses.count("sent") < len(mine)
    assert statuses.count("pending") == len(mine) - report.sent  # the rest still due
