"""Shared by the benchmarks: results, the local stack, signed Stripe events, DynamoDB accounting.

DynamoDB accounting reads botocore's own events on the app's clients (nothing is patched):
`before-parameter-build` sees each request's parameters, `after-call` its parsed response. moto
answers `ReturnConsumedCapacity` with placeholder numbers (and nothing for transactions), so
capacity units are computed by DynamoDB's published rules from item sizes instead; to size a
write, the item's image before and after the call is read with a separate, unobserved client.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import math
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devtools import stack

ROOT = stack.ROOT
LOGS = ROOT / ".local" / "bench"
EVENTS = ROOT / "tests" / "events"
RESERVED_PORTS = {8000, 5000, 12111}  # `make run`'s; the bench never takes them
WEBHOOK_SECRET = "whsec_bench_local"
ORGANIZER_KEY = "bench-organizer-key"
FINANCE_KEY = "bench-finance-key"
# Ids come from a seeded generator, so donation and event ids, and with them the shards they hash
# to, are the same from run to run (moto starts empty each time).
RNG = random.Random(20261103)


def new_id(n: int = 32) -> str:
    return f"{RNG.getrandbits(128):032x}"[:n]


# --- results ------------------------------------------------------------------------------------
@dataclass
class Figure:
    name: str
    value: str
    goal: str = ""
    ok: bool | None = None  # None: informational

    @property
    def verdict(self) -> str:
        return {True: "meets goal", False: "MISSES GOAL", None: ""}[self.ok]


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # markdown paragraphs and tables
    data: dict[str, Any] = field(default_factory=dict)  # for later sections (cost)

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "figures": [vars(f) for f in self.figures],
                           "notes": self.notes})

    @classmethod
    def from_json(cls, text: str) -> Section:
        raw = json.loads(text)
        return cls(raw["title"], [Figure(**f) for f in raw["figures"]], raw["notes"])

    def show(self) -> None:
        print(f"\n== {self.title}")
        for f in self.figures:
            goal = f"   (goal {f.goal}: {f.verdict})" if f.goal else ""
            print(f"  {f.name}: {f.value}{goal}")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --- the local stack ----------------------------------------------------------------------------
def free_port() -> int:
    while (port := stack.free_port()) in RESERVED_PORTS:
        pass
    return port


@dataclass
class LocalStack:
    env: dict[str, str]
    moto_port: int
    stripe_port: int


@contextmanager
def local_stack() -> Iterator[LocalStack]:
    """moto's server and the Stripe stand-in on free ports, this process pointed at them, every
    table, queue and bucket created and staff keys seeded; all stopped afterwards."""
    with stack.local_services(LOGS, DEV_ORGANIZER_KEY=ORGANIZER_KEY, DEV_FINANCE_KEY=FINANCE_KEY,
                              STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                              POWERTOOLS_LOG_LEVEL="WARNING") as services:
        # Imported once the stage's environment is set: the models read settings on import.
        from devtools.seed import seed_staff_keys

        seed_staff_keys()
        yield LocalStack(services.env, services.moto_port, services.stripe_port)


def new_page(prefix: str = "bench") -> str:
    """A fresh open donation page (as `make run` seeds its demo page)."""
    from devtools.seed import seed_demo_page

    slug = f"{prefix}-{new_id(8)}"
    seed_demo_page(slug)
    return slug


# --- donors and Stripe events -------------------------------------------------------------------
FIRST = ("Ana", "Ben", "Carla", "Dev", "Elena", "Femi", "Grace", "Hiro", "Ines", "Jamal", "Kai", "Lena",
         "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Yara")
LAST = ("Rivera", "Nguyen", "Okafor", "Smith", "Haddad", "Kowalski", "Tanaka", "Garcia", "Johnson",
        "Levi", "Mensah", "Novak", "Patel", "Quispe", "Rossi", "Schmidt", "Tran", "Umar", "Varga", "Wong")


def donation_body(amount_cents: int) -> dict[str, Any]:
    """A valid intake body from a new donor: a distinct email and one of 480 names, since one
    person's or one name's keys are not what a page's rush makes hot."""
    return {
        "amount_cents": amount_cents,
        "idempotency_key": "bench-" + new_id(),
        "email_opt_in": True,
        "donor": {
            "first_name": RNG.choice(FIRST), "last_name": RNG.choice(LAST),
            "email": f"donor.{new_id(12)}@example.org", "phone": "+1 555 010 0000",
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
            "employer": "City Library", "occupation": "Librarian",
        },
        "attestations": {"us_citizen_or_permanent_resident": True, "own_funds": True,
                         "not_federal_contractor": True, "personal_card": True},
    }


