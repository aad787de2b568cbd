"""Test helpers: signed Stripe events built from Stripe's own fixture shapes, donation bodies,
and staff headers. Nothing here patches stripe or boto3."""

from __future__ import annotations

import copy
import io
import json
import logging
import random
import string
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import stripe

EVENTS = Path(__file__).resolve().parent / "events"
WEBHOOK_SECRET = "whsec_local_dev"
ORGANIZER_KEY = "dev-organizer-key"
FINANCE_KEY = "dev-finance-key"


def staff(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def stripe_event(event_type: str, **changes: Any) -> dict[str, Any]:
    """An event of `event_type` from tests/events, with a fresh id and `data.object` changes."""
    event = copy.deepcopy(json.loads((EVENTS / f"{event_type}.json").read_text()))
    event["id"] = "evt_" + uuid.uuid4().hex[:24]
    event["created"] = int(time.time())
    event["data"]["object"].update(changes)
    return event


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header exactly as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", secret)
    return f"t={t},v1={signature}"


def signed(event: dict[str, Any], **sign_args: Any) -> tuple[str, dict[str, str]]:
    body = json.dumps(event)
    return body, {"Content-Type": "application/json; charset=utf-8",
                  "Stripe-Signature": sign(body, **sign_args)}


def unique_ip() -> str:
    """A donor address of this test's own (the dev stage trusts X-Forwarded-For): velocity
    counters are per address."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def donation_body(amount_cents: int = 2700, email: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount_cents": amount_cents,
        "idempotency_key": "test-" + uuid.uuid4().hex,
        "email_opt_in": True,
        "donor": {
            # A distinct surname per body: donors with one name and ZIP are linked as one person.
            "first_name": "Ana", "last_name": "Rivera " + _letters(6),
            "email": email or f"ana.{uuid.uuid4().hex[:8]}@example.org",
            "phone": "+1 555 010 0000",
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
            "employer": "City Library", "occupation": "Librarian",
        },
        "attestations": {"us_citizen_or_permanent_resident": True, "own_funds": True,
                         "not_federal_contractor": True, "personal_card": True},
    }
    body.update(overrides)
    return body


def _letters(n: int) -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n)).title()


def page_body(slug: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug or "p-" + uuid.uuid4().hex[:12],
        "title": "Rivera for Congress",
        "headline": "Chip in before midnight",
        "body": "People-powered.",
        "ask_amounts_cents": [1000, 2700, 5000],
        "goal_cents": 1_000_000,
        "deadline": "2099-11-03T04:59:00Z",
        "election": "P2026",
        "committee_id": "C00123456",
    }
    body.update(overrides)
    return body


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def run_queues() -> int:
    """Deliver every queued SQS message to the app's handler, as Lambda does (the local
    worker's queue pass; its schedules are not the caller's business). Handler runs made."""
    from app import app
    from devtools.worker import Worker

    worker = Worker(app)
    worker.schedules = []
    runs = 0
    while worker.run_once():
        runs += 1
    return runs


def run_export(api: Any, committee_id: str, day: str) -> str:
    """The contributions CSV for one committee and day, run as Lambda runs it (SQS)."""
    import requests

    status, answer = api.call("POST", "/api/exports", {"kind": "contributions_csv", "from": day, "to": day,
                                                       "committee_id": committee_id}, staff(FINANCE_KEY))
    assert status == 202, answer
    run_queues()
    status, job = api.call("GET", f"/api/exports/{answer['export_id']}", headers=staff(FINANCE_KEY))
    assert status == 200 and job["status"] == "succeeded", job
    response = requests.get(job["download_url"], timeout=10)
    assert response.status_code == 200
    return response.content.decode()


def pay_with_wallet(stripe_url: str, client_secret: str, card: str = "4242424242424242",
                    publishable_key: str = "pk_test_local_standin") -> dict[str, Any]:
    """Confirm a PaymentIntent as Stripe.js does for an Apple Pay payment at the stand-in: the
    wallet's token (`POST /v1/tokens`, its `pk_token` the wallet's card number), then the
    confirmation with it. The answer's JSON (the intent, or Stripe's error)."""
    import requests

    token = requests.post(f"{stripe_url}/v1/tokens", timeout=5, data={
        "key": publishable_key, "pk_token": card, "pk_token_instrument_name": "Test wallet",
        "pk_token_payment_network": "Visa", "pk_token_transaction_id": "standin-" + uuid.uuid4().hex,
        "card[name]": "Wendy Wallet", "card[address_zip]": "53703"})
    assert token.status_code == 200, token.text
    confirmed = requests.post(
        f"{stripe_url}/v1/payment_intents/{client_secret.split('_secret_')[0]}/confirm", timeout=5,
        data={"key": publishable_key, "client_secret": client_secret,
              "payment_method_data[type]": "card", "payment_method_data[card][token]": token.json()["id"],
              "payment_method_data[billing_details][name]": "Wendy Wallet"})
    return dict(confirmed.json())


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every record of every logger at INFO and above, formatted as the app formats its own."""
    from chalicelib import logs

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs._logger().registered_formatter)
    root, app = logging.getLogger(), logging.getLogger("groundswell")
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if not app.propagate:  # powertools' logger does not propagate, unless told to
        app.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        app.removeHandler(handler)
        root.setLevel(old_level)


