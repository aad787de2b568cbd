"""The local worker drives SQS and scheduled handlers as Lambda event sources do in AWS."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from chalice import Chalice, Rate

from devtools.worker import Worker, schedule_seconds

pytestmark = pytest.mark.stack


def test_sqs_messages_reach_the_handler_and_are_deleted(local_stack) -> None:
    queue = "worker-test-" + uuid.uuid4().hex[:8]
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    app = Chalice(app_name="worker-test")
    seen: list[dict] = []
    ticks: list[str] = []

    @app.on_sqs_message(queue=queue, batch_size=5)
    def consume(event):  # type: ignore[no-untyped-def]
        seen.extend(json.loads(record.body) for record in event)

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def every_five(event):  # type: ignore[no-untyped-def]
        ticks.append(event.detail_type)

    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    worker = Worker(app)
    while worker.run_once():
        pass
    assert sorted(m["n"] for m in seen) == [0, 1, 2]
    assert ticks == ["Scheduled Event"]  # once, then not again until its rate comes round
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_the_apps_jobs_are_scheduled(local_stack) -> None:
    from app import app

    worker = Worker(app)
    schedules = {s.name: every for s, every in worker.schedules}
    assert schedules["drain_outbox"] == 60 and schedules["reconcile_pending"] == 300
    assert schedule_seconds("rate(2 hours)", 60) == 7200
    assert schedule_seconds("cron(0 12 * * ? *)", 42) == 42
