"""Start the local stack's processes: moto's server (local AWS), the Stripe stand-in and the API.

Used by `make run` (devtools/run.py) and by the test suite, so both meet the same stack.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stage_env(stage: str = "dev") -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives a stage (as chalice local sets)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}),
            **config["stages"][stage].get("environment_variables", {})}


def local_env(moto_port: int, stripe_port: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment under which boto3, pynamodb and the stripe SDK reach the local stack, with
    the dev stage's variables from `.chalice/config.json`."""
    env = {**stage_env("dev"), **(os.environ if base is None else base)}
    env.update({
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_REGION": env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "STRIPE_JS_URL": f"http://127.0.0.1:{stripe_port}/v3/",
    })
    env.setdefault("STRIPE_SECRET_KEY", "sk_test_local_standin")
    env.setdefault("STRIPE_PUBLISHABLE_KEY", "pk_test_local_standin")
    env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_local_dev")
    env["PYTHONPATH"] = str(ROOT)
    return env


def wait_until_ready(url: str, process: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s")


def start_moto(port: int, log: Path | None = None) -> subprocess.Popen:
    """moto's server (devtools/local_aws.py: DynamoDB requests serialized as AWS would)."""
    proc = _spawn([sys.executable, "-m", "devtools.local_aws", "-H", "127.0.0.1", "-p", str(port)],
                  {**os.environ, "MOTO_PORT": str(port)}, log)
    wait_until_ready(f"http://127.0.0.1:{port}/moto-api/", proc)
    return proc


def start_standin(port: int, env: Mapping[str, str], webhook_url: str | None,
                  log: Path | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "devtools.stripe_standin", "--port", str(port)]
    if webhook_url:
        args += ["--webhook-url", webhook_url]
    proc = _spawn(args, env, log)
    wait_until_ready(f"http://127.0.0.1:{port}/_standin/health", proc)
    return proc


def start_api(port: int, env: Mapping[str, str], log: Path | None = None) -> subprocess.Popen:
    """`chalice local` serving the dev stage (HTTP only; devtools/worker.py drives the rest)."""
    args = [str(VENV_BIN / "chalice"), "local", "--host", "127.0.0.1", "--port", str(port),
            "--stage", "dev", "--no-autoreload"]
    proc = _spawn(args, env, log)
    wait_until_ready(f"http://127.0.0.1:{port}/api/health", proc)
    return proc


def start_worker(env: Mapping[str, str], log: Path | None = None) -> subprocess.Popen:
    """The local worker (devtools/worker.py): the app's SQS and scheduled handlers."""
    # Locally, schedules run 20x faster so a thank-you arrives in seconds, not a minute.
    return _spawn([sys.executable, "-m", "devtools.worker", "--rate-scale", "0.05"], env, log)


def _spawn(args: list[str], env: Mapping[str, str], log: Path | None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    return subprocess.Popen(args, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(*procs: subprocess.Popen | None) -> None:
    """Stop processes (and their children) politely, then firmly."""
    for proc in procs:
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, 15)
            except ProcessLookupError:
                pass
    for proc in procs:
        if proc is None:
            continue
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


@dataclass(frozen=True)
class LocalServices:
    env: dict[str, str]
    moto_port: int
    stripe_port: int

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"


@contextmanager
def local_services(logs: Path, **extra_env: str) -> Iterator[LocalServices]:
    """moto's server and the Stripe stand-in on free ports, this process pointed at them (the
    dev stage, plus `extra_env`), every table, queue and bucket created; all stopped afterwards
    and the environment restored."""
    logs.mkdir(parents=True, exist_ok=True)
    moto_port, stripe_port = free_port(), free_port()
    env = local_env(moto_port, stripe_port)
    env.update({"STAGE": "dev", **extra_env})
    saved = dict(os.environ)
    os.environ.update(env)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start_moto(moto_port, logs / "moto.log"))
        procs.append(start_standin(stripe_port, env, None, logs / "standin.log"))
        from chalicelib import deps
        from chalicelib.storage.resources import ensure_all

        deps.reset()
        ensure_all()
        yield LocalServices(env, moto_port, stripe_port)
    finally:
        stop(*reversed(procs))
        os.environ.clear()
        os.environ.update(saved)
