"""Work off the request path: Lambda handlers for schedules and queues (the local worker drives
them in `make run`)."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib import deps, logs, metrics
from chalicelib.config import queue_name
from chalicelib.outbox.fanout import shard_of_request

jobs = Blueprint(__name__)


@jobs.schedule(Rate(5, unit=Rate.MINUTES), name="reconcile_pending")
def reconcile_pending(event: CloudWatchEvent) -> dict[str, int]:
    """Settle donations whose webhook never came, from Stripe's record; expire abandoned ones."""
    report = deps.reconciler().run()
    if report.checked:
        logs.info("pending donations reconciled", checked=report.checked, **report.settled)
    return {"checked": report.checked, **report.settled}


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="drain_outbox")
def drain_outbox(event: CloudWatchEvent) -> dict[str, int]:
    """Fan the drain out: one drain request per outbox `due` shard, each drained by its own
    `drain_shard` worker (chalicelib/outbox/fanout.py)."""
    return {"shards": deps.drain_fanout().run()}


@jobs.on_sqs_message(queue=queue_name("drain"), batch_size=1, name="drain_shard")
def drain_shard(event: SQSEvent) -> dict[str, int]:
    """Deliver one shard's due outbox messages (thank-yous, reminders, excess refunds) until
    none is due or the drain's time budget (`DRAIN_SECONDS`) is spent."""
    shards = deps.settings().outbox_shards
    total = {"sent": 0, "retried": 0, "failed": 0}
    for record in event:
        try:
            shard = shard_of_request(record.body, shards)
        except ValueError:
            logs.warning("not a drain request")
            continue
        report = deps.shard_worker().run(shard)
        # Every minute per shard, 0 when nothing waits: a missing datapoint means no drain runs.
        metrics.count(metrics.OUTBOX_LAG_SECONDS, round(report.lag_seconds, 1))
        if report.sent or report.failed or report.retried:
            logs.info("outbox drained", shard=shard, sent=report.sent, retried=report.retried,
                      failed=report.failed)
        total = {"sent": total["sent"] + report.sent, "retried": total["retried"] + report.retried,
                 "failed": total["failed"] + report.failed}
    return total


@jobs.schedule(Rate(1, unit=Rate.HOURS), name="notify_ending_plans")
def notify_ending_plans(event: CloudWatchEvent) -> dict[str, int]:
    """Queue the notice 7 days before each monthly gift ends (once per plan and end date)."""
    due = deps.monthly_controls().notify_ending()
    if due:
        logs.info("monthly gifts ending in 7 days", due=due)
    return {"due": due}


@jobs.schedule(Rate(1, unit=Rate.DAYS), name="refund_held_excess")
def refund_held_excess(event: CloudWatchEvent) -> dict[str, int]:
    """Day 60 of each contribution whose excess is still held for the donor's remedies: refund
    what is still held, once (compliance/remedies.py `HeldExcessRefunds`)."""
    queued = deps.held_excess_refunds().run()
    if queued:
        logs.info("held excesses refunded at day 60", queued=queued)
    return {"queued": queued}
