"""2. Work per event and 3. the hot-key ceiling, from one simulated run of donations to one page.

Each donation is what a donor's visit costs the API, in-process through `chalice.test.Client`
against moto's server: the donation page, its script, the intake, Stripe's signed
`payment_intent.succeeded` webhook and the thank-you page. A first pass with nothing observed
times each handler; a second pass observes every AWS request (common.Recorder) and prices its
DynamoDB capacity; some webhooks are then delivered again (duplicates).

The ceiling: every item written (table partition and, from the item's attributes before and
after, every GSI partition it lands in) is counted per partition key over N donations to one
page; at 1,000 donations/s the hottest key then takes writes/N x 1,000 writes per second.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from typing import Any

from devtools.bench.common import (
    RNG,
    Figure,
    Recorder,
    Section,
    Window,
    donation_body,
    donor_headers,
    hottest,
    key_family,
    median,
    new_id,
    new_page,
    signed,
    succeeded_event,
)

DONATIONS = 300  # observed donations to one page
TIMED = 40  # donations timed with nothing observed
DUPLICATES = 50  # webhooks delivered a second time
RATE = 1000  # donations per second to one page, for the ceiling
PARTITION_WCU = 1000  # DynamoDB's write limit per partition (units per second)
AMOUNTS = (1000, 2700, 5000, 10000)
STEPS = ("page view", "script", "beacon", "progress", "intake", "webhook", "thank-you page")
VIEW_STEPS = ("page view", "script", "beacon", "progress")  # what every visitor's view costs


class Visit:
    """One donor's requests, in order, against the in-process app."""

    def __init__(self, client: Any, slug: str, amount: int) -> None:
        self.client, self.slug, self.amount = client, slug, amount
        self.started: dict[str, Any] = {}
        self.event: dict[str, Any] = {}

    def step(self, name: str) -> Any:
        http = self.client.http
        if name == "page view":
            return http.get(f"/donate/{self.slug}?amount={self.amount}")
        if name == "script":
            return http.get("/assets/donate.js")
        if name == "beacon":  # a new visitor's count (the page's script sends it once)
            return http.post(f"/api/pages/{self.slug}/visits", body="{}", headers={
                "Content-Type": "application/json", "Cookie": f"gs_vid={new_id(22)}"})
        if name == "progress":
            return http.get(f"/api/pages/{self.slug}/progress")
        if name == "intake":
            r = http.post(f"/api/pages/{self.slug}/donations", body=_json(donation_body(self.amount)),
                          headers=donor_headers())
            self.started = _loads(r.body)
            self.event = succeeded_event(self.started, self.slug)
            return r
        if name == "webhook":
            return self.deliver()
        return http.get(f"/donate/{self.slug}/thanks")

    def deliver(self) -> Any:
        body, headers = signed(self.event)
        return self.client.http.post("/webhooks/stripe", body=body, headers=headers)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _loads(body: bytes | str) -> dict[str, Any]:
    import json

    return dict(json.loads(body))


def _check(response: Any, step: str, outcome: str | None = None) -> None:
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{step} answered {response.status_code}: {response.body[:300]!r}")
    if outcome and _loads(response.body).get("outcome") != outcome:
        raise RuntimeError(f"{step} outcome {_loads(response.body).get('outcome')}, expected {outcome}")


