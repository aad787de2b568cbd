"""7. Scale model: election night at 100 times ActBlue's 2016 peak, computed from this run.

3,000 contributions per second and 30,000 page views per second on one page, for one hour:
for each resource its load (from section 2's measured requests, capacity units, handler
milliseconds and bytes per request, and section 3's partition keys), the published quota it
meets, the headroom, and what must be raised (and to what) before the night; and the hour's
cost at list prices. The arithmetic is plain functions of their inputs
(tests/unit/test_scale_model.py checks it on fixed figures); `section()` renders it.

The assumptions are named in `ASSUMPTIONS` and printed with the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARGIN = 1.5  # ask for this much more than the modeled peak
ASSUMPTIONS = (
    "every page view is a new visitor's (its beacon is not suppressed by an earlier visit); a "
    "view stays 60 s and polls the thermometer every 20 s (donate.js); the page and its script "
    "come from the edge (origin misses are under 10/s per resource, tests/deploy/"
    "test_edge_cache.py, so they are left out); every thank-you is sent within the hour; "
    "handler times are this machine's, in-process against moto (AWS's own latency differs, so "
    "concurrency and Lambda cost are indicative); table names are the local stage's; prices "
    "are us-east-1 list prices without free tier.")

# Steps of section 2 that reach the origin (API Gateway and Lambda), and what drives them.
VIEW_STEPS = ("beacon",)
DONATION_STEPS = ("intake", "webhook", "thank-you page")
# Served by CloudFront: per view, the page, its script and the thermometer polls.
EDGE_VIEW_STEPS = ("page view", "script")


@dataclass(frozen=True)
class Quota:
    value: float
    name: str  # what AWS or Stripe calls it, and where it is published
    raisable: bool = True  # a soft quota one asks for; False: a hard limit (design around it)


# Published defaults (November 2026), each as its owner documents it.
QUOTAS: dict[str, Quota] = {
    "cloudfront_rps": Quota(250_000, "CloudFront: requests per second per distribution (250,000)"),
    "api_gateway_rps": Quota(10_000, "API Gateway: throttle quota per account per Region, REST "
                                     "(10,000 RPS, burst 5,000)"),
    "lambda_concurrency": Quota(1_000, "Lambda: concurrent executions per Region (1,000)"),
    "partition_wcu": Quota(1_000, "DynamoDB: 1,000 write units per second per partition key",
                           raisable=False),
    "table_wru": Quota(40_000, "DynamoDB: on-demand throughput per table (40,000 WRU/s)"),
    "table_warm_wru": Quota(4_000, "DynamoDB: a new on-demand table's warm throughput (4,000 "
                                   "writes/s; pre-warm it)"),
    "ses_rate": Quota(14, "SES: MaxSendRate of a new production account (14/s)"),
    "ses_day": Quota(50_000, "SES: Max24HourSend of a new production account (50,000)"),
    "stripe_writes": Quota(100, "Stripe: live-mode write operations per second (100)"),
}

# List prices, us-east-1 (cost.py's, plus the edge's).
EDGE_PRICES = {
    "cloudfront_request": 1.00 / 1e6,  # HTTPS, United States
    "cloudfront_gb": 0.085,  # first 10 TB a month, United States
    "waf_request": 0.60 / 1e6,
}

# The setting that spreads each sharded key family over more keys.
SHARD_SETTINGS = {"counters": "COUNTER_SHARDS", "pending": "PENDING_SHARDS", "due#": "OUTBOX_SHARDS",
                  "by-month": "LEDGER_SHARDS", "budget#ses": "SEND_RATE_SHARDS"}


@dataclass(frozen=True)
class Scenario:
    contributions_per_second: float = 3_000
    views_per_second: float = 30_000
    hours: float = 1.0
    view_seconds: float = 60.0  # how long a page stays open
    poll_seconds: float = 20.0  # donate.js polls the thermometer this often

    @property
    def polls_per_view(self) -> float:
        return self.view_seconds / self.poll_seconds


@dataclass(frozen=True)
class Step:
    """One request's measured cost (section 2)."""

    requests: float  # DynamoDB requests
    wru: float
    rru: float
    ms: float  # handler milliseconds
    bytes: float  # response body


@dataclass(frozen=True)
class Family:
    """A key family of section 3: `keys` partition keys sharing `wru` write units per unit of
    its driver ("donation" or "view"), evenly spread."""

    label: str
    keys: int
    wru: float
    driver: str = "donation"

    @property
    def table(self) -> str:
        return self.label.split(":", 1)[0].split("/", 1)[0]


