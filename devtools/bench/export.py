"""5. Export: how long finance waits for an export, and what 100,000 contributions take.

First the real thing end to end: `POST /api/exports` as finance for the donations the other
benchmarks made, the queued job run by the app's SQS handler (as Lambda would), `GET
/api/exports/{id}` until it succeeds. Then the export code at scale (`export_scale.py`).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from devtools.bench import export_scale
from devtools.bench.common import FINANCE_KEY, Figure, Recorder, Section, Window

KINDS = ("contributions_csv", "fec_schedule_a", "ledger_csv")
TIMEOUT_SECONDS = 180
COMMITTEE = "C00123456"  # the committee of the pages devtools/seed.py creates


def run() -> Section:
    section = Section("5. Export")
    for kind in KINDS:
        try:
            rows, handler, total, w = _export(kind)
        except Exception as exc:
            section.figures.append(Figure(f"`{kind}`", f"failed: {type(exc).__name__}: {exc}"[:300],
                                          ok=False))
            continue
        rate = f"{rows / handler:,.3g} rows/s, " if rows and handler else ""
        ops = ", ".join(f"{n} {op}" for op, n in w.operations().most_common())
        section.figures.append(Figure(
            f"`{kind}` of {rows:,} rows", f"{handler:.2f} s in the export handler ({rate}"
            f"{total:.1f} s from request to `succeeded`); {w.requests:,} DynamoDB requests "
            f"({ops}), {w.rru:,.0f} RRU"))
    section.notes.append(
        f"Requested over the API as finance, for committee {COMMITTEE} and the days of this run "
        "(the donations of section 2), then run by the app's SQS handler invoked in this process "
        "with the queued message, as Lambda would, against moto's server (S3 and DynamoDB). "
        "FEC Schedule A itemizes only donors over $200 for the election, so a run of small gifts "
        "has few or no rows there.")
    section.figures += export_scale.figures()
    section.notes.append(export_scale.note())
    return section


def _export(kind: str) -> tuple[int, float, float, Window]:
    """(rows, seconds in the SQS handler, seconds from request to a finished job, the handler's
    AWS requests)."""
    import boto3
    from chalice.app import SQSEventConfig
    from chalice.test import Client

    from app import app
    from chalicelib.config import queue_name

    queue = queue_name("exports")
    handler = next(s.name for s in app.event_sources
                   if isinstance(s, SQSEventConfig) and s.queue == queue)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    today = datetime.now(timezone.utc).date()
    body = {"kind": kind, "from": (today - timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=1)).isoformat(), "committee_id": COMMITTEE}
    headers = {"Authorization": f"Bearer {FINANCE_KEY}", "Content-Type": "application/json"}
    recorder = Recorder()
    recorder.attach()
    w = Window()
    with Client(app, stage_name="dev") as client:
        t0 = time.perf_counter()
        r = client.http.post("/api/exports", body=json.dumps(body), headers=headers)
        if r.status_code != 202:
            raise RuntimeError(f"POST /api/exports answered {r.status_code}: {r.body[:200]!r}")
        export_id = json.loads(r.body)["export_id"]
        job: dict[str, Any] = {}
        in_handler = 0.0
        while time.perf_counter() - t0 < TIMEOUT_SECONDS:
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                         WaitTimeSeconds=1).get("Messages", []):
                event = client.events.generate_sqs_event(message_bodies=[m["Body"]], queue_name=queue)
                t = time.perf_counter()
                with recorder.window() as w:
                    client.lambda_.invoke(handler, event)
                in_handler += time.perf_counter() - t
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            job = json.loads(client.http.get(f"/api/exports/{export_id}", headers=headers).body)
            if job.get("status") in ("succeeded", "failed"):
                break
        total = time.perf_counter() - t0
    recorder.detach()
    if job.get("status") != "succeeded":
        raise RuntimeError(f"export ended {job.get('status')!r}: {str(job)[:200]}")
    return int(job.get("row_count") or 0), in_handler, total, w