def run() -> tuple[Section, Section]:
    from chalice.test import Client

    from app import app
    from chalicelib.config import settings, table_name

    slug = new_page()
    with Client(app, stage_name="dev") as client:
        durations: dict[str, list[float]] = defaultdict(list)
        sizes: dict[str, list[float]] = defaultdict(list)
        for i in range(3 + TIMED):  # three warm-ups (clients built, committee cached), then timed
            visit = Visit(client, slug, RNG.choice(AMOUNTS))
            for step in STEPS:
                t = time.perf_counter()
                r = visit.step(step)
                elapsed = time.perf_counter() - t
                _check(r, step, "applied" if step == "webhook" else None)
                if i >= 3:
                    durations[step].append(elapsed)
                    sizes[step].append(float(len(r.body or b"")))
            t = time.perf_counter()
            _check(visit.deliver(), "duplicate", "duplicate")
            if i >= 3:
                durations["duplicate"].append(time.perf_counter() - t)
        delivery: dict[str, Any] = {"error": None}
        try:
            sent, seconds = _drain()
            delivery.update(timed_sent=sent, ms_per_message=seconds * 1000 / sent if sent else 0.0)
        except Exception as exc:  # the outbox's handlers are not the bench's to fix
            delivery["error"] = f"{type(exc).__name__}: {exc}"

        stripe_since = time.time()
        recorder = Recorder()
        recorder.attach()
        windows: dict[str, list[Window]] = defaultdict(list)
        visits = []
        try:
            for _ in range(DONATIONS):
                visit = Visit(client, slug, RNG.choice(AMOUNTS))
                for step in STEPS:
                    with recorder.window() as w:
                        r = visit.step(step)
                    _check(r, step, "applied" if step == "webhook" else None)
                    windows[step].append(w)
                visits.append(visit)
            for visit in visits[:DUPLICATES]:
                with recorder.window() as w:
                    r = visit.deliver()
                _check(r, "duplicate", "duplicate")
                windows["duplicate"].append(w)
            if not delivery["error"]:
                with recorder.window() as w:
                    try:
                        delivery["sent"], _ = _drain()
                    except Exception as exc:
                        delivery["error"] = f"{type(exc).__name__}: {exc}"
                delivery["window"] = w
        finally:
            recorder.detach()
    outbox = table_name("outbox") + ":"
    written = sum(1 for step in ("intake", "webhook") for w in windows[step] for c in w.calls
                  for label, _ in c.partition_writes if label.startswith(outbox))
    delivery["messages_per_donation"] = written / DONATIONS
    delivery["due_per_donation"] = delivery.get("sent", 0) / DONATIONS
    w = delivery.get("window")
    delivery["emails_per_donation"] = (sum(v for k, v in w.other.items() if k.startswith("ses"))
                                       / DONATIONS) if w else 0.0
    work = _work_section(windows, durations)
    work.data["delivery"] = delivery
    work.data["bytes"] = {step: median(v) for step, v in sizes.items()}
    work.data["stripe_per_intake"] = _stripe_requests(settings().stripe_api_base, stripe_since) / DONATIONS
    work.notes.append(_delivery_note(delivery))
    return work, _ceiling_section(windows, settings())


def _stripe_requests(base: str | None, since: float) -> int:
    """Server-side requests the stand-in received since `since` (its arrival log)."""
    import requests

    if not base:
        return 0
    seen = requests.get(f"{base}/_standin/requests", params={"since": since}, timeout=30).json()
    return sum(1 for r in seen["requests"] if r["path"].startswith("/v1/"))


def _drain() -> tuple[int, float]:
    """Deliver what the outbox holds that is due now, as the fanned-out drain does: each shard's
    worker in turn (one at a time, so the time per message is one worker's); (sent, seconds)."""
    from chalicelib import deps
    from chalicelib.outbox.fanout import plan

    sent, t = 0, time.perf_counter()
    for shard in plan(deps.settings().outbox_shards):
        sent += deps.shard_worker().run(shard).sent
    return sent, time.perf_counter() - t


def _delivery_note(d: dict[str, Any]) -> str:
    text = (f"Outbox: {d['messages_per_donation']:.2f} messages written per donation (intake and "
            "webhook transactions). ")
    if d["error"]:
        return text + f"Delivering them could not be measured here ({d['error']})."
    w: Window | None = d.get("window")
    sent = d.get("sent", 0)
    if not w or not sent:
        return text + "None was due during the run (later reminders), so delivery is not measured."
    return text + (f"Delivering the {sent} due now (the `drain_shard` workers, one per shard): "
                   f"{w.requests / sent:.1f} "
                   f"DynamoDB requests, {w.wru / sent:.1f} WRU and {w.rru / sent:.1f} RRU per message; "
                   f"other AWS calls: {dict(w.other) or 'none'}.")


