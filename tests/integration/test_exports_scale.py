"""A 10,000-contribution export streams with flat memory.

Rows are wide (long names, addresses, employers), so the 10,000-row CSV is over 8 MiB and
streams as a multipart upload of 5 MiB parts; memory holds a part, a page of movements per
shard, a batch of donations and one running total per donor, never the rows: five times the
rows must not take five times the memory.

Each scenario runs in a child process against its own moto server: moto keeps every item it
ever stored (and `/moto-api/data.json`, which other tests read, serializes them all), so ten
thousand wide donations must not land in the session's shared server.

- `generated` measures the export code itself (replay, rows, CSV and FEC encoding, S3
  multipart streaming, the job table) with `tracemalloc`, fed by a ledger that generates its
  movements and donations as they are read, so nothing but the export holds memory. Fast.
- `dynamodb` writes the 10,000 donations and movements through the PynamoDB models (batch
  writes) and exports them through the real DynamoDB ledger. moto answers a Query in time
  proportional to the whole table and serializes items slowly, so this one is `slow`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.exports.model import DonorFacts
from devtools.bench.generated_ledger import COMMITTEE, FIRST_DAY, GeneratedLedger, donor_facts, when

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
DAYS = 10
PER_DAY = 1000
MIB = 1024 * 1024
PART = 5 * MIB


def run_isolated(scenario: str, timeout: float) -> dict[str, Any]:
    """Run a scenario in a child process with its own moto server; its measurements."""
    done = subprocess.run([sys.executable, "-m", "tests.integration.test_exports_scale", scenario],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return dict(json.loads(result.removeprefix("RESULT ")))


def test_ten_thousand_contributions_stream_with_flat_memory() -> None:
    r = run_isolated("generated", timeout=280)
    print(f"\nCSV: 2,000 rows peak {r['small_peak'] / MIB:.1f} MiB; 10,000 rows "
          f"({r['size'] / MIB:.1f} MiB) peak {r['big_peak'] / MIB:.1f} MiB; "
          f"FEC peak {r['fec_peak'] / MIB:.1f} MiB")
    assert (r["small_rows"], r["big_rows"]) == (2 * PER_DAY, DAYS * PER_DAY)
    assert r["downloaded_rows"] == DAYS * PER_DAY
    assert r["itemized"] == 2 * PER_DAY  # each donor crosses $200 on day 9
    assert r["size"] > 8 * MIB and r["etag"].endswith("-2")  # streamed in two parts
    # Holding 10,000 rows as Python objects would take several times the file's size.
    assert r["big_peak"] < 20 * MIB
    # Five times the rows: the peak grows by at most the one part buffer that fills up.
    assert r["big_peak"] < r["small_peak"] + PART + 2 * MIB
    assert (r["fec_rows"], r["fec_unitemized_cents"]) == (2 * PER_DAY, 8 * PER_DAY * 2500)
    assert r["fec_peak"] < 20 * MIB


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ten_thousand_contributions_through_dynamodb() -> None:
    r = run_isolated("dynamodb", timeout=880)
    print(f"\nthrough DynamoDB: 10,000 contributions, FEC export peak {r['peak'] / MIB:.1f} MiB")
    assert r["rows"] == 2 * PER_DAY
    assert r["contributions"] == DAYS * PER_DAY
    assert r["peak"] < 30 * MIB
    assert r["aggregates"] == [225.0, 250.0]
    assert r["first_last_name"] == "Nunez-Hernandez de la Fuente y"


# --- the child process --------------------------------------------------------------------------

def export_service(ledger: Any) -> Any:
    from chalicelib import deps
    from chalicelib.config import bucket_name, queue_name, settings
    from chalicelib.exports.service import ExportService
    from chalicelib.storage.exports import ExportJobRepository, S3Files, SqsJobQueue

    s = settings()
    return ExportService(ExportJobRepository(), ledger, deps.committees(),
                         S3Files(bucket_name("exports"), s.region, part_bytes=PART),
                         SqsJobQueue(queue_name("exports"), s.region))


def measured_run(exports: Any, kind: str, days: int) -> tuple[Any, int]:
    """Run an export of the first `days` days; the job and its peak traced memory."""
    job = exports.request(kind, FIRST_DAY, FIRST_DAY + timedelta(days=days - 1), COMMITTEE, "scale test")
    tracemalloc.start()
    try:
        done = exports.run(job.export_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert done is not None and done.status == "succeeded", done
    return done, peak


def download(url: str) -> str:
    import requests

    return requests.get(url, timeout=60).content.decode("utf-8")


def scenario_generated() -> dict[str, Any]:
    import boto3

    from chalicelib.config import bucket_name, settings

    exports = export_service(GeneratedLedger(DAYS, PER_DAY))
    measured_run(exports, "contributions_csv", 1)  # clients and caches built once
    small, small_peak = measured_run(exports, "contributions_csv", 2)
    big, big_peak = measured_run(exports, "contributions_csv", DAYS)
    head = boto3.client("s3", region_name=settings().region).head_object(
        Bucket=bucket_name("exports"), Key=big.files["download"])
    reader = csv.reader(io.StringIO(download(exports.view(big.export_id).download_url), newline=""))
    next(reader)
    fec, fec_peak = measured_run(exports, "fec_schedule_a", DAYS)
    return {"small_rows": small.row_count, "big_rows": big.row_count, "small_peak": small_peak,
            "big_peak": big_peak, "size": head["ContentLength"], "etag": head["ETag"].strip('"'),
            "downloaded_rows": sum(1 for _ in reader), "itemized": big.summary["itemized_count"],
            "fec_rows": fec.row_count, "fec_unitemized_cents": fec.summary["unitemized_cents"],
            "fec_peak": fec_peak}


def scenario_dynamodb() -> dict[str, Any]:
    from chalicelib.config import settings
    from chalicelib.storage.donations import ledger_key, shard_for
    from chalicelib.storage.exports import MovementLedger
    from chalicelib.storage.models import DonationModel, DonorFields, MovementModel

    shards = settings().ledger_shards
    with DonationModel.batch_write() as donations, MovementModel.batch_write() as movements:
        for day in range(DAYS):
            for n in range(PER_DAY):
                at = when(day, n)
                donation_id, event_id = f"don_{day}_{n}", f"evt_{day}_{n}"
                donor = donor_facts(n)
                donations.save(DonationModel(
                    donation_id, page_slug="big", committee_id=COMMITTEE, election="P2026",
                    amount_cents=2500, status="succeeded", paid=True, donor_id=f"dnr_{n}",
                    fingerprint="f", created_at=at, updated_at=at, paid_at=at,
                    payment_intent_id=f"pi_{day}_{n}", charge_id=f"ch_{day}_{n}",
                    donor=DonorFields(**{k: getattr(donor, k) for k in DonorFacts.__dataclass_fields__})))
                movements.save(MovementModel(
                    f"{event_id}#contribution", kind="contribution", amount_cents=2500, occurred_at=at,
                    donation_id=donation_id, donor_id=f"dnr_{n}", committee_id=COMMITTEE,
                    election="P2026", page_slug="big", event_id=event_id,
                    ledger_key=ledger_key(COMMITTEE, at, shard_for(event_id, shards))))
    exports = export_service(MovementLedger(shards))
    done, peak = measured_run(exports, "fec_schedule_a", DAYS)
    rows = [json.loads(line) for line in download(exports.view(done.export_id).jsonl_url).splitlines()]
    return {"rows": done.row_count, "peak": peak,
            "contributions": done.summary["itemized_count"] + done.summary["unitemized_count"],
            "aggregates": sorted({r["contribution_aggregate"] for r in rows}),
            "first_last_name": rows[0]["contributor_last_name"]}


def main(scenario: str) -> None:
    from devtools import stack

    moto_port = stack.free_port()
    os.environ.update(stack.local_env(moto_port, stack.free_port()))
    os.environ["STAGE"] = "dev"
    moto = stack.start_moto(moto_port)
    try:
        from chalicelib.storage.resources import ensure_all

        ensure_all()
        result = {"generated": scenario_generated, "dynamodb": scenario_dynamodb}[scenario]()
        print("RESULT " + json.dumps(result), flush=True)
    finally:
        stack.stop(moto)


if __name__ == "__main__":
    main(sys.argv[1])
