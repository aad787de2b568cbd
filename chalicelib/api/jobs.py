"""Work off the request path: Lambda handlers for schedules and queues (the local worker drives
them in `make run`)."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib import deps, logs, metrics

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
    """Deliver due outbox messages (thank-yous, reminders, excess refunds)."""
    report = deps.dispatcher().drain()
    # Every minute, 0 when nothing waits: a missing datapoint means the drain is not running.
    metrics.count(metrics.OUTBOX_LAG_SECONDS, round(report.lag_seconds, 1))
    if report.sent or report.failed or report.retried:
        logs.info("outbox drained", sent=report.sent, retried=report.retried, failed=report.failed)
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


@jobs.schedule(Rate(1, unit=Rate.HOURS), name="notify_ending_plans")
def notify_ending_plans(event: CloudWatchEvent) -> dict[str, int]:
    """Queue the notice 7 days before each monthly gift ends (once per plan and end date)."""
    due = deps.monthly_controls().notify_ending()
    if due:
        logs.info("monthly gifts ending in 7 days", due=due)
    return {"due": due}