def _per(ws: list[Window]) -> dict[str, Any]:
    requests = [w.requests for w in ws]
    ops: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for w in ws:
        ops.update(w.operations())
        other.update(w.other)
    n = len(ws)
    return {"requests": Counter(requests).most_common(1)[0][0], "max_requests": max(requests),
            "mean_requests": sum(requests) / n, "rru": sum(w.rru for w in ws) / n,
            "wru": sum(w.wru for w in ws) / n,
            "ops": {k: v / n for k, v in sorted(ops.items())},
            "other": {k: v / n for k, v in sorted(other.items())}}


def _work_section(windows: dict[str, list[Window]], durations: dict[str, list[float]]) -> Section:
    per = {step: _per(ws) for step, ws in windows.items()}
    ms = {step: median(v) * 1000 for step, v in durations.items()}
    ok, dup, intake = per["webhook"], per["duplicate"], per["intake"]
    section = Section("2. Work per event", [
        Figure("DynamoDB requests per successful payment webhook",
               f"{ok['requests']} typical, {ok['mean_requests']:.3f} mean, {ok['max_requests']} max "
               f"({_ops(ok['ops'])})", "≤ 2", ok["requests"] <= 2),
        Figure("DynamoDB requests per duplicate delivery",
               f"{dup['requests']} typical, {dup['max_requests']} max ({_ops(dup['ops'])})", "1",
               dup["requests"] <= 1),
        Figure("DynamoDB requests per intake",
               f"{intake['requests']} typical, {intake['mean_requests']:.3f} mean, "
               f"{intake['max_requests']} max ({_ops(intake['ops'])})", "≤ 3", intake["requests"] <= 3),
        Figure("capacity per successful webhook", f"{ok['wru']:.1f} WRU + {ok['rru']:.1f} RRU"),
        Figure("capacity per duplicate delivery", f"{dup['wru']:.1f} WRU + {dup['rru']:.1f} RRU"),
        Figure("capacity per intake", f"{intake['wru']:.1f} WRU + {intake['rru']:.1f} RRU"),
    ], data={"per": per, "ms": ms})
    rows = ["| request | DynamoDB requests (typical / max) | operations | WRU | RRU | handler ms (median) |",
            "|---|---:|---|---:|---:|---:|"]
    for step in (*STEPS, "duplicate"):
        p = per[step]
        rows.append(f"| {step} | {p['requests']} / {p['max_requests']} | {_ops(p['ops'])} | "
                    f"{p['wru']:.1f} | {p['rru']:.1f} | {ms[step]:.1f} |")
    section.notes.append("\n".join(rows))
    section.notes.append(
        f"{DONATIONS} donations to one page, each its five requests, then {DUPLICATES} webhooks "
        f"delivered again; handler times are the median of {TIMED} donations run with nothing "
        "observed, in this process against moto's server (so they include local round trips, "
        "not AWS's). Units follow DynamoDB's published rules: writes 1 WRU per KB of the larger "
        "of the item before and after (x2 inside a transaction, condition checks included); "
        "a changed item also costs 1 WRU per KB in each GSI it is in (twice when its index key "
        "changes); reads 1 RRU per 4 KB strongly consistent, half eventually consistent, x2 in "
        "a transaction. moto's own `ConsumedCapacity` is a placeholder, so it is not used. The "
        "goal applies to the typical event; an occasional extra read (e.g. a per-container cache "
        "refreshing) shows in the mean and max.")
    section.notes.append(
        "Intake: the page and its committee come from the container's copy (`PAGE_CACHE_SECONDS`, "
        "`COMMITTEE_CACHE_SECONDS`: a GetItem each when it is older); one BatchGetItem reads the "
        "donor's two identity items and the address's eight velocity counters; one "
        "TransactWriteItems writes the pending donation, its reservation (on condition that it "
        "fits the limit) and the address's intake and pending counts (on condition that they fit "
        "their caps); one UpdateItem attaches the PaymentIntent. A donor linked to another "
        "email by name and ZIP costs one GetItem more (that person's net giving, which the "
        "commit requires unchanged). A copy a few seconds old is safe: the limit is the "
        "transaction's condition and the webhook's check, never the cached read (README, "
        "\"Intake's reads\").")
    return section


