"""The local worker: drives the app's SQS and scheduled handlers, as Lambda event sources do
in AWS (`chalice local` serves HTTP only).

It reads the event sources the Chalice app declares, polls each SQS queue on moto's server and
invokes the handler with an SQS-shaped event (messages are deleted only if the handler returns;
a failed batch comes back after the queue's visibility timeout, as in AWS),
and invokes each scheduled handler at its rate (cron schedules run every `--cron-seconds`).
"""

from __future__ import annotations

import argparse
import re
import signal
import time
from typing import Any

import boto3
from chalice.app import Chalice, Rate, ScheduledEventConfig, SQSEventConfig
from chalice.test import Client

_RATE_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def schedule_seconds(expression: Any, cron_seconds: float) -> float:
    """Seconds between runs of a schedule: its rate, or `cron_seconds` for cron expressions."""
    if isinstance(expression, Rate):
        expression = expression.to_string()
    if isinstance(expression, str):
        match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
        if match:
            return int(match.group(1)) * _RATE_SECONDS[match.group(2)]
    return cron_seconds


class Worker:
    def __init__(self, app: Chalice, stage: str = "dev", cron_seconds: float = 60.0,
                 rate_scale: float = 1.0) -> None:
        self.client = Client(app, stage_name=stage)
        self.sqs = boto3.client("sqs")
        self.queues = [s for s in app.event_sources if isinstance(s, SQSEventConfig)]
        self.schedules = [
            (s, schedule_seconds(s.schedule_expression, cron_seconds) * rate_scale)
            for s in app.event_sources if isinstance(s, ScheduledEventConfig)
        ]
        self.next_run = {s.name: 0.0 for s, _ in self.schedules}
        self.running = True

    def run_once(self) -> int:
        """Deliver what is due now; returns the number of handler invocations."""
        invoked = 0
        for source in self.queues:
            invoked += self._drain(source)
        now = time.monotonic()
        for source, every in self.schedules:
            if now >= self.next_run[source.name]:
                event = self.client.events.generate_cw_event(
                    source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
                self.client.lambda_.invoke(source.name, event)
                self.next_run[source.name] = now + every
                invoked += 1
        return invoked

    def _drain(self, source: SQSEventConfig) -> int:
        url = self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        messages = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10), WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return 0
        event = self.client.events.generate_sqs_event(
            message_bodies=[m["Body"] for m in messages], queue_name=source.queue)
        for record, message in zip(event["Records"], messages, strict=True):
            record["messageId"] = message["MessageId"]
            record["receiptHandle"] = message["ReceiptHandle"]
        try:
            self.client.lambda_.invoke(source.name, event)
        except Exception as exc:  # as Lambda: the batch stays on the queue and comes back
            print(f"worker: {source.name} failed ({type(exc).__name__}); messages kept", flush=True)
            return 1
        self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return 1

    def run_forever(self, idle_seconds: float = 0.5) -> None:
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "running", False))
        while self.running:
            if not self.run_once():
                time.sleep(idle_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--cron-seconds", type=float, default=60.0)
    parser.add_argument("--rate-scale", type=float, default=1.0,
                        help="multiply schedule rates (e.g. 0.01 to run hourly jobs every 36 s)")
    args = parser.parse_args()
    from app import app

    worker = Worker(app, args.stage, args.cron_seconds, args.rate_scale)
    print(f"worker: {len(worker.queues)} queue(s), {len(worker.schedules)} schedule(s)", flush=True)
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
