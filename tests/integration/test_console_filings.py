"""Finance files a report from the console: asks for a quarter, watches it build, reads its
summary lines and warnings, signs and finalizes it, downloads the .fec file and amends it, over
moto's server and the report builder's own queue (the same service as /api/admin/reports)."""

from __future__ import annotations

import re

import pytest
import requests

from tests.console_kit import text
from tests.helpers import run_queues
from tests.integration.test_console import finance
from tests.integration.test_fec_reports_api import Q2, committee, configure
from tests.reports_kit import donor

pytestmark = pytest.mark.stack


def test_finance_builds_finalizes_downloads_and_amends_a_quarter(client, api) -> None:
    # Gifts are designated from the calendar as it is when they are made: its elections (held by
    # the time this test runs) are entered after the quarter's gift, as test_fec_reports_api does.
    books = {"opening_cash_on_hand_cents": 500_000, "opening_cash_as_of": "2024-11-06"}
    campaign = committee(api, elections=None, **books)
    ana = donor("Ana")
    campaign.give(ana, 25_000, "2026-05-20")
    configure(api, campaign, **books)
    c = finance(client)
    listing = f"/admin/filings?committee_id={campaign.committee_id}"
    assert "No reports yet." in text(c.get(listing))
    fields = {"committee_id": campaign.committee_id, "report_code": Q2["report_code"], "from": Q2["from"]}

    bad = c.submit(listing, "/admin/filings", {**fields, "to": "2026-06-29"})  # off the calendar
    assert bad.status_code == 400 and 'role="alert"' in text(bad)
    assert run_queues() == 0  # nothing was queued

    asked = c.submit(listing, "/admin/filings", {**fields, "to": Q2["to"]})
    assert asked.status_code == 303
    page = asked.headers["Location"]
    assert "building" in text(c.get(page))
    run_queues()
    draft = text(c.get(page))
    assert "draft" in draft and "Sign and finalize" in draft
    row = re.search(r'<th scope="row">11\(a\)\(i\)</th><td>([^<]*)</td><td class="n">([^<]*)</td>', draft)
    assert row and row[2] == "250.00", row  # Ana's $250, itemized this quarter
    assert "Errors to fix before filing" not in draft

    unsigned = c.submit(page, f"{page}/finalize", {"treasurer_name": "Dana", "date_signed": "2026-07-10"})
    assert unsigned.status_code == 400 and 'id="treasurer_name-error"' in text(unsigned)
    signed = c.submit(page, f"{page}/finalize",
                      {"treasurer_name": "Dana Okafor", "date_signed": "2026-07-10"})
    assert signed.status_code == 303
    final = text(c.get(page))
    assert "Signed by Dana Okafor on 2026-07-10" in final and "Build an amendment" in final
    download = c.get(f"{page}/download?file=fec")
    assert download.status_code == 302
    fec = requests.get(download.headers["Location"], timeout=10)
    assert fec.status_code == 200 and fec.text.startswith("HDR")
    assert "OKAFOR" in fec.text.upper() and ana["last_name"].upper() in fec.text.upper()

    amended = c.submit(page, f"{page}/amend", {"fec_report_id": "FEC-1234567"})
    assert amended.status_code == 303 and amended.headers["Location"] != page
    run_queues()
    amendment = text(c.get(amended.headers["Location"]))
    assert "(amendment)" in amendment and "amends FEC-1234567" in amendment
    listed = text(c.get(listing))
    assert listed.count('href="/admin/filings/rpt_') == 2 and "amendment 1" in listed


def test_finance_downloads_a_48_hour_notice_and_records_it_filed(client, api) -> None:
    from tests.followups_kit import delivered, drain_until
    from tests.reports_kit import Campaign, committee_id
    from tests.reports_kit import configure as configure_calendar

    campaign = Campaign(api, committee_id())
    configure_calendar(api, campaign, elections=None)
    gift = campaign.give(donor("Ana"), 100_000, "2026-05-23", hour=17)  # ten days before the primary
    configure_calendar(api, campaign)
    drain_until(delivered(f"notice_check#{gift['donation_id']}"))
    c = finance(client)
    listed = text(c.get("/admin/notices"))
    row = listed[listed.index(gift["donation_id"]):]
    row = row[:row.index("</tr>")]
    assert "Record as filed" in row and "overdue" in row  # due 2026-05-25, long past
    notice_id = re.search(r'/admin/notices/([^/"]+)/download', row)[1]
    download = c.get(f"/admin/notices/{notice_id}/download")
    assert download.status_code == 302
    form6 = requests.get(download.headers["Location"], timeout=10).text
    assert form6.startswith("HDR") and "F65" in form6
    assert c.submit("/admin/notices", f"/admin/notices/{notice_id}/filed", {}).status_code == 303
    row = text(c.get("/admin/notices"))
    row = row[row.index(gift["donation_id"]):]
    assert "filed" in row[:row.index("</tr>")] and "Record as filed" not in row[:row.index("</tr>")]
    again = c.submit("/admin/notices", f"/admin/notices/{notice_id}/filed", {})
    assert again.status_code == 409  # recorded once
