"""Work off the request path: Lambda handlers for schedules and queues (the local worker drives
them in `make run`)."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib import deps, logs

jobs = Blueprint(__name__)


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="drain_outbox")
def drain_outbox(event: CloudWatchEvent) -> dict[str, int]:
    """Deliver due outbox messages (thank-yous, reminders, excess refunds)."""
    report = deps.dispatcher().drain()
    if report.sent or report.failed or report.retried:
        logs.info("outbox drained", sent=report.sent, retried=report.retried, failed=report.failed)
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}
