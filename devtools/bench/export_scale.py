"""5. Export at scale: 100,000 contributions exported as CSV and as FEC Schedule A.

The real export code runs (the two-pass replay, rows, CSV and `.fec` encoding, S3 multipart
uploads into moto's S3, the job table in moto's DynamoDB), fed by a ledger generated as it is
read (`generated_ledger.py`): moto answers a Query in time proportional to its whole table, so
100,000 contributions stored in it would measure moto, not the export. Each kind runs in a
child process of its own (`python -m devtools.bench.export_scale KIND`), so its peak resident
memory (`VmHWM`, what Lambda's memory setting bounds) is that export's alone. (Not `ru_maxrss`:
Linux carries the parent's peak over into a child across fork and exec.)
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from devtools import stack
from devtools.bench.common import LOGS, ROOT, Figure
from devtools.bench.generated_ledger import COMMITTEE, FIRST_DAY, GeneratedLedger

DAYS = 100
PER_DAY = 1000
GOAL_MB = 150
KINDS = ("contributions_csv", "fec_schedule_a", "ledger_csv")
TIMEOUT_SECONDS = 1200


def figures(days: int = DAYS) -> list[Figure]:
    out = []
    for kind in KINDS:
        done = subprocess.run([sys.executable, "-m", "devtools.bench.export_scale", kind, str(days)],
                              cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                              check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode or not lines:
            out.append(Figure(f"`{kind}` of {days * PER_DAY:,} contributions",
                              f"failed: {(done.stderr or done.stdout)[-300:]}", f"< {GOAL_MB} MB", False))
            continue
        r = json.loads(lines[-1].removeprefix("RESULT "))
        out.append(Figure(
            f"`{kind}` of {days * PER_DAY:,} contributions",
            f"{r['rows']:,} rows, {r['mib']:.0f} MiB file, {r['seconds']:.1f} s "
            f"({r['rows'] / r['seconds']:,.0f} rows/s); peak memory {r['peak_mb']:.0f} MB "
            f"({r['before_mb']:.0f} MB of it before the export started: Python, boto3, the app)",
            f"< {GOAL_MB} MB", r["peak_mb"] < GOAL_MB))
    return out


def note(days: int = DAYS) -> str:
    rows = days * PER_DAY
    months = math.ceil(days / 30) + 1
    return (f"At scale: {rows:,} contributions over {days} days ({PER_DAY:,} a day by 1,000 donors "
            "whose fields are near the 200 characters intake allows), exported by the real "
            "export code in a process of its own, fed by a generated ledger (see "
            "`devtools/bench/export_scale.py`). Against DynamoDB the same export reads the "
            f"movements index month by month: about {2 * (months + 24) * 10:,} Queries for the two "
            f"passes of a candidate's cycle plus one per further 250 movements "
            f"(~{2 * rows // 250:,}), and {2 * rows // 100:,} BatchGetItems of 100 donations for "
            "the FEC file (one pass for the CSV).")


def child(kind: str, days: int) -> dict[str, Any]:
    import boto3

    from chalicelib import deps
    from chalicelib.config import bucket_name, queue_name, settings
    from chalicelib.exports.service import ExportService
    from chalicelib.storage.exports import ExportJobRepository, S3Files, SqsJobQueue

    s = settings()
    exports = ExportService(ExportJobRepository(), GeneratedLedger(days, PER_DAY), deps.committees(),
                            S3Files(bucket_name("exports"), s.region),
                            SqsJobQueue(queue_name("exports"), s.region))
    warm = exports.request(kind, FIRST_DAY, FIRST_DAY, COMMITTEE, "bench")  # clients built once
    exports.run(warm.export_id)
    before = peak_rss_mb()
    job = exports.request(kind, FIRST_DAY, FIRST_DAY + timedelta(days=days - 1), COMMITTEE, "bench")
    t0 = time.perf_counter()
    done = exports.run(job.export_id)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"export ended {done}")
    head = boto3.client("s3", region_name=s.region).head_object(
        Bucket=bucket_name("exports"), Key=done.files["download"])
    return {"rows": done.row_count, "seconds": seconds, "mib": head["ContentLength"] / 2**20,
            "before_mb": before, "peak_mb": peak}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux's `VmHWM`)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main() -> None:
    kind, days = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else DAYS
    with stack.local_services(LOGS / "export-scale"):
        result = child(kind, days)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