def donor_headers() -> dict[str, str]:
    """Headers of an intake from a donor's own address (the dev stage trusts X-Forwarded-For, as
    API Gateway's `sourceIp` would differ per donor): velocity keys are per IP."""
    a, b, c = (RNG.randrange(1, 255) for _ in range(3))
    return {"Content-Type": "application/json", "X-Forwarded-For": f"10.{a}.{b}.{c}"}


def succeeded_event(started: dict[str, Any], slug: str) -> dict[str, Any]:
    """`payment_intent.succeeded` for a started donation, shaped like Stripe's (tests/events)."""
    event = json.loads((EVENTS / "payment_intent.succeeded.json").read_text())
    event["id"] = "evt_" + new_id(24)
    event["created"] = int(time.time())
    event["data"]["object"].update(
        id=started["client_secret"].split("_secret_")[0], amount=started["amount_cents"],
        amount_received=started["amount_cents"],
        # What intake tags the PaymentIntent with (chalicelib/payments/gateway.py); the committee
        # is the one devtools/seed.py gives every page it seeds.
        metadata={"donation_id": started["donation_id"], "page": slug, "committee_id": "C00123456"})
    return event


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[str, dict[str, str]]:
    """The body and headers Stripe would send (`Stripe-Signature: t=…,v1=HMAC-SHA256`)."""
    body = json.dumps(event)
    t = int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={t},v1={mac}"}


# --- DynamoDB sizes and capacity units (DynamoDB's published rules) ----------------------------
def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for one typed attribute value."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(x) for k, x in v.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


def write_units(size: int, transactional: bool) -> float:
    """1 unit per KB (at least 1); transactions write twice (prepare and commit)."""
    units = max(1, math.ceil(size / 1024))
    return 2.0 * units if transactional else float(units)


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    """1 unit per 4 KB strongly consistent, half that eventually consistent, twice in a transaction."""
    units = max(1, math.ceil(size / 4096))
    return 2.0 * units if transactional else units if consistent else units / 2


@dataclass(frozen=True)
class IndexSchema:
    name: str
    hash_key: str
    range_key: str | None
    projection: str = "ALL"
    non_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    name: str
    hash_key: str
    range_key: str | None
    indexes: tuple[IndexSchema, ...] = ()

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {a: item[a] for a in (self.hash_key, self.range_key) if a}


def plain(value: dict[str, Any] | None) -> str:
    """A typed attribute value as text (partition labels)."""
    return "" if value is None else str(next(iter(value.values())))


