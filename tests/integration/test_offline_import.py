"""A CSV import of offline contributions through the stack (`POST
/api/admin/contributions/import`): a dry run with three bad rows names each by its line and
writes nothing; committing the corrected file twice writes each gift once."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, import_csv, import_row, staff
from tests.reports_kit import committee_id

pytestmark = pytest.mark.stack
PATH = "/api/admin/contributions/import"


def upload(api: Any, data: bytes, query: str = "", key: str = FINANCE_KEY) -> tuple[int, Any]:
    return api.call("POST", PATH + query, raw=data,
                    headers={**staff(key), "Content-Type": "text/csv"})


def emails(n: int) -> list[str]:
    stamp = time.time_ns()
    return [f"import.{stamp}.{i}@example.org" for i in range(n)]


def test_a_dry_run_names_each_bad_row_and_committing_twice_writes_once(api: Any) -> None:
    from chalicelib import deps

    cid = committee_id()
    ana, bo, cy = emails(3)
    day = {"committee": cid, "received_on": "2025-01-10"}
    good = [import_row(10_000, ana, last_name="Alvarez", **day),
            import_row(300_000, cy, last_name="Chen", **day)]
    bad = [import_row(5_000, "nobody", last_name="Doe", **day),
           import_row(10_100, bo, "cash", last_name="Brown", **day),
           import_row(60_000, cy, key="cy-second-0001", last_name="Chen", **day)]
    status, report = upload(api, import_csv(good[0], bad[0], bad[1], good[1], bad[2]))
    assert status == 200, report
    assert report["dry_run"] is True and report["committed"] is False and report["rows"] == 5
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (3, "invalid_request"), (4, "cash_over_limit"), (6, "over_limit")]
    assert "donor.email" in report["errors"][0]["fields"] and "110.4" in report["errors"][1]["rule"]
    status, refused = upload(api, import_csv(good[0], bad[0], bad[1], good[1], bad[2]),
                             "?dry_run=false")
    assert status == 422 and refused["error"]["code"] == "import_has_errors"
    assert [e["line"] for e in refused["error"]["report"]["errors"]] == [3, 4, 6]
    store = deps.donation_store()
    fixed = import_csv(*good)
    status, dry = upload(api, fixed)
    assert status == 200 and dry["ok"] and [r["status"] for r in dry["results"]] == ["new", "new"]
    ids = [r["donation_id"] for r in dry["results"]]
    assert all(store.get(i) is None for i in ids)  # the dry runs and the refusal wrote nothing
    status, first = upload(api, fixed, "?dry_run=false")
    assert status == 200 and first["committed"], first
    assert [r["status"] for r in first["results"]] == ["recorded", "recorded"]
    status, again = upload(api, fixed, "?dry_run=false")
    assert status == 200 and [r["status"] for r in again["results"]] == ["already_recorded"] * 2
    assert [r["donation_id"] for r in again["results"]] == ids
    made = api.donation(ids[0])
    assert made["status"] == "succeeded" and made["amount_cents"] == 10_000
    assert made["donor"]["email"] == ana
    person = store.get(ids[1])
    assert person is not None
    assert store.aggregate(person.donor_id, person.limit_scope).net_cents == 300_000


def test_only_finance_imports_and_a_file_off_the_header_is_a_400(api: Any) -> None:
    data = import_csv(import_row(1_000, emails(1)[0], committee=committee_id()))
    assert upload(api, data, key=ORGANIZER_KEY)[0] == 403
    status, refused = upload(api, b"name,amount\r\nAna,10\r\n")
    assert status == 400 and refused["error"]["code"] == "invalid_csv"
    assert upload(api, data, "?dry_run=maybe")[0] == 400
