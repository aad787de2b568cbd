"""4. Throughput: signed `payment_intent.succeeded` webhooks per second through `chalice local`,
from 8 concurrent senders, with every one accounted for: each answered 2xx `applied`, and the
page's totals equal the sum of the donations. Bounded in count and in time.

Runs in its own process (`python -m devtools.bench.throughput [events]` prints the section as
JSON) on a fresh stack: PynamoDB keeps each model's connection, and its endpoint, per process.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from devtools import stack
from devtools.bench.common import (
    LOGS,
    RNG,
    Figure,
    LocalStack,
    Section,
    donation_body,
    donor_headers,
    free_port,
    local_stack,
    new_page,
    signed,
    succeeded_event,
)

EVENTS = 400
SENDERS = 8
DEADLINE_SECONDS = 180  # for the intakes, then again for the webhooks
AMOUNTS = (1000, 2700, 5000, 10000)


def _pool_map(fn: Any, items: list[Any], deadline: float) -> list[Any]:
    """fn over items from SENDERS threads, each with its own HTTP session; items not started
    before the deadline are returned as None."""
    sessions: dict[int, requests.Session] = {}

    def call(item: Any) -> Any:
        import threading

        if time.monotonic() > deadline:
            return None
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        return fn(session, item)

    with ThreadPoolExecutor(SENDERS) as pool:
        return list(pool.map(call, items))


def _warm_up(base: str) -> None:
    """One donation on another page, so the timed runs meet a server that has imported its code."""
    slug = new_page("warmup")
    started = requests.post(f"{base}/api/pages/{slug}/donations", data=json.dumps(donation_body(2700)),
                            headers=donor_headers(), timeout=60).json()
    body, headers = signed(succeeded_event(started, slug))
    requests.post(f"{base}/webhooks/stripe", data=body.encode(), headers=headers, timeout=60)


def run(local: LocalStack) -> Section:
    port = free_port()
    api = stack.start_api(port, local.env, LOGS / "api.log")
    base = f"http://127.0.0.1:{port}"
    try:
        _warm_up(base)
        slug = new_page("throughput")
        bodies = [(donation_body(RNG.choice(AMOUNTS)), donor_headers()) for _ in range(EVENTS)]

        def intake(session: requests.Session, request: tuple[dict[str, Any], dict[str, str]]) -> Any:
            body, headers = request
            r = session.post(f"{base}/api/pages/{slug}/donations", data=json.dumps(body),
                             headers=headers, timeout=30)
            return r.json() if r.status_code == 201 else None

        t0 = time.perf_counter()
        started = _pool_map(intake, bodies, time.monotonic() + DEADLINE_SECONDS)
        intake_seconds = time.perf_counter() - t0
        ok_started = [s for s in started if s]
        events = [succeeded_event(s, slug) for s in ok_started]

        def deliver(session: requests.Session, event: dict[str, Any]) -> tuple[int, str]:
            body, headers = signed(event)
            r = session.post(f"{base}/webhooks/stripe", data=body.encode(), headers=headers, timeout=30)
            outcome = r.json().get("outcome", "") if r.headers.get("content-type", "").startswith(
                "application/json") else ""
            return r.status_code, outcome

        t0 = time.perf_counter()
        answers = _pool_map(deliver, events, time.monotonic() + DEADLINE_SECONDS)
        webhook_seconds = time.perf_counter() - t0
        page = requests.get(f"{base}/api/pages/{slug}", timeout=30).json()
    finally:
        stack.stop(api)

    applied = sum(1 for a in answers if a and 200 <= a[0] < 300 and a[1] == "applied")
    expected_cents = sum(s["amount_cents"] for s in ok_started)
    totals_ok = (page["raised_cents"], page["contribution_count"]) == (expected_cents, len(ok_started))
    all_ok = len(ok_started) == EVENTS and applied == EVENTS and totals_ok
    problems = {}
    for a in answers:
        key = "not sent (deadline)" if a is None else f"{a[0]} {a[1] or ''}".strip()
        problems[key] = problems.get(key, 0) + 1
    rate = len([a for a in answers if a]) / webhook_seconds
    section = Section("4. Throughput (chalice local)", [
        Figure(f"webhooks/s, {SENDERS} concurrent senders, {EVENTS} events", f"{rate:.0f}/s"),
        Figure("every event accounted for", f"{applied}/{EVENTS} applied; page totals "
               f"{page['raised_cents']} cents in {page['contribution_count']} contributions vs "
               f"{expected_cents} in {len(ok_started)} expected", "all", all_ok),
        Figure(f"intakes/s, {SENDERS} concurrent senders (each creates a PaymentIntent at the stand-in)",
               f"{len(ok_started) / intake_seconds:.0f}/s ({len(ok_started)}/{EVENTS} created)"),
    ], data={"webhooks_per_second": rate})
    section.notes.append(
        "One `chalice local` process (threaded, one Python interpreter) against a fresh moto "
        "server, which serializes DynamoDB requests and copies every table a transaction touches "
        "(so it slows as the tables grow), on this machine: a measure of the code path's "
        "overhead and of correctness under concurrency, not of AWS, where each Lambda container "
        "takes one request at a time and containers scale out. The intakes run first (their "
        "rate includes creating each PaymentIntent at the Stripe stand-in), then the webhooks. "
        "Answers: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(problems.items())) + ".")
    return section


def main() -> None:
    global EVENTS
    if len(sys.argv) > 1:
        EVENTS = int(sys.argv[1])
    with local_stack() as local:
        section = run(local)
    print(section.to_json())


if __name__ == "__main__":
    main()
