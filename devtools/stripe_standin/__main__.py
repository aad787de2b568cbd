"""CLI: ``python -m devtools.stripe_standin [--port P] [--webhook-url URL] ...``; flags win over env vars."""

from __future__ import annotations

import argparse
import os
import sys

from werkzeug.serving import make_server

from .app import create_app


def main(argv: list[str] | None = None) -> int:
    """Parse options, start the threaded server and block until interrupted."""
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(env.get("STRIPE_PORT") or 12111), help="default $STRIPE_PORT or 12111"
    )
    parser.add_argument(
        "--webhook-url",
        default=env.get("STANDIN_WEBHOOK_URL") or None,
        help="where events are POSTed (default $STANDIN_WEBHOOK_URL); unset = record only",
    )
    parser.add_argument(
        "--webhook-secret",
        default=env.get("STRIPE_WEBHOOK_SECRET") or "whsec_local_dev",
        help="signing secret (default $STRIPE_WEBHOOK_SECRET or whsec_local_dev)",
    )
    parser.add_argument(
        "--retry-base-seconds",
        type=float,
        default=1.0,
        help="first webhook retry delay; doubles on each attempt",
    )
    parser.add_argument("--max-attempts", type=int, default=8, help="webhook delivery attempts per event")
    parser.add_argument(
        "--fee-percent",
        type=float,
        default=float(env.get("STANDIN_FEE_PERCENT") or 2.9),
        help="Stripe fee percent per charge, rounded half up to the cent (default 2.9)",
    )
    parser.add_argument(
        "--fee-fixed-cents",
        type=int,
        default=int(env.get("STANDIN_FEE_FIXED_CENTS") or 30),
        help="fixed Stripe fee per charge in cents (default 30)",
    )
    parser.add_argument(
        "--available-delay-seconds",
        type=float,
        default=float(env.get("STANDIN_AVAILABLE_DELAY_SECONDS") or 0),
        help="how long a charge's funds stay pending before a payout can take them (default 0)",
    )
    args = parser.parse_args(argv)

    app = create_app(
        args.webhook_url,
        args.webhook_secret,
        retry_base_seconds=args.retry_base_seconds,
        max_attempts=args.max_attempts,
        fee_percent=args.fee_percent,
        fee_fixed_cents=args.fee_fixed_cents,
        available_delay_seconds=args.available_delay_seconds,
    )
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"stripe stand-in listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.extensions["stripe_standin"]["deliverer"].stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
