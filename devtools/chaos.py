"""Chaos on the money path: Stripe events through the real webhook endpoint, delivered twice,
concurrently and out of order, while DynamoDB and Stripe fail underneath; then the invariants.

    python -m devtools.chaos [--events 2000] [--seed 7] [--aws-fault-rate 0.1] ...   (`make chaos`)

The run starts its own moto server and Stripe stand-in on free ports (or, from the test suite,
uses the session's), and drives the app in this process through `chalice.test.Client` on
threads, so that faults can be injected into the app's own botocore clients:

* Intake (`POST /api/pages/{slug}/donations`) creates each donation and its PaymentIntent at the
  stand-in, with the stand-in failing a share of API calls (500s, and slow 500s: timeouts);
  a donor retries a failed intake with the same idempotency key.
* Every donation follows a scenario (paid, declined, refunded in part or whole, disputed and won
  or lost, ...), whose final state and counted money are written down here, not computed by the
  code under test. Its events are built from Stripe's shapes (tests/events) and signed as Stripe
  signs. A share of events is delivered twice, some of those at the same moment (two threads),
  and all deliveries are shuffled, so refunds and disputes often come before the success.
* Stripe's retries are simulated: every non-2xx answer is delivered again (bounded attempts).
* DynamoDB faults come from botocore's `before-send` hook on every PynamoDB client: a seeded
  share of requests never reaches moto (nothing is written) and answers as DynamoDB does when
  throttled (`ProvisionedThroughputExceededException`), when a transaction conflicts
  (`TransactionCanceledException` with `TransactionConflict`, or `TransactionConflictException`)
  or not at all (a read timeout). botocore's standard retry mode retries what it may.
* The outbox is drained by four workers at once with the app's own handlers (thank-you emails to
  moto's SES), under the same faults.

Then, with faults paused for the checker only, the invariants are read from storage and printed:
no contribution lost, none counted twice, page totals and donor aggregates equal the sums of
their contributions, the movements ledger reconciles, every event was applied (its marker
exists), the webhook path made no Stripe call, and every due thank-you was emailed exactly once.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import json
import os
import queue
import random
import string
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import requests

from devtools import stack

ROOT = stack.ROOT
EVENTS = ROOT / "tests" / "events"
LOGS = ROOT / ".local" / "chaos"
ORGANIZER_KEY = "chaos-organizer-key"
DRAIN_WORKERS = 4


# --- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChaosConfig:
    events: int = 2000
    seed: int = 7
    pages: int = 4
    duplicate_share: float = 0.35  # events delivered twice
    concurrent_share: float = 0.10  # events whose two deliveries are simultaneous (within the above)
    aws_fault_rate: float = 0.10
    stripe_error_rate: float = 0.15
    stripe_timeout_rate: float = 0.03
    stripe_timeout_seconds: float = 0.3
    lost_answer_rate: float = 0.0  # writes applied whose answer is lost (see AwsFaults)
    threads: int = 8
    max_deliveries: int = 30  # Stripe retries for three days; here, this many attempts per copy
    max_intake_attempts: int = 10


# --- scenarios: what happens to each donation, and what must come of it -------------------------
@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int
    steps: tuple[str, ...]  # succeeded, failed, refund:<share>, dispute_created, dispute_closed:<outcome>
    status: str  # the donation's final status
    counted: Callable[[int], int]  # the cents it counts on its page and donor aggregate
    contributions: int  # 1 if it counts as a contribution


SCENARIOS = (
    Scenario("paid", 30, ("succeeded",), "succeeded", lambda a: a, 1),
    Scenario("declined", 10, ("failed",), "failed", lambda a: 0, 0),
    Scenario("declined_then_paid", 8, ("failed", "succeeded"), "succeeded", lambda a: a, 1),
    Scenario("partial_refund", 12, ("succeeded", "refund:1/3"), "succeeded", lambda a: a - a // 3, 1),
    Scenario("two_partial_refunds", 8, ("succeeded", "refund:1/4", "refund:1/2"), "succeeded",
             lambda a: a - a // 2, 1),
    Scenario("full_refund", 8, ("succeeded", "refund:1/1"), "refunded", lambda a: 0, 0),
    Scenario("dispute_won", 8, ("succeeded", "dispute_created", "dispute_closed:won"), "succeeded",
             lambda a: a, 1),
    Scenario("dispute_lost", 8, ("succeeded", "dispute_created", "dispute_closed:lost"), "disputed",
             lambda a: 0, 0),
    Scenario("dispute_open", 8, ("succeeded", "dispute_created"), "disputed", lambda a: 0, 0),
)
AMOUNTS = (500, 1000, 2500, 2700, 5000, 10000)


def _share(amount: int, fraction: str) -> int:
    num, den = (int(x) for x in fraction.split("/"))
    return amount if num == den else amount * num // den


# --- DynamoDB faults through botocore's event hooks ---------------------------------------------
class _Raw:
    """The body of a synthetic response, as botocore reads it."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_TRANSACTIONS = {"TransactWriteItems", "TransactGetItems"}