def _ops(ops: dict[str, float]) -> str:
    """`TransactGetItems, 2 GetItem, + Query in 0.3 %`: operations per event, on average."""
    def one(k: str, v: float) -> str:
        if v < 1:
            return f"+ {k} in {v:.1%}"
        return k if v == 1 else f"{v:.3g} {k}"

    return ", ".join(one(k, v) for k, v in sorted(ops.items(), key=lambda kv: -kv[1])) or "none"


def _families(windows: dict[str, list[Window]]) -> list[dict[str, Any]]:
    """Each key family's keys and write units per unit of what drives it: a donation (intake,
    webhook, thank-you page) or a page view (its beacon and reads), for the scale model."""
    out = []
    for driver, steps in (("donation", ("intake", "webhook", "thank-you page")),
                          ("view", VIEW_STEPS)):
        calls = [c for step in steps for w in windows[step] for c in w.calls]
        n = len(windows[steps[0]])
        families: dict[str, list[float]] = defaultdict(list)
        for label, _, units in hottest(calls):
            # Per-visitor or per-IP keys with a window or shard number are still one key each.
            families[re.sub(r"[0-9a-f]{16,}", "<id>", key_family(label))].append(units)
        for family, units in families.items():
            out.append({"label": family, "keys": len(units), "wru": sum(units) / n, "driver": driver})
    return out


def _ceiling_section(windows: dict[str, list[Window]], s: Any) -> Section:
    calls = [c for step in ("intake", "webhook") for w in windows[step] for c in w.calls]
    n = len(windows["webhook"])
    rows = hottest(calls)
    label, writes, _ = rows[0]
    per_second = writes / n * RATE
    families: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for lbl, w, u in rows:
        families[key_family(lbl)].append((w, u))
    # With uniform hashing each of a family's keys takes an equal share of the family's writes.
    spread = sorted(((f, len(k), sum(w for w, _ in k) / n, sum(u for _, u in k) / n, max(w for w, _ in k))
                     for f, k in families.items()), key=lambda r: -r[3] / r[1])
    expected_units = spread[0][3] / spread[0][1]
    section = Section("3. Hot-key ceiling", [
        Figure(f"writes/s on the hottest partition key at {RATE:,} donations/s to one page",
               f"{per_second:.0f}/s (`{label}`, {writes} writes in {n} donations)", "< 500/s",
               per_second < 500),
        Figure("peak donations/s the configured shards allow",
               f"{PARTITION_WCU / expected_units:,.0f}/s (`{spread[0][0]}`: {spread[0][3]:.1f} WRU "
               f"per donation over {spread[0][1]} keys)"),
    ], data={"hottest": rows[:10], "families": _families(windows), "shards": {
        "COUNTER_SHARDS": s.counter_shards, "PENDING_SHARDS": s.pending_shards,
        "OUTBOX_SHARDS": s.outbox_shards, "LEDGER_SHARDS": s.ledger_shards}})
    table = ["| key family (`<n>`: shard) | keys | writes per donation | WRU per donation | "
             "writes/s per key at 1,000/s (even spread) | hottest key in run, writes/s |",
             "|---|---:|---:|---:|---:|---:|"]
    for fam, keys, w, u, top in spread[:8]:
        table.append(f"| `{fam}` | {keys} | {w:.2f} | {u:.2f} | {w / keys * RATE:.0f} "
                     f"| {top / n * RATE:.0f} |")
    section.notes.append("\n".join(table))
    section.notes.append(
        f"Every item written by {n} intakes and successful webhooks to one page, counted per "
        "partition key of the table and of each GSI the item is (or was) in. DynamoDB allows "
        f"{PARTITION_WCU:,} WCU/s per partition (on-demand too); the peak is that limit over the "
        "write units one donation puts on each key of the busiest family when its shards are "
        "evenly hashed (a finite run's hottest shard sits a little above its share). Shards: "
        f"`COUNTER_SHARDS={s.counter_shards}` (per page), `LEDGER_SHARDS={s.ledger_shards}` "
        f"(movements `by-month`, per committee and month), `OUTBOX_SHARDS={s.outbox_shards}` (outbox "
        f"`due`, all pages), `PENDING_SHARDS={s.pending_shards}` (donations `pending`, keys only, "
        "all pages).")
    return section
