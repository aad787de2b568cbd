"""What the night looks like as it happens: metrics in CloudWatch's embedded metric format (EMF).

Each emission is one JSON line on stdout, written by powertools' `EphemeralMetrics`; CloudWatch
Logs turns it into metrics, so there is no extra call per request. Every metric name the code
emits is declared here and nowhere else (the alarms in the template are checked against this
module: tests/deploy/test_alarms.py). powertools' metrics are imported on the first emission,
never by `import app` (cold start).

Dimensions: every metric carries `service` (powertools) and `stage`; some add their own (`page`,
`channel`, `kind`). Ids and codes only: never an email, a name or any other personal data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

NAMESPACE = "Groundswell"
SERVICE = "groundswell"

# Money and contributions, per page (the webhook, on a success that counts a new contribution).
CONTRIBUTIONS = "Contributions"
CONTRIBUTION_CENTS = "ContributionCents"  # integer cents, as everywhere; a dashboard divides by 100
# Stripe webhooks: every request, each outcome, and every answer that was not a 2xx.
WEBHOOK_REQUESTS = "WebhookRequests"
WEBHOOK_NON_2XX = "WebhookNon2xx"
WEBHOOK_OUTCOMES = {
    "applied": "WebhookApplied",
    "duplicate": "WebhookDuplicate",
    "unmatched": "WebhookUnmatched",
    "ignored": "WebhookIgnored",
    "refused": "WebhookRefused",  # a 4xx: bad signature, not an event, wrong mode
}
# The outbox: how long the oldest due message has waited (each drain), and sends per channel.
OUTBOX_LAG_SECONDS = "OutboxLagSeconds"
MESSAGES_SENT = "MessagesSent"
# Finance's exports: how long a run took, per kind.
EXPORT_SECONDS = "ExportSeconds"
# Providers saying "slow down": every 429 from Stripe (retried ones too), every SES throttle.
STRIPE_THROTTLES = "StripeThrottles"
SES_THROTTLES = "SesThrottles"

NAMES = frozenset({CONTRIBUTIONS, CONTRIBUTION_CENTS, WEBHOOK_REQUESTS, WEBHOOK_NON_2XX,
                   *WEBHOOK_OUTCOMES.values(), OUTBOX_LAG_SECONDS, MESSAGES_SENT, EXPORT_SECONDS,
                   STRIPE_THROTTLES, SES_THROTTLES})
# The units each metric is emitted with (CloudWatch's unit names).
UNITS = {CONTRIBUTION_CENTS: "None", OUTBOX_LAG_SECONDS: "Seconds", EXPORT_SECONDS: "Seconds"}


def stage() -> str:
    return os.environ.get("STAGE", "").strip() or "dev"


def emit(values: Mapping[str, float], **dimensions: str) -> None:
    """One EMF line with `values` ({name: value}, names from this module) under `dimensions`.
    Never raises: a metric lost must not cost a donor a request."""
    try:
        from aws_lambda_powertools.metrics import EphemeralMetrics

        metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        metrics.add_dimension(name="stage", value=stage())
        for key, text in dimensions.items():
            metrics.add_dimension(name=key, value=text)
        for name, value in values.items():
            if name not in NAMES:
                raise ValueError(f"undeclared metric {name!r}")
            metrics.add_metric(name=name, unit=UNITS.get(name, "Count"), value=value)
        metrics.flush_metrics()
    except Exception as exc:
        from chalicelib import logs

        logs.warning("metric not emitted", error=type(exc).__name__, metric=",".join(values))


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """A count of one thing (or `value` things)."""
    emit({name: value}, **dimensions)


def contribution(page: str, cents: int) -> None:
    """A new contribution counted on `page` (the webhook's success)."""
    emit({CONTRIBUTIONS: 1, CONTRIBUTION_CENTS: cents}, page=page)


def webhook(outcome: str | None, status: int) -> None:
    """One Stripe webhook answered: its outcome (when it had one) and whether it was a 2xx."""
    values: dict[str, float] = {WEBHOOK_REQUESTS: 1, WEBHOOK_NON_2XX: 0 if 200 <= status < 300 else 1}
    if outcome in WEBHOOK_OUTCOMES:
        values[WEBHOOK_OUTCOMES[outcome]] = 1
    emit(values)
