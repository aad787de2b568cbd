"""Exports end to end: finance requests an export over HTTP, the SQS handler runs it against
moto's server, and the presigned URLs serve files that match the ledger. Donations are made
through the API and paid by signed webhooks whose `created` sets the movement's time."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import fecfile
import pytest
import requests
from jsonschema import Draft7Validator

from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, run_queues, staff
from tests.reports_kit import Campaign, committee_id, donor, pi_id

pytestmark = pytest.mark.stack

SCHEMAS = Path(__file__).resolve().parent.parent / "fixtures" / "fec"
VALIDATORS = {
    "SA11AI": Draft7Validator(json.loads((SCHEMAS / "INDIVIDUAL_RECEIPT.json").read_text())),
    "SB28A": Draft7Validator(json.loads((SCHEMAS / "INDIVIDUAL_REFUNDS.json").read_text())),
}


def request_export(api: Any, kind: str, start: str, end: str, committee: str | None,
                   key: str = FINANCE_KEY) -> str:
    body: dict[str, Any] = {"kind": kind, "from": start, "to": end}
    if committee:
        body["committee_id"] = committee
    status, answer = api.call("POST", "/api/exports", body, staff(key))
    assert status == 202, answer
    assert answer["status"] == "queued"
    return str(answer["export_id"])


def finished(api: Any, export_id: str) -> dict[str, Any]:
    run_queues()
    status, body = api.call("GET", f"/api/exports/{export_id}", headers=staff(FINANCE_KEY))
    assert status == 200, body
    assert body["status"] == "succeeded", body
    return dict(body)


def download(url: str) -> str:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.content.decode()


# --- access ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keys(local_stack: dict[str, Any]) -> dict[str, str]:
    from chalicelib import deps
    from chalicelib.staff.auth import hash_key

    now = datetime.now(timezone.utc)
    made = {"admin": f"admin-{uuid.uuid4().hex}", "revoked": f"revoked-{uuid.uuid4().hex}"}
    deps.staff_keys().save(hash_key(made["admin"]), "admin", "test admin", now)
    deps.staff_keys().save(hash_key(made["revoked"]), "finance", "test revoked", now)
    deps.staff_keys().revoke(hash_key(made["revoked"]), now)
    return made


@pytest.mark.parametrize("route", ["POST /api/exports", "GET /api/exports/exp_123"])
@pytest.mark.parametrize(("who", "expected"), [("none", 401), ("unknown", 401), ("revoked", 401),
                                               ("organizer", 403)])
def test_role_matrix(api: Any, keys: dict[str, str], route: str, who: str, expected: int) -> None:
    method, path = route.split(" ")
    headers = {"none": {}, "unknown": staff("not-a-key"), "revoked": staff(keys["revoked"]),
               "organizer": staff(ORGANIZER_KEY)}[who]
    body = {"kind": "contributions_csv", "from": "2025-01-01", "to": "2025-01-31"}
    status, answer = api.call(method, path, body if method == "POST" else None, headers)
    assert status == expected, answer
    assert answer["error"]["code"] == ("forbidden" if expected == 403 else "unauthenticated")


def test_finance_and_admin_may_export(api: Any, keys: dict[str, str]) -> None:
    for key in (FINANCE_KEY, keys["admin"]):
        export_id = request_export(api, "contributions_csv", "2025-01-01", "2025-01-01", committee_id(), key)
        status, body = api.call("GET", f"/api/exports/{export_id}", headers=staff(key))
        assert status == 200 and body["export_id"] == export_id
    status, body = api.call("GET", "/api/exports/exp_missing", headers=staff(FINANCE_KEY))
    assert status == 404 and body["error"]["code"] == "export_not_found"


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "pdf", "from": "2025-01-01", "to": "2025-01-31"}, "kind"),
    ({"kind": "contributions_csv", "from": "2025-02-01", "to": "2025-01-31"}, "body"),
    ({"kind": "contributions_csv", "from": "2025-01-01", "to": "2026-01-02"}, "body"),
    ({"kind": "contributions_csv", "from": "01/01/2025", "to": "2025-01-31"}, "from"),
    ({"kind": "contributions_csv", "from": "2025-01-01", "to": "2025-02-30"}, "to"),
    ({"kind": "contributions_csv", "from": "2025-01-01", "to": "2025-01-31", "committee_id": "X1"},
     "committee_id"),
    ({"kind": "fec_schedule_a", "from": "2025-01-01", "to": "2025-01-31"}, "committee_id"),
    ({"kind": "contributions_csv", "from": "2025-01-01", "to": "2025-01-31", "extra": 1}, "extra"),
])
def test_invalid_requests_are_refused_with_the_field(api: Any, body: dict[str, Any], field: str) -> None:
    status, answer = api.call("POST", "/api/exports", body, staff(FINANCE_KEY))
    assert status == 400, answer
    assert field in answer["error"]["fields"], answer


# --- contributions CSV -------------------------------------------------------------------------

def test_contributions_csv_through_the_queue_and_a_presigned_url(api: Any) -> None:
    c = Campaign(api, committee_id())
    ana = donor("Ana", employer="=HYPERLINK(\"http://evil\",\"x\")")
    ben = donor("José", "Núñez")
    early = c.give(ana, 15000, "2025-01-02")                          # before the range
    first = c.give(ana, 10000, "2025-01-10", refcode="-email-blast")  # crosses $200
    c.refund(first, 4000, "2025-01-11")
    c.give(ben, 2700, "2025-01-12")
    c.give(ana, 1000, "2025-01-25")                                    # after the range
    export_id = request_export(api, "contributions_csv", "2025-01-05", "2025-01-20", c.committee_id)
    body = finished(api, export_id)
    assert (body["row_count"], body["rows_done"]) == (3, 3)
    assert "jsonl_url" not in body and body["expires_at"]
    rows = list(csv.DictReader(io.StringIO(download(body["download_url"]))))
    assert [(r["row_type"], r["amount_cents"], r["aggregate_cents"], r["itemized"]) for r in rows] == [
        ("contribution", "10000", "25000", "true"), ("refund", "-4000", "21000", ""),
        ("contribution", "2700", "2700", "false")]
    paid = rows[0]
    assert paid["donation_id"] == first["donation_id"] and paid["payment_intent_id"] == pi_id(first)
    assert paid["occurred_at"] == "2025-01-10T12:00:00Z"
    assert paid["refunded_cents"] == "4000" and paid["status"] == "succeeded"
    assert paid["employer"].startswith("'=HYPERLINK")
    assert paid["refcode"] == "'-email-blast"
    assert paid["recurring"] == "false" and paid["fec_transaction_id"].startswith("SA")
    assert rows[2]["last_name"] == "Núñez"  # the CSV keeps names as given
    assert early["donation_id"] not in {r["donation_id"] for r in rows}
    assert body["summary"]["unitemized_cents"] == 2700 and body["summary"]["refunds_cents"] == 4000


def test_a_duplicate_delivery_runs_the_export_once(api: Any, client: Any) -> None:
    c = Campaign(api, committee_id())
    c.give(donor(), 2700, "2025-01-03")
    export_id = request_export(api, "contributions_csv", "2025-01-01", "2025-01-31", c.committee_id)
    event = client.events.generate_sqs_event(message_bodies=[json.dumps({"export_id": export_id})],
                                             queue_name="groundswell-dev-exports")
    client.lambda_.invoke("run_export", event)
    _, first = api.call("GET", f"/api/exports/{export_id}", headers=staff(FINANCE_KEY))
    assert first["status"] == "succeeded" and first["row_count"] == 1
    client.lambda_.invoke("run_export", event)  # SQS delivers at least once
    run_queues()                         # and the queued message arrives too
    _, again = api.call("GET", f"/api/exports/{export_id}", headers=staff(FINANCE_KEY))
    assert again["finished_at"] == first["finished_at"]


def test_urls_expire(api: Any) -> None:
    from urllib.parse import parse_qs, urlparse

    c = Campaign(api, committee_id())
    c.give(donor(), 2700, "2025-01-03")
    body = finished(api, request_export(api, "contributions_csv", "2025-01-03", "2025-01-03", c.committee_id))
    query = parse_qs(urlparse(body["download_url"]).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert "attachment" in query["response-content-disposition"][0]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    expires_at = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert abs((expires_at - signed_at).total_seconds() - 900) < 5
    # (moto's S3 does not check presigned signatures or expiry; AWS does.)


# --- FEC Schedule A ----------------------------------------------------------------------------

HARD_DONORS = [
    # (first, last, line1, line2, zip, gifts as (cents, day)), refunds as (gift index, total, day)
    ("José", "Núñez", "1 Calle Mayor", "Apt 4B", "951121234", [(15000, "01-02"), (10000, "01-10")],
     [(1, 5000, "01-12")]),
    ("Maria Guadalupe Fernanda", "Wolfeschlegelsteinhausenbergerdorff",
     "12345 North Martin Luther King Junior Boulevard", "Apartment 1234", "62701",
     [(20000, "01-08"), (5000, "01-09"), (100, "01-15")], []),
    ("Zoë", "Ørsted-Łukasiewicz", "Straße 5", None, "100011234", [(30000, "01-11")],
     [(0, 30000, "01-13")]),
    ("王", "芳", "88 Market St", "Unit 7", "94105", [(15000, "01-09"), (10000, "01-16")], []),
    ("Ana", "O\u2019Brien", "2 Elm St", None, "02139", [(20000, "01-09"), (100, "01-10")], []),
    ("Ben", "Small", "3 Oak St", None, "30301", [(2700, "01-10")], []),
]


def expected_rows(committee_type: str) -> tuple[dict[str, list[tuple[str, float, float]]], int]:
    """Per last name, the SA11AI rows (date, amount, aggregate) due from `HARD_DONORS` when
    exporting 2025-01-05..2025-01-20, and the unitemized total in cents."""
    rows: dict[str, list[tuple[str, float, float]]] = {}
    unitemized = 0
    for _, last, _, _, _, gifts, refunds in HARD_DONORS:
        moves = [(f"2025-{d}", c, "contribution") for c, d in gifts]
        # each gift is refunded at most once here, so the refunded total is the refund
        moves += [(f"2025-{d}", -total, "refund") for _, total, d in refunds]
        aggregate = 0
        for day, cents, kind in sorted(moves):
            aggregate += cents
            in_range = "2025-01-05" <= day <= "2025-01-20"
            if kind == "contribution" and in_range and aggregate > 20000:
                rows.setdefault(last, []).append((day, cents / 100, aggregate / 100))
            elif kind == "contribution" and in_range:
                unitemized += cents
    return rows, unitemized


@pytest.mark.parametrize("committee_type", ["candidate", "pac"])
def test_fec_schedule_a_validates_and_round_trips(api: Any, committee_type: str) -> None:
    c = Campaign(api, committee_id(), committee_type)
    by_last: dict[str, str] = {}
    for first, last, line1, line2, zip_code, gifts, refunds in HARD_DONORS:
        person = donor(first, last, line1, line2, zip_code=zip_code)
        given = [c.give(person, cents, f"2025-{day}", hour=10 + n) for n, (cents, day) in enumerate(gifts)]
        for index, total, day in refunds:
            c.refund(given[index], total, f"2025-{day}")
        by_last[last] = person["email"]
    body = finished(api, request_export(api, "fec_schedule_a", "2025-01-05", "2025-01-20", c.committee_id))
    fec_text, jsonl_text = download(body["download_url"]), download(body["jsonl_url"])
    rows = [json.loads(line) for line in jsonl_text.splitlines()]
    assert body["row_count"] == len(rows)

    for row in rows:
        problems = [e.message for e in VALIDATORS[row["form_type"]].iter_errors(row)]
        assert problems == [], (row, problems)
    assert fec_text.isascii() and jsonl_text.isascii()

    wanted, unitemized = expected_rows(committee_type)
    schedule_a = [r for r in rows if r["form_type"] == "SA11AI"]
    got: dict[str, list[tuple[str, float, float]]] = {}
    for r in schedule_a:
        got.setdefault(r["contributor_last_name"], []).append(
            (r["contribution_date"], r["contribution_amount"], r["contribution_aggregate"]))
    ascii_last = {"Núñez": "Nunez",
                  "Wolfeschlegelsteinhausenbergerdorff": "Wolfeschlegelsteinhausenberger",
                  "Ørsted-Łukasiewicz": "Orsted-Lukasiewicz", "O\u2019Brien": "O'Brien", "芳": "Fang"}
    assert got == {ascii_last.get(k, k): v for k, v in wanted.items()}
    assert body["summary"]["unitemized_cents"] == unitemized

    nunez = next(r for r in schedule_a if r["contributor_last_name"] == "Nunez")
    assert (nunez["contributor_first_name"], nunez["contributor_street_2"]) == ("Jose", "Apt 4B")
    assert nunez["contributor_zip"] == "951121234"
    long = next(r for r in schedule_a if r["contributor_last_name"].startswith("Wolfe"))
    assert long["contributor_first_name"] == "Maria Guadalupe"
    assert long["contributor_middle_name"] == "Fernanda"
    assert long["contributor_street_1"] == "12345 North Martin Luther King"
    assert long["contributor_street_2"] == "Junior Boulevard Apartment 1234"

    refunds = [r for r in rows if r["form_type"] == "SB28A"]
    if committee_type == "pac":
        assert sorted(r["expenditure_amount"] for r in refunds) == [50.0, 300.0]
        assert body["summary"]["refunds_cents"] == 35000
    else:
        assert refunds == []

    parsed = fecfile.loads(fec_text)
    assert parsed["header"]["fec_version"] == "8.4"
    assert parsed["filing"]["filer_committee_id_number"] == c.committee_id
    unitemized_field = "col_a_individuals_unitemized" if committee_type == "pac" else \
        "col_a_individual_contributions_unitemized"
    assert parsed["filing"][unitemized_field] == pytest.approx(unitemized / 100)
    back = parsed["itemizations"]["Schedule A"] + parsed["itemizations"].get("Schedule B", [])
    assert len(back) == len(rows)
    by_id = {b.get("transaction_id") or b.get("transaction_id_number"): b for b in back}
    for row in rows:
        fec_row = by_id[row["transaction_id"]]
        for name, value in row.items():
            fec_name = {"contributor_zip": "contributor_zip_code", "payee_zip": "payee_zip_code",
                        "transaction_id": "transaction_id_number" if row["form_type"] == "SB28A"
                        else "transaction_id"}.get(name, name)
            if fec_name not in fec_row:
                continue
            if isinstance(value, float):
                assert fec_row[fec_name] == pytest.approx(value), name
            elif name.endswith("_date"):
                assert fec_row[fec_name].strftime("%Y-%m-%d") == value, name
            else:
                assert fec_row[fec_name] == ("" if value is None else value), name


def test_a_refund_lowers_later_aggregates(api: Any) -> None:
    c = Campaign(api, committee_id())
    person = donor("Rae")
    big = c.give(person, 25000, "2025-01-06")
    c.refund(big, 25000, "2025-01-07")
    c.give(person, 5000, "2025-01-08")
    c.give(person, 16000, "2025-01-09")
    body = finished(api, request_export(api, "fec_schedule_a", "2025-01-01", "2025-01-31", c.committee_id))
    rows = [json.loads(line) for line in download(body["jsonl_url"]).splitlines()]
    assert [(r["contribution_date"], r["contribution_aggregate"]) for r in rows] == [
        ("2025-01-06", 250.0), ("2025-01-09", 210.0)]
    assert body["summary"]["unitemized_cents"] == 5000
