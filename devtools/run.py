"""`make run`: the whole system on this machine until Ctrl-C.

Starts moto's server (local AWS), creates tables and seeds the dev stage, the Stripe stand-in
(delivering signed webhooks to the API), `chalice local` and the worker; stops them all on exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools import stack

LOG_DIR = stack.ROOT / ".local" / "logs"
MAIL_DIR = stack.ROOT / ".local" / "outbox"


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    moto_port = int(os.environ.get("MOTO_PORT", "5000"))
    stripe_port = int(os.environ.get("STRIPE_PORT", "12111"))
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = stack.local_env(moto_port, stripe_port)
    # Every email the worker sends is also written here as an .eml file (follow-ups).
    env.setdefault("MAIL_MIRROR_DIR", str(MAIL_DIR))
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    os.environ.update(env)
    procs: list[subprocess.Popen] = []

    def shutdown(*_: object) -> None:
        print("\nstopping…", flush=True)
        stack.stop(*reversed(procs))
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        procs.append(stack.start_moto(moto_port, LOG_DIR / "moto.log"))
        subprocess.run([sys.executable, "-m", "devtools.seed"], env=env, check=True, cwd=stack.ROOT)
        webhook = f"http://127.0.0.1:{port}/webhooks/stripe"
        procs.append(stack.start_standin(stripe_port, env, webhook, LOG_DIR / "stripe-standin.log"))
        procs.append(stack.start_api(port, env, LOG_DIR / "api.log"))
        procs.append(stack.start_worker(env, LOG_DIR / "worker.log"))
    except Exception as exc:
        print(f"could not start the local stack: {exc} (logs in {LOG_DIR})", file=sys.stderr)
        stack.stop(*reversed(procs))
        sys.exit(1)
    print(f"""
Groundswell is running.
  Donation page:   http://127.0.0.1:{port}/donate/demo
                   (card 4242 4242 4242 4242, any future expiry, any CVC)
  Public API:      http://127.0.0.1:{port}/api/pages/demo
  Local AWS:       http://127.0.0.1:{moto_port}   (moto's server)
  Stripe stand-in: http://127.0.0.1:{stripe_port}   (webhooks to {webhook})
  Logs:            {Path(LOG_DIR).relative_to(stack.ROOT)}/
  Sent email:      {Path(env["MAIL_MIRROR_DIR"])}/   (one .eml file per message)
Ctrl-C stops everything.""", flush=True)
    while True:
        for proc in procs:
            if proc.poll() is not None:
                print(f"{proc.args[0]} exited ({proc.returncode}); see {LOG_DIR}", file=sys.stderr)
                shutdown()
        time.sleep(1)


if __name__ == "__main__":
    main()
