"""1. Cold start: what `import app` costs a fresh Lambda container, against the floor of
`import boto3, stripe, chalice`, each the median of fresh `python -c` processes run interleaved.

Also shown: the first webhook's imports (the app plus what its route loads lazily), the same with
no bytecode cache (deployment.zip carries no .pyc; Lambda compiles at every cold start), and
the modules by cumulative import time (`-X importtime`), so a regression names its module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

from devtools.bench.common import ROOT, Figure, Section, median

RUNS = 7
GOAL_RATIO = 1.15
BASELINE = "import boto3, stripe, chalice"
APP = "import app"
# What the first webhook imports besides app: its service, storage, Stripe and the logger.
WEBHOOK = ("import app; from chalicelib import deps, logs; deps.giving_service(); "
           "deps.stripe_gateway(); logs._logger()")


def _env(pycache: str | None = None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "STAGE": "dev",
           # A local dev stage (settings load their dev defaults; nothing is reached at import).
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    if pycache:
        env.update(PYTHONPYCACHEPREFIX=pycache, PYTHONDONTWRITEBYTECODE="1")
    return env


def import_seconds(statement: str, cold_bytecode: bool = False) -> float:
    """Seconds `statement` takes in a fresh interpreter (interpreter start-up excluded)."""
    code = f"import time; _t = time.perf_counter(); {statement}; print(time.perf_counter() - _t)"
    with tempfile.TemporaryDirectory() as empty:
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                env=_env(empty if cold_bytecode else None), check=True, timeout=120)
    return float(result.stdout.strip().splitlines()[-1])


def import_profile(statement: str) -> dict[str, tuple[int, int]]:
    """module → (self µs, cumulative µs) from `python -X importtime`."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], cwd=ROOT,
                            capture_output=True, text=True, env=_env(), check=True, timeout=120)
    out = {}
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            out[m[4]] = (int(m[1]), int(m[2]))
    return out


def run() -> Section:
    statements = {"baseline": BASELINE, "app": APP, "webhook": WEBHOOK}
    for statement in statements.values():  # warm the bytecode cache; not counted
        import_seconds(statement)
    times: dict[str, list[float]] = {k: [] for k in statements}
    cold: dict[str, list[float]] = {"baseline": [], "webhook": []}
    for _ in range(RUNS):  # interleaved, so drift affects all alike
        for name, statement in statements.items():
            times[name].append(import_seconds(statement))
        for name in cold:
            cold[name].append(import_seconds(statements[name], cold_bytecode=True))
    med = {k: median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    cold_med = {k: median(v) for k, v in cold.items()}
    ratio = med["app"] / med["baseline"]
    section = Section("1. Cold start", [
        Figure("import app ÷ import boto3, stripe, chalice", f"{ratio:.2f}x "
               f"({med['app'] * 1000:.0f} ms vs {med['baseline'] * 1000:.0f} ms)",
               f"≤ {GOAL_RATIO:.2f}x", ratio <= GOAL_RATIO),
        Figure("first webhook's imports ÷ baseline", f"{med['webhook'] / med['baseline']:.2f}x "
               f"({med['webhook'] * 1000:.0f} ms)"),
        Figure("same without bytecode cache (as from deployment.zip)",
               f"{cold_med['webhook'] / cold_med['baseline']:.2f}x ({cold_med['webhook'] * 1000:.0f} ms "
               f"vs {cold_med['baseline'] * 1000:.0f} ms)"),
        Figure("fastest runs instead of medians (less sensitive to a busy machine)",
               f"app {low['app'] / low['baseline']:.2f}x, first webhook "
               f"{low['webhook'] / low['baseline']:.2f}x ({low['baseline'] * 1000:.0f} ms baseline)"),
    ], data={"median_seconds": med})
    section.notes.append(
        f"Median of {RUNS} fresh `python -c` processes each, run interleaved; interpreter start-up "
        "is excluded. *First webhook's imports*: `import app` plus what the webhook route loads "
        "on first use (giving service, storage, Stripe gateway, powertools logger). *Without "
        "bytecode cache*: `PYTHONPYCACHEPREFIX` points at an empty directory, as in a container "
        "started from `deployment.zip`, which ships no `.pyc` files.")
    section.notes.append(_profile_table())
    return section


def _profile_table(top: int = 15) -> str:
    base = import_profile(BASELINE)
    app = import_profile(WEBHOOK)
    extra = {m: t for m, t in app.items() if m not in base}
    rows = ["| module (imported by the first webhook, not by the baseline) | self ms | cumulative ms |",
            "|---|---:|---:|"]
    # Top-level packages only would hide chalicelib's parts; show the heaviest cumulative entries.
    for module, (self_us, cum_us) in sorted(extra.items(), key=lambda kv: -kv[1][1])[:top]:
        rows.append(f"| `{module}` | {self_us / 1000:.1f} | {cum_us / 1000:.1f} |")
    total_extra = sum(s for s, _ in extra.values()) / 1000
    rows.append(f"| **all {len(extra)} modules the baseline does not import** | {total_extra:.1f} | |")
    heavy = sorted(base.items(), key=lambda kv: -kv[1][1])[:5]
    floor = ", ".join(f"`{m}` {c / 1000:.0f} ms" for m, (_, c) in heavy)
    return "\n".join(rows) + f"\n\nHeaviest in the baseline itself (cumulative): {floor}."