@dataclass(frozen=True)
class Measured:
    steps: Mapping[str, Step]
    families: tuple[Family, ...]
    emails_per_donation: float
    stripe_per_intake: float
    messages_per_donation: float  # due within the hour (thank-yous, credits; not later reminders)
    drain_ms_per_message: float
    reserved: Mapping[str, int] = field(default_factory=dict)  # .chalice/config.json (prod)
    # The drain fans out (chalicelib/outbox/fanout.py): one `drain_shard` worker per outbox
    # `due` shard, each delivering continuously at 1000 / drain_ms_per_message messages a second.
    drain_shards: int = 10  # OUTBOX_SHARDS
    background_stripe: float = 25  # STRIPE_REQUESTS_PER_SECOND


@dataclass(frozen=True)
class Row:
    resource: str
    load: float
    unit: str
    quota: Quota

    @property
    def utilization(self) -> float:
        return self.load / self.quota.value if self.quota.value else math.inf

    @property
    def headroom(self) -> float:
        """How many times the load still fits (below 1: it breaks)."""
        return self.quota.value / self.load if self.load else math.inf

    @property
    def breaks(self) -> bool:
        return self.load > self.quota.value

    def action(self) -> str:
        if not self.breaks:
            return "none"
        needed = math.ceil(round(self.load * MARGIN, 3))
        if self.quota.raisable:
            return f"raise to {needed:,} {self.unit} ({needed / self.quota.value:,.1f}x)"
        return "cannot be raised: change the design"


def _rate(s: Scenario, driver: str) -> float:
    return s.views_per_second if driver == "view" else s.contributions_per_second


def origin_rps(m: Measured, s: Scenario) -> dict[str, float]:
    """Requests per second that reach API Gateway and Lambda, by step."""
    out = {step: s.views_per_second for step in VIEW_STEPS if step in m.steps}
    out.update({step: s.contributions_per_second for step in DONATION_STEPS if step in m.steps})
    return out


def edge_rps(m: Measured, s: Scenario) -> float:
    """Every request CloudFront serves: views' page, script, polls and beacon, and donors'."""
    per_view = len(EDGE_VIEW_STEPS) + s.polls_per_view
    return s.views_per_second * per_view + sum(origin_rps(m, s).values())


def concurrency(m: Measured, s: Scenario, steps: Iterable[str]) -> float:
    """Little's law: executions in flight = arrivals per second x seconds each."""
    rps = origin_rps(m, s)
    return sum(rps[step] * m.steps[step].ms / 1000 for step in steps if step in rps)


def family_rows(m: Measured, s: Scenario) -> list[Row]:
    rows = []
    for f in m.families:
        if "<id>" in f.label:
            continue  # one key per donation, donor or visitor: each written a few times in all
        per_key = _rate(s, f.driver) * f.wru / f.keys
        setting = next((v for k, v in SHARD_SETTINGS.items() if k in f.label), None)
        quota = QUOTAS["partition_wcu"]
        if setting:  # a sharded family: more shards lower the load per key
            quota = Quota(quota.value, f"{quota.name}; shards: {setting}={f.keys}", raisable=False)
        rows.append(Row(f"DynamoDB key `{f.label}` (per key)", per_key, "WRU/s", quota))
    return rows


def shards_needed(row: Row, keys: int) -> int:
    """Shards for a sharded family to carry its load with MARGIN."""
    return math.ceil(keys * row.load * MARGIN / row.quota.value)


def table_rows(m: Measured, s: Scenario) -> list[Row]:
    tables: dict[str, float] = {}
    for f in m.families:
        tables[f.table] = tables.get(f.table, 0.0) + _rate(s, f.driver) * f.wru
    rows = []
    for table, wru in sorted(tables.items(), key=lambda kv: -kv[1]):
        rows.append(Row(f"DynamoDB table `{table}` (writes)", wru, "WRU/s", QUOTAS["table_wru"]))
        rows.append(Row(f"DynamoDB table `{table}` (from cold)", wru, "WRU/s", QUOTAS["table_warm_wru"]))
    return rows