_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class AwsFaults:
    """A `before-send.dynamodb` handler that answers a seeded share of requests itself, before
    they reach the server, so a faulted request writes nothing. Kinds: `throttled`, `conflict`
    (transactions and writes only) and `timeout` (a read timeout, which botocore retries)."""

    def __init__(self, rate: float, seed: int = 0, *, operations: set[str] | None = None,
                 kinds: tuple[str, ...] = ("throttled", "timeout", "conflict"),
                 limit: int | None = None, lost_answer_rate: float = 0.0) -> None:
        self.rate = rate
        # Writes that reach the server and are applied, but whose answer never comes back (a
        # read timeout after the fact): off by default, see docs/reliability.md.
        self.lost_answer_rate = lost_answer_rate
        self.operations = operations  # None: every operation
        self.kinds = kinds
        self.limit = limit  # at most this many faults in all (None: no end)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: list[Any] = []
        self.requests: Counter[str] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()

    # Installing ----------------------------------------------------------------------------
    def install(self) -> None:
        """Hook every PynamoDB client in this process (call again after new ones appear)."""
        for client in dynamodb_clients():
            if all(client is not c for c in self._clients):
                client.meta.events.register("before-send.dynamodb", partial(self, client=client),
                                            unique_id="chaos-faults")
                self._clients.append(client)

    def uninstall(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-send.dynamodb", unique_id="chaos-faults")
        self._clients.clear()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No faults for this thread inside the block (the checker's own reads)."""
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = False

    # Deciding ------------------------------------------------------------------------------
    def __call__(self, request: Any, event_name: str = "", client: Any = None, **_: Any) -> Any:
        if getattr(self._local, "paused", False):
            return None
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.requests[operation] += 1
            if self.operations is not None and operation not in self.operations:
                return None
            if self.limit is not None and sum(self.injected.values()) >= self.limit:
                return None
            lost = (operation in _WRITES or operation == "TransactWriteItems") and \
                self._rng.random() < self.lost_answer_rate
            if lost:
                self.injected[(operation, "lost answer")] += 1
            elif self._rng.random() >= self.rate:
                return None
            kinds = [k for k in self.kinds
                     if k != "conflict" or operation in _WRITES | _TRANSACTIONS] or ["throttled"]
            kind = "lost answer" if lost else self._rng.choice(kinds)
            conflicted = self._rng.random()
            if not lost:
                self.injected[(operation, kind)] += 1
        if kind == "lost answer":
            from botocore.exceptions import ReadTimeoutError

            client._endpoint.http_session.send(request)  # applied by the server; answer dropped
            raise ReadTimeoutError(endpoint_url=request.url)
        if kind == "timeout":
            from botocore.exceptions import ReadTimeoutError

            raise ReadTimeoutError(endpoint_url=request.url)
        return self._answer(request, operation, kind, conflicted)

    def _answer(self, request: Any, operation: str, kind: str, draw: float) -> Any:
        from botocore.awsrequest import AWSResponse

        if kind == "throttled":
            body: dict[str, Any] = {
                "__type": _PREFIX + "ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was exceeded."}
        elif operation in _TRANSACTIONS:
            sent = json.loads(request.body or b"{}")
            n = len(sent.get("TransactItems", [])) or 1
            reasons = [{"Code": "None"} for _ in range(n)]
            reasons[int(draw * n)] = {"Code": "TransactionConflict",
                                      "Message": "Transaction is ongoing for the item"}
            body = {"__type": _PREFIX + "TransactionCanceledException",
                    "Message": "Transaction cancelled, please refer cancellation reasons for specific "
                               f"reasons [{', '.join(r['Code'] for r in reasons)}]",
                    "CancellationReasons": reasons}
        else:
            body = {"__type": _PREFIX + "TransactionConflictException",
                    "message": "Transaction is ongoing for the item"}
        headers = {"Content-Type": "application/x-amz-json-1.0",
                   "x-amzn-RequestId": f"chaos-{random.getrandbits(64):016x}"}
        return AWSResponse(request.url, 400, headers, _Raw(json.dumps(body).encode()))

    def summary(self) -> dict[str, Any]:
        by_kind: Counter[str] = Counter()
        by_operation: Counter[str] = Counter()
        for (operation, kind), n in self.injected.items():
            by_kind[kind] += n
            by_operation[operation] += n
        return {"requests": sum(self.requests.values()), "injected": sum(self.injected.values()),
                "by_kind": dict(by_kind), "by_operation": dict(by_operation)}


def dynamodb_clients() -> list[Any]:
    """The botocore client of every PynamoDB connection in this process: the models' and those
    the repositories open for transactions and batch reads."""
    from pynamodb.connection.base import Connection

    from chalicelib.storage.models import ALL_MODELS

    connections = [m._get_connection().connection for m in ALL_MODELS]
    connections += [o for o in gc.get_objects() if isinstance(o, Connection)]
    clients: dict[int, Any] = {}
    for connection in connections:
        client = connection.client
        clients[id(client)] = client
    return list(clients.values())


# --- Stripe-shaped events -----------------------------------------------------------------------
def _fixture(event_type: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{event_type}.json").read_text())


def sign(body: str, secret: str) -> str:
    """`Stripe-Signature` as Stripe computes it (HMAC-SHA256 of `t.body`)."""
    t = int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Donation:
    index: int
    page: str
    donor: int
    amount: int
    scenario: Scenario
    ip: str
    idempotency_key: str
    donation_id: str = ""
    payment_intent_id: str = ""
    charge_id: str = ""


@dataclass
class Event:
    event_id: str
    donation: Donation
    step: int  # its place in the scenario
    kind: str
    payload: dict[str, Any]
    first_ok: int | None = None  # the order in which its first 2xx came
    outcomes: Counter[str] = field(default_factory=Counter)


def build_event(donation: Donation, step: int, kind: str, event_id: str) -> Event:
    amount, pi, charge = donation.amount, donation.payment_intent_id, donation.charge_id
    name, _, arg = kind.partition(":")
    if name in ("succeeded", "failed"):
        event_type = "payment_intent.succeeded" if name == "succeeded" else "payment_intent.payment_failed"
        payload = _fixture(event_type)
        obj: dict[str, Any] = {"id": pi, "amount": amount,
                               "metadata": {"donation_id": donation.donation_id, "page": donation.page}}
        if name == "succeeded":
            obj.update(amount_received=amount, latest_charge=charge, status="succeeded")
        else:
            obj.update(status="requires_payment_method", last_payment_error={
                "type": "card_error", "code": "card_declined",
                "payment_method": {"id": "pm_chaos", "card": {"fingerprint": f"fp{donation.index}"}}})
    elif name == "refund":
        payload = _fixture("charge.refunded")
        refunded = _share(amount, arg)
        obj = {"id": charge, "payment_intent": pi, "amount": amount, "amount_captured": amount,
               "amount_refunded": refunded, "refunded": refunded >= amount}
    else:
        payload = _fixture(f"charge.{name.replace('_', '.')}")
        obj = {"charge": charge, "payment_intent": pi, "amount": amount,
               "status": arg or "needs_response"}
    payload["id"] = event_id
    payload["created"] = int(time.time())
    payload["data"]["object"].update(obj)
    return Event(event_id, donation, step, kind, payload)


# --- the run ------------------------------------------------------------------------------------
@dataclass
class Invariant:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ChaosReport:
    config: ChaosConfig
    figures: dict[str, Any] = field(default_factory=dict)
    invariants: list[Invariant] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.invariants)

    def render(self) -> str:
        lines = ["chaos run: " + ", ".join(f"{k}={v}" for k, v in self.config.__dict__.items()), ""]
        for name, value in self.figures.items():
            lines.append(f"  {name}: {value}")
        lines.append("")
        for inv in self.invariants:
            detail = f": {inv.detail}" if inv.detail else ""
            lines.append(f"  [{'ok' if inv.ok else 'FAIL'}] {inv.name}{detail}")
        lines.append("")
        lines.append("ALL INVARIANTS HOLD" if self.ok else "INVARIANTS VIOLATED")
        return "\n".join(lines)


class ChaosRun:
    def __init__(self, config: ChaosConfig, stripe_url: str) -> None:
        self.config = config
        self.stripe_url = stripe_url
        self.mailbox = Path()
        self.rng = random.Random(config.seed)
        self.run_id = "".join(self.rng.choice(string.ascii_lowercase) for _ in range(6)) + \
            f"{int(time.time()) % 100000:05d}"
        self.faults = AwsFaults(config.aws_fault_rate, config.seed,
                                lost_answer_rate=config.lost_answer_rate)
        self.report = ChaosReport(config)
        self.answers: Counter[int] = Counter()
        self.sequence = 0
        self._lock = threading.Lock()
        from app import app

        self.app = app

    # Plumbing ------------------------------------------------------------------------------
    @contextmanager
    def client(self) -> Iterator[Any]:
        from chalice.test import Client

        with Client(self.app, stage_name="dev", project_dir=str(ROOT)) as c:
            yield c

    def _post(self, client: Any, path: str, body: str, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.http.post(path, headers=headers, body=body)
        try:
            return response.status_code, json.loads(response.body or b"null")
        except ValueError:
            return response.status_code, response.body

    def _stripe_faults(self, error_rate: float, timeout_rate: float) -> None:
        requests.post(f"{self.stripe_url}/_standin/faults", timeout=10, json={
            "error_rate": error_rate, "timeout_rate": timeout_rate,
            "timeout_seconds": self.config.stripe_timeout_seconds, "seed": self.config.seed,
            "paths": ["/v1/"]}).raise_for_status()

    def _stripe_counts(self) -> dict[str, int]:
        return dict(requests.get(f"{self.stripe_url}/_standin/faults", timeout=10).json()["counts"])

    def _pool(self, work: list[Any], job: Callable[[Any, Any], None]) -> None:
        """Run `job(client, item)` over `work` on the configured number of threads."""
        items: queue.Queue[Any] = queue.Queue()
        for item in work:
            items.put(item)
        errors: list[BaseException] = []

        def worker() -> None:
            with self.client() as client:
                while True:
                    try:
                        item = items.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        job(client, item)
                    except BaseException as exc:  # surfaced after the pool ends
                        errors.append(exc)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.config.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    # Phases --------------------------------------------------------------------------------
    def run(self) -> ChaosReport:
        donations = self.plan()
        with _mail_mirror() as self.mailbox:
            self._phases(donations)
        return self.report

    def _phases(self, donations: list[Donation]) -> None:
        laps = _Laps(self.faults)
        self.create_pages()
        try:
            self.faults.install()
            self._stripe_faults(self.config.stripe_error_rate, self.config.stripe_timeout_rate)
            self.intake(donations)
            laps.lap("intake")
            donations = [d for d in donations if d.donation_id]
            events = self.build_events(donations)
            self.faults.install()  # clients first opened during intake
            before = self._stripe_counts()["requests"]
            self.deliver(events)
            stripe_calls = self._stripe_counts()["requests"] - before
            laps.lap("webhooks")
            self.report.figures["stripe API calls during webhook delivery"] = stripe_calls
            self.drain(donations)
            laps.lap("drain")
        finally:
            self._stripe_faults(0, 0)
            self.faults.uninstall()
        self.check(donations, events, stripe_calls)
        laps.lap("checks")
        self.report.figures["AWS faults injected"] = self.faults.summary()
        self.report.figures["seconds"] = laps.seconds
        self.report.figures["DynamoDB requests"] = laps.requests

    def plan(self) -> list[Donation]:
        """Donations and scenarios until the events add up to the configured number."""
        weights = [s.weight for s in SCENARIOS]
        donors = max(self.config.events // 6, 1)
        planned: list[Donation] = []
        total = 0
        while total < self.config.events:
            scenario = self.rng.choices(SCENARIOS, weights)[0]
            n = len(planned)
            ip = ".".join(str(self.rng.randrange(1, 255)) for _ in range(3))
            planned.append(Donation(
                index=n, page=f"chaos-{self.run_id}-{self.rng.randrange(self.config.pages)}",
                donor=self.rng.randrange(donors), amount=self.rng.choice(AMOUNTS), scenario=scenario,
                ip=f"10.{ip}",
                idempotency_key=f"chaos-{self.run_id}-{n}"))
            total += len(scenario.steps)
        return planned

    def create_pages(self) -> None:
        from chalicelib.staff.auth import hash_key
        from chalicelib.storage.staff_keys import StaffKeyRepository

        repo = StaffKeyRepository()
        if repo.find(hash_key(ORGANIZER_KEY)) is None:
            repo.save(hash_key(ORGANIZER_KEY), "organizer", "chaos", datetime.now(timezone.utc))
        with self.client() as client:
            for n in range(self.config.pages):
                body = {"slug": f"chaos-{self.run_id}-{n}", "title": f"Chaos {n}", "headline": "Chip in",
                        "body": "", "ask_amounts_cents": [1000, 2700], "goal_cents": 10_000_000,
                        "deadline": "2099-11-03T04:59:00Z", "election": "P2026",
                        "committee_id": "C00123456"}
                status, answer = self._post(client, "/api/admin/pages", json.dumps(body), {
                    "Content-Type": "application/json", "Authorization": f"Bearer {ORGANIZER_KEY}"})
                if status != 201:
                    raise RuntimeError(f"page not created: {status} {answer}")

    def intake(self, donations: list[Donation]) -> None:
        attempts: Counter[int] = Counter()

        def start(client: Any, d: Donation) -> None:
            body = json.dumps(self._intake_body(d))
            headers = {"Content-Type": "application/json", "X-Forwarded-For": d.ip}
            for attempt in range(1, self.config.max_intake_attempts + 1):
                status, answer = self._post(client, f"/api/pages/{d.page}/donations", body, headers)
                with self._lock:
                    attempts[status] += 1
                if status == 201:
                    d.donation_id = answer["donation_id"]
                    d.payment_intent_id = answer["client_secret"].split("_secret_")[0]
                    d.charge_id = "ch_" + hashlib.sha256(d.payment_intent_id.encode()).hexdigest()[:24]
                    return
                if status < 500 and status != 429:
                    raise RuntimeError(f"intake refused: {status} {answer}")
                time.sleep(min(0.05 * 2 ** attempt, 1.0))

        self._pool(donations, start)
        given_up = sum(1 for d in donations if not d.donation_id)
        self.report.figures["intake"] = {
            "donations": len(donations), "answers": dict(sorted(attempts.items())),
            "retried after 5xx": sum(n for s, n in attempts.items() if s >= 500),
            "gave up": given_up}
        counts = self._stripe_counts()
        self.report.figures["Stripe faults at intake"] = counts

    def _intake_body(self, d: Donation) -> dict[str, Any]:
        name = _letters(d.donor)
        return {
            "amount_cents": d.amount, "idempotency_key": d.idempotency_key, "email_opt_in": False,
            "donor": {"first_name": "Chaos", "last_name": f"Donor {name.title()}",
                      "email": f"chaos.{self.run_id}.{name}@example.org",
                      "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                                  "zip": "62701"},
                      "employer": "City Library", "occupation": "Librarian"},
            "attestations": {"us_citizen_or_permanent_resident": True, "own_funds": True,
                             "not_federal_contractor": True, "personal_card": True},
        }

    def build_events(self, donations: list[Donation]) -> list[Event]:
        events = []
        for d in donations:
            for step, kind in enumerate(d.scenario.steps):
                event_id = f"evt_chaos{self.run_id}{len(events):06d}"
                events.append(build_event(d, step, kind, event_id))
        return events

    def deliver(self, events: list[Event]) -> None:
        """Every event at least once; a share twice, some of those at the same moment; all
        shuffled; every non-2xx answer delivered again, as Stripe does."""
        n = len(events)
        twice = self.rng.sample(range(n), round(self.config.duplicate_share * n))
        together = set(twice[:round(self.config.concurrent_share * n)])
        tasks: list[tuple[str, Event]] = []
        for i, event in enumerate(events):
            if i in together:
                tasks.append(("pair", event))  # two copies at the same moment
            else:
                tasks += [("one", event)] * (2 if i in twice else 1)
        self.rng.shuffle(tasks)
        pending: queue.Queue[tuple[str, Event, int]] = queue.Queue()
        for kind, event in tasks:
            pending.put((kind, event, 1))
        deliveries: Counter[str] = Counter()
        undelivered: list[str] = []
        secret = _webhook_secret()

        def post(client: Any, event: Event) -> int:
            body = json.dumps(event.payload)
            status, answer = self._post(client, "/webhooks/stripe", body, {
                "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": sign(body, secret)})
            with self._lock:
                self.answers[status] += 1
                deliveries["deliveries"] += 1
                if 200 <= status < 300:
                    self.sequence += 1
                    if event.first_ok is None:
                        event.first_ok = self.sequence
                    event.outcomes[str(answer.get("outcome") if isinstance(answer, dict) else answer)] += 1
            return status

        def worker() -> None:
            with self.client() as client:
                while True:
                    try:
                        kind, event, attempt = pending.get(timeout=0.2)
                    except queue.Empty:
                        if self._idle(pending):
                            return
                        continue
                    try:
                        statuses = self._together(event, post) if kind == "pair" else [post(client, event)]
                        for status in statuses:
                            if 200 <= status < 300:
                                continue
                            if attempt >= self.config.max_deliveries:
                                undelivered.append(event.event_id)
                            else:
                                deliveries["redelivered"] += 1
                                pending.put(("one", event, attempt + 1))
                    finally:
                        pending.task_done()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.config.threads)]
        for t in threads:
            t.start()
        pending.join()
        for t in threads:
            t.join()
        duplicated = len(twice)
        reordered = self._reordered(events)
        self.report.figures["webhook"] = {
            "events": n, "donations": len({e.donation.donation_id for e in events}),
            "deliveries": deliveries["deliveries"],
            "events delivered twice": f"{duplicated} ({duplicated / n:.0%})",
            "of which concurrently": len(together),
            "redelivered after non-2xx": deliveries["redelivered"],
            "answers": dict(sorted(self.answers.items())),
            "applied before their success (refunds, disputes)": reordered,
            "undelivered after max attempts": len(undelivered),
            "outcomes": dict(sum((e.outcomes for e in events), Counter())),
        }
        self._undelivered = undelivered

    def _idle(self, pending: queue.Queue[Any]) -> bool:
        return pending.unfinished_tasks == 0

    def _together(self, event: Event, post: Callable[[Any, Event], int]) -> list[int]:
        """Two copies of `event` at the same moment, each from its own thread and client."""
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def copy() -> None:
            with self.client() as client:
                barrier.wait()
                statuses.append(post(client, event))

        threads = [threading.Thread(target=copy) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return statuses

    @staticmethod
    def _reordered(events: list[Event]) -> int:
        """Refunds and disputes whose first 2xx came before their donation's success's."""
        success: dict[str, int] = {}
        for e in events:
            if e.kind == "succeeded" and e.first_ok is not None:
                success[e.donation.donation_id] = e.first_ok
        return sum(1 for e in events if e.kind.startswith(("refund", "dispute")) and e.first_ok
                   and e.first_ok < success.get(e.donation.donation_id, 0))

    def drain(self, donations: list[Donation]) -> None:
        """Four workers drain the outbox at once (as overlapping scheduled runs would), with the
        app's handlers, under faults. A message left leased or backing off is picked up by
        moving the workers' clock on."""
        from chalicelib import deps
        from chalicelib.config import settings
        from chalicelib.outbox.dispatcher import Dispatcher
        from chalicelib.storage.models import OutboxModel

        ids = [f"thanks#{d.donation_id}" for d in donations if d.scenario.steps != ("failed",)]
        offset = [timedelta(0)]
        clock = lambda: datetime.now(timezone.utc) + offset[0]  # noqa: E731
        dispatcher = Dispatcher(deps.outbox_store(), deps.outbox_handlers(), clock,
                                settings().outbox_max_attempts)
        self.faults.install()
        totals: Counter[str] = Counter()
        rounds = 0
        errors: list[str] = []
        while True:
            rounds += 1

            def work() -> None:
                for _ in range(50):
                    try:
                        report = dispatcher.drain(limit=100)
                    except Exception as exc:  # a storage fault surfaced; the schedule runs again
                        errors.append(type(exc).__name__)
                        continue
                    with self._lock:
                        totals["handler errors retried"] += report.retried
                        totals["claimed by another worker first"] += report.skipped
                    if not (report.sent or report.retried or report.failed or report.skipped):
                        return

            workers = [threading.Thread(target=work) for _ in range(DRAIN_WORKERS)]
            for t in workers:
                t.start()
            for t in workers:
                t.join()
            with self.faults.paused():
                left = [i for i in ids if _status(OutboxModel, i) == "pending"]
            if not left or rounds > 40:
                break
            offset[0] += timedelta(minutes=10)  # past a lease (5 min) or a backoff
        totals["drain runs ended by a storage error"] = len(errors)
        totals["clock moved on (minutes)"] = int(offset[0].total_seconds() // 60)
        with self.faults.paused():
            for i in ids:
                item = OutboxModel.get(i, consistent_read=True)
                result = str(item.result or "")
                outcome = ("skipped (the donation no longer stands)" if result.startswith("skipped")
                           else "unconfirmed (send interrupted; not repeated)"
                           if result.startswith("unconfirmed") else "emailed")
                totals[f"thank-yous {item.status}: {outcome}"] += 1
        self.report.figures["outbox drain"] = dict(totals)

    # Invariants ----------------------------------------------------------------------------
    def check(self, donations: list[Donation], events: list[Event], stripe_calls: int) -> None:
        with self.faults.paused():
            self._check(donations, events, stripe_calls)

    def _check(self, donations: list[Donation], events: list[Event], stripe_calls: int) -> None:
        from chalicelib.storage.models import (
            DonationModel,
            DonorAggregateModel,
            MovementModel,
            OutboxModel,
            ProcessedEventModel,
        )

        add = self.report.invariants.append
        stored = {i.donation_id: i for i in DonationModel.batch_get([d.donation_id for d in donations])}
        wrong_state, lost, twice = [], [], []
        counted: dict[str, int] = {}
        for d in donations:
            item = stored.get(d.donation_id)
            expected = d.scenario.counted(d.amount)
            got = _counted(item) if item is not None else 0
            counted[d.donation_id] = got
            if item is None or item.status != d.scenario.status:
                wrong_state.append(f"{d.donation_id} ({d.scenario.name}): "
                                   f"{getattr(item, 'status', 'missing')} != {d.scenario.status}")
            if got < expected:
                lost.append(d.donation_id)
            if got > expected:
                twice.append(d.donation_id)
        add(Invariant("every donation ends in its scenario's state", not wrong_state,
                      f"{len(donations)} donations" + (f"; wrong: {wrong_state[:3]}" if wrong_state else "")))
        add(Invariant("no contribution lost", not lost, f"{len(lost)} lost" if lost else ""))
        add(Invariant("none counted twice", not twice, f"{len(twice)} over-counted" if twice else ""))

        # Page totals: what the page shows (its counter shards) against the donations.
        page_rows = []
        pages_ok = True
        with self.client() as client:
            for slug in sorted({d.page for d in donations}):
                mine = [d for d in donations if d.page == slug]
                expected_cents = sum(d.scenario.counted(d.amount) for d in mine)
                expected_count = sum(d.scenario.contributions for d in mine)
                from_items = sum(counted[d.donation_id] for d in mine)
                response = client.http.get(f"/api/pages/{slug}")
                shown = json.loads(response.body)
                ok = shown["raised_cents"] == expected_cents == from_items and \
                    shown["contribution_count"] == expected_count
                pages_ok &= ok
                page_rows.append(f"{slug}: {shown['raised_cents']} cents / {shown['contribution_count']} "
                                 f"(expected {expected_cents} / {expected_count})")
        add(Invariant("every page total equals the sum of its contributions", pages_ok, "; ".join(page_rows)))

        # Donor aggregates, per donor and limit period.
        sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for d in donations:
            item = stored[d.donation_id]
            key = (item.donor_id, item.limit_scope)
            sums[key][0] += counted[d.donation_id]
            sums[key][1] += 1 if item.status == "succeeded" else 0
            if item.reserved_by:  # a reservation held by the email that made the donation
                sums.setdefault((item.reserved_by, item.limit_scope), [0, 0])
        bad_donors = []
        for (donor_id, scope), (cents, count) in sums.items():
            agg = DonorAggregateModel.get(donor_id, scope, consistent_read=True)
            if (int(agg.net_cents or 0), int(agg.contribution_count or 0), int(agg.reserved_cents or 0)) != \
                    (cents, count, 0):
                bad_donors.append(f"{donor_id}: net {agg.net_cents} count {agg.contribution_count} "
                                  f"reserved {agg.reserved_cents} != {cents}/{count}/0")
        add(Invariant("every donor aggregate equals the sum of that donor's contributions "
                      "(and no reservation is left)", not bad_donors,
                      f"{len(sums)} donors" + (f"; wrong: {bad_donors[:3]}" if bad_donors else "")))

        # Every event applied once: its marker exists.
        markers = {m.event_id for m in ProcessedEventModel.batch_get([e.event_id for e in events])}
        missing = [e.event_id for e in events if e.event_id not in markers]
        add(Invariant("every event applied (its marker exists); none undelivered",
                      not missing and not self._undelivered,
                      f"{len(events)} events" + (f"; missing {missing[:3]}" if missing else "")))

        # The movements ledger reconciles with the totals, per donation.
        moved: Counter[str] = Counter()
        slugs = sorted({d.page for d in donations})
        for item in MovementModel.scan(MovementModel.page_slug.is_in(*slugs)):
            moved[item.donation_id] += int(item.amount_cents)
        off = [i for i, c in counted.items() if moved.get(i, 0) != c]
        add(Invariant("money movements sum to each donation's counted money", not off,
                      f"{sum(moved.values())} cents moved" + (f"; off: {off[:3]}" if off else "")))

        add(Invariant("the webhook path made no Stripe call", stripe_calls == 0,
                      f"{stripe_calls} calls while events were delivered"))

        # Thank-yous: planned once per paid donation, each emailed exactly once if the donation
        # still stands when the drain gets to it (a refunded one is skipped), and never twice.
        sent_by_message = self._ses_sends()
        problems, emailed = [], 0
        for d in donations:
            paid = d.scenario.steps != ("failed",)
            message = OutboxModel.get(f"thanks#{d.donation_id}", consistent_read=True) if paid else None
            if not paid:
                try:
                    OutboxModel.get(f"thanks#{d.donation_id}")
                    problems.append(f"{d.donation_id}: a declined donation was thanked")
                except OutboxModel.DoesNotExist:
                    pass
                continue
            assert message is not None
            sends = sent_by_message.get(f"thanks#{d.donation_id}", 0)
            emailed += sends
            want = 1 if d.scenario.status == "succeeded" else 0
            if message.status != "sent" or sends != want:
                problems.append(f"thanks#{d.donation_id}: {message.status} ({message.result}), "
                                f"{sends} emails, expected {want}")
        add(Invariant("every due thank-you sent exactly once", not problems,
                      f"{emailed} emails" + (f"; wrong: {problems[:3]}" if problems else "")))

    def _ses_sends(self) -> Counter[str]:
        """Emails SES accepted, by the outbox message they carry (X-Groundswell-Message), from
        the mailer's mirror (written only once SES answered with a message id)."""
        import email
        import email.policy

        found: Counter[str] = Counter()
        for path in self.mailbox.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if f"chaos.{self.run_id}." in str(message["To"]):
                found[str(message["X-Groundswell-Message"])] += 1
        return found


def _status(model: Any, key: str) -> str | None:
    try:
        return str(model.get(key, consistent_read=True).status)
    except model.DoesNotExist:
        return None


def _counted(item: Any) -> int:
    """Money a stored donation counts, by the ledger's published rule (see giving/ledger.py)."""
    status = item.status
    if status not in ("succeeded", "refunded"):
        return 0
    return max(int(item.amount_cents) - int(item.refunded_cents or 0), 0)


def _letters(n: int) -> str:
    """A name for donor `n` in letters (names match people by letters only, so no digits)."""
    out = ""
    n += 26 * 26
    while n:
        n, r = divmod(n, 26)
        out = string.ascii_lowercase[r] + out
    return out


class _Laps:
    """Seconds and DynamoDB requests per phase."""

    def __init__(self, faults: AwsFaults) -> None:
        self.faults = faults
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}
        self.requests: dict[str, int] = {}

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = round(now - self.started, 1)
        self.started = now
        self.requests[phase] = sum(self.faults.requests.values()) - sum(self.requests.values())


@contextmanager
def _mail_mirror() -> Iterator[Path]:
    """The app's services rebuilt to mirror each email SES accepted into a fresh folder."""
    from chalicelib import deps

    saved = os.environ.get("MAIL_MIRROR_DIR")
    with tempfile.TemporaryDirectory(prefix="chaos-mail-") as folder:
        os.environ["MAIL_MIRROR_DIR"] = folder
        deps.reset()
        try:
            yield Path(folder)
        finally:
            if saved is None:
                os.environ.pop("MAIL_MIRROR_DIR", None)
            else:
                os.environ["MAIL_MIRROR_DIR"] = saved
            deps.reset()


def _webhook_secret() -> str:
    from chalicelib.config import settings

    return settings().stripe_webhook_secret


# --- standalone: `make chaos` -------------------------------------------------------------------
@contextmanager
def local_stack() -> Iterator[str]:
    """moto's server and the Stripe stand-in on free ports, this process pointed at them."""
    # The app's warnings (each retry asked of Stripe, ...) would drown the report.
    with stack.local_services(LOGS, POWERTOOLS_LOG_LEVEL="ERROR") as services:
        yield services.stripe_url


def main() -> None:
    defaults = ChaosConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, value in defaults.__dict__.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    parser.add_argument("--json", help="also write the report here as JSON")
    args = parser.parse_args()
    config = ChaosConfig(**{k: getattr(args, k) for k in defaults.__dict__})
    with local_stack() as stripe_url:
        report = ChaosRun(config, stripe_url).run()
    print(report.render())
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"config": config.__dict__, "figures": report.figures,
                       "invariants": [i.__dict__ for i in report.invariants], "ok": report.ok},
                      out, indent=1, default=str)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
