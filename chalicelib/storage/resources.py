"""Every AWS resource the app uses, created idempotently (local stack and tests) and listed for
the deployment template (devtools/deploy)."""

from __future__ import annotations

import boto3

from chalicelib.config import bucket_name, queue_name, settings
from chalicelib.storage.tables import ensure_tables


def queues() -> list[str]:
    """SQS queues (each gets a dead-letter queue `<name>-dlq` in the deployment template)."""
    return [queue_name("exports"), queue_name("payouts"), queue_name("reports"),
            queue_name("drain")]


def buckets() -> list[str]:
    """S3 buckets (encrypted, private, objects expiring)."""
    return [bucket_name("exports")]


# Kept for the deployment template generator, which reads names without a live environment.
QUEUES = queues
BUCKETS = buckets


def ensure_all() -> None:
    """Create tables, queues, buckets and the SES sender identity that are missing."""
    ensure_tables()
    sqs = boto3.client("sqs", region_name=settings().region)
    for name in queues():
        sqs.create_queue(QueueName=name)
    s3 = boto3.client("s3", region_name=settings().region)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for name in buckets():
        if name not in existing:
            s3.create_bucket(Bucket=name)
    from chalicelib.notify.ses import ensure_sender_identity

    ensure_sender_identity(settings().region, settings().mail_from)  # SES's sender (follow-ups)