def rows(m: Measured, s: Scenario) -> list[Row]:
    api_steps = tuple(origin_rps(m, s))
    api_concurrency = concurrency(m, s, api_steps)
    messages = s.contributions_per_second * m.messages_per_donation
    per_worker = 1000 / m.drain_ms_per_message if m.drain_ms_per_message > 0 else 0.0
    drain_capacity = min(m.drain_shards * per_worker, QUOTAS["ses_rate"].value)
    emails = s.contributions_per_second * m.emails_per_donation
    out = [
        Row("CloudFront requests", edge_rps(m, s), "requests/s", QUOTAS["cloudfront_rps"]),
        Row("API Gateway requests (what the edge cannot cache)", sum(origin_rps(m, s).values()),
            "requests/s", QUOTAS["api_gateway_rps"]),
        Row("Lambda concurrency, account (all functions)",
            api_concurrency + messages * m.drain_ms_per_message / 1000, "executions",
            QUOTAS["lambda_concurrency"]),
        Row("Lambda concurrency, `api_handler`", api_concurrency, "executions",
            Quota(m.reserved.get("api_handler", QUOTAS["lambda_concurrency"].value),
                  "its reserved concurrency (.chalice/config.json, prod)")),
        Row("outbox drain throughput (`drain_shard` workers)", messages, "messages/s",
            Quota(drain_capacity, f"{m.drain_shards} shard workers x {per_worker:.1f} messages/s "
                                  f"each (measured), capped by {QUOTAS['ses_rate'].name}; "
                                  f"shards: OUTBOX_SHARDS={m.drain_shards}",
                  raisable=False)),
        Row("SES sends", emails, "emails/s", QUOTAS["ses_rate"]),
        Row("SES sends in 24 hours (this hour's)", emails * 3600 * s.hours, "emails",
            QUOTAS["ses_day"]),
        Row("Stripe requests (intake + background budget)",
            s.contributions_per_second * m.stripe_per_intake + m.background_stripe, "requests/s",
            QUOTAS["stripe_writes"]),
    ]
    return out + family_rows(m, s) + table_rows(m, s)


def first_to_break(model: list[Row]) -> Row | None:
    """As traffic ramps up towards the night's peak, the resource whose quota is passed first:
    the highest load-to-quota ratio."""
    broken = [r for r in model if r.breaks]
    return max(broken, key=lambda r: r.utilization) if broken else None


def hour_cost(m: Measured, s: Scenario, prices: Mapping[str, float], lambda_gb: float) -> dict[str, float]:
    """Dollars for the scenario's hours, by service, at list prices."""
    seconds = 3600 * s.hours
    rps = origin_rps(m, s)
    invocations = sum(rps.values()) * seconds
    lambda_seconds = sum(rps[st] * m.steps[st].ms / 1000 for st in rps) * seconds
    messages = s.contributions_per_second * m.messages_per_donation * seconds
    lambda_seconds += messages * m.drain_ms_per_message / 1000
    wru = sum(_rate(s, f.driver) * f.wru for f in m.families) * seconds
    rru = sum(rps[st] * m.steps[st].rru for st in rps) * seconds
    views = s.views_per_second * seconds
    per_view = sum(m.steps[st].bytes for st in EDGE_VIEW_STEPS if st in m.steps)
    if "progress" in m.steps:
        per_view += s.polls_per_view * m.steps["progress"].bytes
    edge_bytes = views * per_view
    edge_bytes += sum(rps[st] * m.steps[st].bytes for st in rps) * seconds
    edge_requests = edge_rps(m, s) * seconds
    return {
        "CloudFront requests": edge_requests * prices["cloudfront_request"],
        "CloudFront data out": edge_bytes / 1e9 * prices["cloudfront_gb"],
        "WAF requests": edge_requests * prices["waf_request"],
        "API Gateway (REST)": invocations * prices["api_gateway_rest_request"],
        "Lambda requests": invocations * prices["lambda_request"],
        "Lambda duration": lambda_seconds * lambda_gb * prices["lambda_gb_second"],
        "DynamoDB writes": wru * prices["dynamodb_wru"],
        "DynamoDB reads": rru * prices["dynamodb_rru"],
        "SES": s.contributions_per_second * m.emails_per_donation * seconds * prices["ses_email"],
    }


def _number(x: float) -> str:
    if x == math.inf:
        return "∞"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}" if x < 10 else f"{x:,.1f}"


def table(model: list[Row], m: Measured) -> str:
    keys = {f"DynamoDB key `{f.label}` (per key)": f.keys for f in m.families}
    out = ["| resource | load | quota | headroom | to do before the night |", "|---|---:|---|---:|---|"]
    for r in sorted(model, key=lambda r: -r.utilization):
        todo = r.action()
        if r.breaks and r.resource in keys and not r.quota.raisable and "shards:" in r.quota.name:
            setting = r.quota.name.rsplit("shards: ", 1)[1].split("=")[0]
            todo = f"set {setting} ≥ {shards_needed(r, keys[r.resource]):,}"
        elif r.breaks and r.resource.startswith("DynamoDB key"):
            todo = "one key takes more than a partition can: shard it"
        elif r.breaks and r.resource.startswith("outbox drain"):
            per_worker = 1000 / m.drain_ms_per_message if m.drain_ms_per_message > 0 else 1.0
            todo = (f"set OUTBOX_SHARDS ≥ {math.ceil(r.load * MARGIN / per_worker):,} (and the "
                    "`drain_shard` reserved concurrency with it), and raise SES's MaxSendRate "
                    "(the SES sends row)")
        headroom = f"{r.headroom:,.2f}x" if r.headroom < 100 else "≥ 100x"
        out.append(f"| {r.resource} | {_number(r.load)} {r.unit} | {_number(r.quota.value)} "
                   f"({r.quota.name}) | {headroom} | {todo} |")
    return "\n".join(out)