# --- committees as finance configures them --------------------------------------------------

def committee_body(**changes: Any) -> dict[str, Any]:
    """A House candidate committee's whole calendar as finance sends it (primary June 2 and
    general November 3, 2026, $500 of net debt left for the primary); a change of None drops
    that field."""
    body: dict[str, Any] = {
        "name": "Rivera for Congress", "type": "candidate", "time_zone": "America/Chicago",
        "address": {"line1": "100 Campaign Way", "line2": "Suite 2", "city": "Springfield",
                    "state": "IL", "zip": "62701"},
        "treasurer_name": "Dana M. Okafor",
        "candidate": {"fec_id": "H6IL13123", "name": "Ana Rivera", "office": "H", "state": "IL",
                      "district": "13"},
        "previous_general_date": "2024-11-05",
        "elections": [{"code": "G2026", "date": "2026-11-03"},
                      {"code": "P2026", "date": "2026-06-02", "net_debt_cents": 50_000}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _election(kind: str, day: Any) -> dict[str, Any]:
    return {"code": f"{kind}{day.year}", "date": day.isoformat()}


class ElectionCalendar:
    """A committee whose calendar is laid out around today: an `O` election held ten days ago
    with $50 of net debt left, a primary and a general ahead."""

    def __init__(self, api: Any) -> None:
        from datetime import date, timedelta

        today = date.today()
        self.api = api
        self.committee_id = "C" + "".join(random.choice("0123456789") for _ in range(8))
        held = _election("O", today - timedelta(days=10))
        primary = _election("P", today + timedelta(days=100))
        general = _election("G", today + timedelta(days=300))
        held["net_debt_cents"] = 5_000
        self.held, self.primary, self.general = held["code"], primary["code"], general["code"]
        self.body = committee_body(previous_general_date=(today - timedelta(days=30)).isoformat(),
                                   elections=[held, primary, general], time_zone="UTC")
        self.configure()

    def configure(self, **changes: Any) -> dict[str, Any]:
        """PUT the calendar again with `changes` (a status, say); the committee as stored."""
        status, saved = self.api.call("PUT", f"/api/admin/committees/{self.committee_id}",
                                      {**self.body, **changes}, staff(FINANCE_KEY))
        assert status == 200, saved
        return saved

    def page(self, election: str, elections: list[str] | None = None) -> str:
        extra = {"elections": elections} if elections else {}
        return self.api.create_page(committee_id=self.committee_id, election=election, **extra)["slug"]


def redesignated_gift(api: Any, general_cents: int = 0, email: str | None = None,
                      **settings: Any) -> str:
    """The id of a gift whose excess was presumed to be for the general: two primary gifts of
    one email reserved under a $100 limit, the limit lowered to $90, both successes delivered
    signed ($10 of the second counts toward the general). With `general_cents` given to the
    general first (9,000 or more: no room left there), the $10 is held until day 60 instead.
    `settings` go into the committee's configuration (filing settings, say)."""
    import uuid

    from chalicelib import deps

    calendar = ElectionCalendar(api)
    calendar.configure(limit_cents=10_000, **settings)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    email = email or f"redesig.{uuid.uuid4().hex[:10]}@example.org"
    first = [api.donate(slug, amount_cents=general_cents, email=email, election=calendar.general)
             ] if general_cents else []
    started = first + [api.donate(slug, amount_cents=cents, email=email) for cents in (8_000, 2_000)]
    calendar.configure(limit_cents=9_000, **settings)
    deps.committees().forget(calendar.committee_id)
    for gift in started:
        status, _ = api.webhook(stripe_event(
            "payment_intent.succeeded", id=gift["client_secret"].split("_secret_")[0],
            amount=gift["amount_cents"], amount_received=gift["amount_cents"],
            metadata={"donation_id": gift["donation_id"]}))
        assert status == 200
    return str(started[-1]["donation_id"])


# --- filing: committees, contributors and receipts as the report takes them ------------------

def filing_committee(type: str = "candidate", **changes: Any) -> Any:
    """A committee as its reports show it: a House candidate's (primary June 2, general November
    3, 2026; previous general November 5, 2024) or, with `type="pac"`, a PAC."""
    from dataclasses import replace
    from datetime import date

    from chalicelib.filing import model as m

    base = m.FilingCommittee(
        fec_id="C00123456", name="Rivera for Congress",
        address=m.Address("100 Campaign Way", "Springfield", "IL", "62701", "Suite 2"),
        treasurer=m.Name("Dana", "Okafor", "M"), type=type,  # type: ignore[arg-type]
        time_zone="America/Chicago")
    if type == "candidate":
        base = replace(base, candidate=m.Candidate("H6IL13123", m.Name("Ana", "Rivera"), "H", "IL", "13"),
                       elections=(m.Election("P2026", date(2026, 6, 2)),
                                  m.Election("G2026", date(2026, 11, 3))),
                       previous_general_date=date(2024, 11, 5))
    else:
        base = replace(base, name="Springfield Neighbors PAC", fec_id="C00654321")
    return replace(base, **changes)


def contributor(first: str = "Ana", last: str = "Rivera", **changes: Any) -> Any:
    from chalicelib.filing import model as m

    fields: dict[str, Any] = {"employer": "City Library", "occupation": "Librarian",
                              "address": m.Address("1 Main St", "Springfield", "IL", "62701")}
    fields.update(changes)
    return m.Contributor(m.Name(first, last), **fields)


def filing_receipt(source: str, day: Any, cents: int, aggregate: int | None = None, person: Any = None,
                   election: str | None = "P2026", **changes: Any) -> Any:
    """A contribution under a stable id derived from `source`."""
    from chalicelib.filing import model as m
    from chalicelib.filing.ids import transaction_id

    return m.Receipt(transaction_id("SA", source), day, cents, person or contributor(),
                     cents if aggregate is None else aggregate, election, **changes)


def assert_fec_round_trip(records: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """`text` (a `.fec` file of `records`, HDR first) parses back through `fecfile` to the same
    values, field by field in the format's positions; returns what `fecfile.loads` read."""
    import fecfile
    from fecfile import fecparser

    from chalicelib.filing.schemas import layout

    parsed = fecfile.loads(text)
    lines = [line for line in text.split("\n") if line]
    assert len(lines) == len(records)
    version = parsed["header"]["fec_version"]
    for record, line in zip(records, lines, strict=True):
        raw = fecparser.fields_from_line(line, use_ascii_28=True)
        form_type = raw[0]
        assert form_type == (record.get("form_type") or record["record_type"])
        # fecfile's names (by position: some repeat, such as F3X's col_a_total_receipts).
        names = fecparser.getMapping(fecparser.mappings, form_type, version)
        fields = layout(form_type).fields
        assert len(raw) == len(fields) <= len(names)
        for position, name in enumerate(fields):
            if name is None:
                continue
            want = record.get(name)
            have = fecparser.getTyped(form_type, version, names[position], raw[position], 0)
            if isinstance(want, bool):
                assert have == ("X" if want else ""), (form_type, name)
            elif want is None:
                assert have in ("", None), (form_type, name, have)
            elif isinstance(have, float):  # amounts (and F3X's "year for above", read as a number)
                assert have == pytest_approx(float(want)), (form_type, name, want, have)
            elif hasattr(have, "strftime"):
                assert have.strftime("%Y-%m-%d") == want, (form_type, name)
            else:
                assert str(have) == str(want), (form_type, name, want, have)
    return parsed


def pytest_approx(value: float) -> Any:
    import pytest

    return pytest.approx(value, abs=0.001)


@contextmanager
def standin_faults(stripe_url: str, **config: Any) -> Iterator[Any]:
    """The Stripe stand-in's fault injection (`rate_limit_next`, `error_rate`, …) for the block;
    yields a callable that reads the stand-in's fault counts. Off again afterwards."""
    import requests

    url = f"{stripe_url}/_standin/faults"
    requests.post(url, json=config, timeout=10).raise_for_status()
    try:
        yield lambda: requests.get(url, timeout=10).json()["counts"]
    finally:
        requests.post(url, json={}, timeout=10).raise_for_status()


# --- CSV imports of offline contributions ---------------------------------------------------
IMPORT_HEADER = ("committee_id", "method", "amount_cents", "received_on", "election", "reference",
                 "idempotency_key", "first_name", "last_name", "email", "address_line1", "city",
                 "state", "zip", "employer", "occupation")


def import_row(cents: int, email: str = "ana@example.org", method: str = "check", key: str = "",
               committee: str = "C00000001", **cells: str) -> dict[str, str]:
    """One row of a CSV import of offline contributions (docs/reports.md), as its cells."""
    return {"committee_id": committee, "method": method, "amount_cents": str(cents),
            "received_on": "2026-03-02", "election": "P2026", "reference": "1042",
            "idempotency_key": key, "first_name": "Ana", "last_name": email.split("@")[0].title(),
            "email": email, "address_line1": "1 Main St", "city": "Springfield", "state": "IL",
            "zip": "62701", "employer": "City Library", "occupation": "Librarian", **cells}


def import_csv(*rows: dict[str, str], header: tuple[str, ...] = IMPORT_HEADER) -> bytes:
    """A CSV import file of `rows` under `header`."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def tampered_token(token: str) -> str:
    """`token` (or a path ending in one) with its signature changed by one character that holds
    six of the signature's bits: the first after the dot. (Changing the last characters is not
    enough: base64's last character carries only two bits of a 16-byte signature, so another
    letter there can decode to the same bytes and the token stays genuine.)"""
    i = token.rindex(".") + 1
    return token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]