def index_writes(table: TableSchema, index: IndexSchema, pre: dict[str, Any] | None,
                 post: dict[str, Any] | None) -> list[tuple[str, float]]:
    """(partition label, units) written to a GSI when an item goes from `pre` to `post`.

    An item is in the index when it has the index's key attributes (sparse indexes). A changed
    item whose index key stays the same is one write; a key that changes is a delete in the
    old partition and a put in the new one.
    """
    def key(img: dict[str, Any] | None) -> tuple[str, str] | None:
        if not img or index.hash_key not in img or (index.range_key and index.range_key not in img):
            return None
        return plain(img[index.hash_key]), plain(img.get(index.range_key or "", None))

    def projected(img: dict[str, Any]) -> dict[str, Any]:
        if index.projection == "ALL":
            return img
        keep = {table.hash_key, table.range_key, index.hash_key, index.range_key, *index.non_key}
        return {k: v for k, v in img.items() if k in keep}

    label = f"{table.name}/{index.name}:"
    before, after = key(pre), key(post)
    if before is not None and before == after:
        if projected(pre or {}) == projected(post or {}):
            return []  # nothing the index holds changed
        return [(label + after[0], write_units(item_size(projected(post or {})), False))]
    writes = []
    if before is not None:
        writes.append((label + before[0], write_units(item_size(projected(pre or {})), False)))
    if after is not None:
        writes.append((label + after[0], write_units(item_size(projected(post or {})), False)))
    return writes


def schemas() -> dict[str, TableSchema]:
    """Table name → key schema and GSIs, from the app's PynamoDB models."""
    from chalicelib.storage.models import ALL_MODELS

    out = {}
    for model in ALL_MODELS:
        s = model._get_schema()
        key = {k["KeyType"]: k["AttributeName"] for k in s["key_schema"]}
        indexes = []
        for i in s["global_secondary_indexes"]:
            ikey = {k["KeyType"]: k["AttributeName"] for k in i["key_schema"]}
            indexes.append(IndexSchema(i["index_name"], ikey["HASH"], ikey.get("RANGE"),
                                       i["projection"]["ProjectionType"],
                                       tuple(i["projection"].get("NonKeyAttributes", ()))))
        out[model.Meta.table_name] = TableSchema(model.Meta.table_name, key["HASH"], key.get("RANGE"),
                                                 tuple(indexes))
    return out


# --- the recorder -------------------------------------------------------------------------------
@dataclass
class Call:
    operation: str
    read_units: float = 0.0
    write_units: float = 0.0
    partition_writes: list[tuple[str, float]] = field(default_factory=list)  # (label, units)


@dataclass
class Window:
    calls: list[Call] = field(default_factory=list)
    other: Counter[str] = field(default_factory=Counter)  # "sqs.SendMessage", "sesv2.SendEmail"

    @property
    def requests(self) -> int:
        return len(self.calls)

    @property
    def rru(self) -> float:
        return sum(c.read_units for c in self.calls)

    @property
    def wru(self) -> float:
        return sum(c.write_units for c in self.calls)

    def operations(self) -> Counter[str]:
        return Counter(c.operation for c in self.calls)