def section(work: dict[str, Any], ceiling: dict[str, Any], prices: Mapping[str, float],
            lambda_gb: float, reserved: Mapping[str, int], scenario: Scenario | None = None) -> Any:
    from devtools.bench.common import Figure, Section

    s = scenario or Scenario()
    m = measured(work, ceiling, reserved)
    model = rows(m, s)
    first = first_to_break(model)
    cost = hour_cost(m, s, prices, lambda_gb)
    total = sum(cost.values())
    broken = sorted((r for r in model if r.breaks), key=lambda r: -r.utilization)
    figures = [
        Figure("first limit that breaks", f"{first.resource}: {_number(first.load)} {first.unit} "
               f"against {_number(first.quota.value)} ({first.utilization:,.0f}x over)"
               if first else "none"),
        Figure("resources over their quota at the peak", f"{len(broken)} of {len(model)}"),
        Figure(f"cost of the hour ({s.contributions_per_second:,.0f} contributions/s, "
               f"{s.views_per_second:,.0f} views/s)",
               f"${total:,.0f} ({s.contributions_per_second * 3600 * s.hours:,.0f} contributions, "
               f"${total / (s.contributions_per_second * 3600 * s.hours) * 1000:.2f} per 1,000)"),
    ]
    sec = Section("7. Scale model", figures)
    sec.notes.append(table(model, m))
    rows_cost = ["| service | the hour |", "|---|---:|"]
    rows_cost += [f"| {k} | ${v:,.2f} |" for k, v in cost.items()]
    rows_cost.append(f"| **total** | **${total:,.2f}** |")
    sec.notes.append("\n".join(rows_cost))
    per = ", ".join(f"{k} {v.requests:g} requests / {v.wru:.1f} WRU / {v.ms:.0f} ms / "
                    f"{v.bytes / 1024:.1f} KB" for k, v in m.steps.items())
    sec.notes.append(
        f"Inputs measured in this run (section 2, per request): {per}; outbox "
        f"{m.messages_per_donation:.2f} messages and {m.emails_per_donation:.2f} emails per "
        f"donation, {m.drain_ms_per_message:.0f} ms each to deliver; Stripe "
        f"{m.stripe_per_intake:.2f} server requests per intake (the stand-in's log). Key families "
        "from section 3 (intake and webhook writes per donation; the beacon's per view). Headroom "
        "is quota over load; a quota to raise is asked for at "
        f"{MARGIN}x the load. Assumptions: {ASSUMPTIONS}")
    return sec


def measured(work: dict[str, Any], ceiling: dict[str, Any], reserved: Mapping[str, int]) -> Measured:
    """The model's inputs from sections 2 and 3's data."""
    per, ms, size = work["per"], work["ms"], work.get("bytes", {})
    steps = {k: Step(per[k]["requests"], per[k]["wru"], per[k]["rru"], ms.get(k, 0.0),
                     size.get(k, 0.0)) for k in per if k != "duplicate"}
    configured = ceiling.get("shards", {})

    def keys(f: dict[str, Any]) -> int:
        # A sharded family has as many keys as its setting says, seen in a short run or not.
        setting = next((v for k, v in SHARD_SETTINGS.items() if k in f["label"]), None)
        return int(configured.get(setting, f["keys"])) if setting else int(f["keys"])

    families = tuple(Family(f["label"], keys(f), f["wru"], f["driver"]) for f in ceiling["families"])
    d = work.get("delivery", {})
    return Measured(steps, families, emails_per_donation=d.get("emails_per_donation", 1.0),
                    stripe_per_intake=work.get("stripe_per_intake", 1.0),
                    messages_per_donation=d.get("due_per_donation", 1.0),
                    drain_ms_per_message=d.get("ms_per_message", 0.0), reserved=reserved,
                    drain_shards=int(configured.get("OUTBOX_SHARDS", 10)))
