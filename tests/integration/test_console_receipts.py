"""Finance enters receipts in the console (issue 14 and 15): one check by its form, recorded
once however often the form is sent, its errors tied to their fields; and a CSV import checked
(every bad row named by its line, nothing written) and then recorded, on the same services as
the API, under the console's session, CSRF and role rules."""

from __future__ import annotations

import re
import time

import pytest

from tests.console_kit import text
from tests.helpers import import_csv, import_row
from tests.integration.test_console import finance
from tests.reports_kit import committee_id

pytestmark = pytest.mark.stack


def check_form(cid: str, email: str, **changes: str) -> dict[str, str]:
    return {"committee_id": cid, "method": "check", "amount": "250.00", "received_on": "2025-01-10",
            "election": "P2026", "reference": "1042", "first_name": "Ana", "last_name": "Okafor",
            "email": email, "address_line1": "1 Main St", "city": "Springfield", "state": "IL",
            "zip": "62701", "employer": "City Library", "occupation": "Librarian", **changes}


def test_finance_enters_a_check_once_and_sees_its_errors_on_the_fields(client, api) -> None:
    c = finance(client)
    page = c.get("/admin/receipts")
    assert page.status_code == 200 and len(page.body) < 60_000
    key = re.search(r'name="idempotency_key" value="([^"]+)"', text(page))
    assert key, text(page)[:300]
    cid, email = committee_id(), f"console.{time.time_ns()}@example.org"
    bad = c.submit("/admin/receipts", "/admin/receipts",
                   check_form(cid, "not-an-email", zip="1", idempotency_key=key[1]))
    assert bad.status_code == 400 and 'role="alert"' in text(bad)
    assert 'id="f-email-error"' in text(bad) and 'id="f-zip-error"' in text(bad)
    body = check_form(cid, email, idempotency_key=key[1])
    made = c.submit("/admin/receipts", "/admin/receipts", body)
    assert made.status_code == 303 and made.headers["Location"].startswith("/admin/donations/don_")
    again = c.submit("/admin/receipts", "/admin/receipts", body)  # sent twice: recorded once
    assert again.headers["Location"] == made.headers["Location"]
    donation = api.donation(made.headers["Location"].rsplit("/", 1)[1])
    assert donation["status"] == "succeeded" and donation["amount_cents"] == 25_000
    cash = c.submit("/admin/receipts", "/admin/receipts",
                    check_form(cid, email, method="cash", amount="150"))
    assert cash.status_code == 422 and "110.4" in text(cash)
    assert c.post("/admin/receipts", body).status_code == 403  # no CSRF token: refused


def test_finance_checks_a_file_sees_each_bad_line_then_records_it(client, api) -> None:
    from chalicelib import deps

    c = finance(client)
    cid, stamp = committee_id(), time.time_ns()
    day = {"committee": cid, "received_on": "2025-01-10"}
    good = [import_row(10_000, f"imp.{stamp}.a@example.org", last_name="Alvarez", **day),
            import_row(20_000, f"imp.{stamp}.b@example.org", last_name="Brown", **day)]
    bad = import_csv(good[0], import_row(1_000, "nobody", last_name="Doe", **day), good[1],
                     import_row(10_100, f"imp.{stamp}.c@example.org", "cash", last_name="Chen", **day))
    checked = c.submit("/admin/receipts/import", "/admin/receipts/import",
                       {"csv": bad.decode(), "action": "check"})
    page = text(checked)
    assert checked.status_code == 200 and "2 of 4 rows have errors; nothing was written." in page
    assert re.findall(r'<th scope="row" class="n">(\d+)</th>', page) == ["3", "5"]
    assert 'value="commit"' not in page
    fixed = import_csv(*good).decode()
    dry = text(c.submit("/admin/receipts/import", "/admin/receipts/import",
                        {"csv": fixed, "action": "check"}))
    assert "All 2 rows pass ($300 new)" in dry and 'value="commit"' in dry
    ids = re.findall(r"don_[0-9a-f]{32}", dry)
    assert ids and all(deps.donation_store().get(i) is None for i in ids)
    done = text(c.submit("/admin/receipts/import", "/admin/receipts/import",
                         {"csv": fixed, "action": "commit"}))
    assert "Recorded: 2 new, 0 recorded before." in done
    again = text(c.submit("/admin/receipts/import", "/admin/receipts/import",
                          {"csv": fixed, "action": "commit"}))
    assert "Recorded: 0 new, 2 recorded before." in again
    assert api.donation(ids[0])["status"] == "succeeded"