_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class Recorder:
    """Counts the app's AWS requests and prices its DynamoDB ones (see the module docstring)."""

    ID = "groundswell-bench"

    def __init__(self) -> None:
        import boto3

        self.tables = schemas()
        self.raw = boto3.client("dynamodb")  # reads images; never observed itself
        self.clients: list[Any] = []
        self.windows: list[Window] = []

    def attach(self) -> None:
        """Observe every botocore client the app has built (run one donation through first);
        every model's own client is built here so that none is missed."""
        from botocore.client import BaseClient

        from chalicelib.storage.models import ALL_MODELS

        for model in ALL_MODELS:
            model._get_connection().connection.client  # noqa: B018 - built, not used

        for obj in gc.get_objects():
            if isinstance(obj, BaseClient) and obj is not self.raw and obj not in self.clients:
                events = obj.meta.events
                events.register("before-parameter-build", self._before, unique_id=self.ID + "-before")
                events.register("after-call", self._after, unique_id=self.ID + "-after")
                self.clients.append(obj)

    def detach(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-parameter-build", unique_id=self.ID + "-before")
            client.meta.events.unregister("after-call", unique_id=self.ID + "-after")
        self.clients.clear()

    @contextmanager
    def window(self) -> Iterator[Window]:
        w = Window()
        self.windows.append(w)
        try:
            yield w
        finally:
            self.windows.remove(w)

    # botocore handlers
    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.windows or model.service_model.service_name != "dynamodb":
            return
        targets = self._write_targets(model.name, params) if model.name in _WRITES else []
        context[self.ID] = (params, [(t, k, self._image(t, k)) for t, k, _ in targets], targets)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
               **_: Any) -> None:
        if not self.windows:
            return
        service = model.service_model.service_name
        if service != "dynamodb":
            for w in self.windows:
                w.other[f"{service}.{model.name}"] += 1
            return
        params, pres, targets = context.pop(self.ID, ({}, [], []))
        call = Call(model.name)
        if getattr(http_response, "status_code", 500) < 300:
            call.read_units = self._read_units(model.name, params, parsed)
            transactional = model.name == "TransactWriteItems"
            for (table, key, pre), (_, _, action) in zip(pres, targets, strict=True):
                post = self._image(table, key)
                self._price_write(call, self.tables[table], pre, post, action, transactional)
        for w in self.windows:
            w.calls.append(call)

    # helpers
    def _image(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.raw.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _write_targets(self, op: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
        """(table, key, action) for each item the request may write or check."""
        out = []
        if op == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (action, spec), = entry.items()
                out.append((spec["TableName"], self._key(spec), action))
        elif op == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for r in requests:
                    (action, spec), = r.items()
                    out.append((table, self._key({**spec, "TableName": table}), action))
        else:
            out.append((params["TableName"], self._key(params), op))
        return out

    def _key(self, spec: dict[str, Any]) -> dict[str, Any]:
        if "Key" in spec:
            return dict(spec["Key"])
        return self.tables[spec["TableName"]].key_of(spec["Item"])

    def _price_write(self, call: Call, table: TableSchema, pre: dict[str, Any] | None,
                     post: dict[str, Any] | None, action: str, transactional: bool) -> None:
        """Units the table's partition spends on this item (condition checks included, as billed),
        plus the index partitions a changed item is rewritten in."""
        size = max(item_size(pre), item_size(post))
        units = write_units(size, transactional)
        call.write_units += units
        hash_value = plain((post or pre or {}).get(table.hash_key))
        call.partition_writes.append((f"{table.name}:{hash_value}", units))
        if action == "ConditionCheck":
            return
        for index in table.indexes:
            for label, u in index_writes(table, index, pre, post):
                call.write_units += u
                call.partition_writes.append((label, u))

    def _read_units(self, op: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        if op == "GetItem":
            return read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
        if op == "TransactGetItems":
            return sum(read_units(item_size(r.get("Item")), True, True)
                       for r in parsed.get("Responses", []))
        if op == "BatchGetItem":
            total = 0.0
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                consistent = bool(request.get("ConsistentRead"))
                total += sum(read_units(item_size(i), consistent) for i in found)
                total += read_units(0, consistent) * max(0, len(request.get("Keys", [])) - len(found))
            return total
        if op in ("Query", "Scan"):
            size = sum(item_size(i) for i in parsed.get("Items", []))
            return read_units(size, bool(params.get("ConsistentRead")))
        return 0.0


# --- partition keys -----------------------------------------------------------------------------
def hottest(calls: list[Call]) -> list[tuple[str, int, float]]:
    """(partition label, writes, units) per partition, hottest first."""
    writes: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for call in calls:
        for label, u in call.partition_writes:
            writes[label] += 1
            units[label] += u  # type: ignore[assignment]
    return sorted(((k, writes[k], float(units[k])) for k in writes), key=lambda r: (-r[1], -r[2], r[0]))


def key_family(label: str) -> str:
    """Keys of one kind: `counters:page#bench#7` → `counters:page#bench#<n>` (shards of one
    logical key), `donations:don_3f9…` → `donations:don_<id>` (one key per donation)."""
    head, _, tail = label.rpartition("#")
    if head and tail.isdigit():
        return f"{head}#<n>"
    table, _, key = label.partition(":")
    return f"{table}:{re.sub(r'[0-9A-Za-z]{12,}', '<id>', key)}"
