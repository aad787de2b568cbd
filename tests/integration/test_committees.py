"""The committee's calendar over the API: finance sets it whole, reads it back as set, is told
clearly what is wrong (and nothing is written), and every page's disclaimer uses its name."""

from __future__ import annotations

import random
from typing import Any

import pytest

from chalicelib import deps
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, committee_body, staff

pytestmark = pytest.mark.stack


def committee_id() -> str:
    return "C" + "".join(random.choice("0123456789") for _ in range(8))


def test_finance_sets_the_calendar_and_reads_it_back(api) -> None:
    cid = committee_id()
    status, saved = api.call("PUT", f"/api/admin/committees/{cid}", committee_body(), staff(FINANCE_KEY))
    assert status == 200, saved
    deps.committees().forget(cid)
    status, read = api.call("GET", f"/api/admin/committees/{cid}", headers=staff(FINANCE_KEY))
    assert status == 200 and read == saved
    assert read["treasurer"] == {"first_name": "Dana", "last_name": "Okafor", "middle_name": "M."}
    assert read["candidate"]["district"] == "13" and read["time_zone"] == "America/Chicago"
    assert [(e["code"], e["date"], e["net_debt_cents"]) for e in read["elections"]] == [
        ("P2026", "2026-06-02", 50_000), ("G2026", "2026-11-03", 0)]
    assert (read["status"], read["status_date"]) == ("active", None) and "warnings" not in read
    # The treasurer may be given split, and a status is dated the day it is set.
    status, lost = api.call("PUT", f"/api/admin/committees/{cid}", committee_body(
        treasurer_name=None, treasurer={"first_name": "Dana", "middle_name": "M", "last_name": "Okafor"},
        status="lost_primary", status_date="2026-06-03"), staff(FINANCE_KEY))
    assert status == 200, lost
    assert lost["treasurer_name"] == "Dana M Okafor"
    assert (lost["status"], lost["status_date"]) == ("lost_primary", "2026-06-03")


@pytest.mark.parametrize(("changes", "field"), [
    ({"time_zone": None}, "time_zone"),  # required for a new committee
    ({"time_zone": "EST5EDT-ish"}, "time_zone"),
    ({"elections": [{"code": "Q2026", "date": "2026-11-03"}]}, "elections.0"),
    ({"elections": [{"code": "G2030", "date": "2026-11-03"}]}, "elections.0"),
    ({"elections": [{"code": "G2026", "date": "November 3"}]}, "elections.0.date"),
    ({"treasurer_name": "Okafor"}, "treasurer_name"),
    ({"candidate": {"fec_id": "H6IL13123", "name": "Ana Rivera", "office": "Z", "state": "IL"}},
     "candidate.office"),
    ({"address": {"line1": "1 Main", "city": "X", "state": "ZZ", "zip": "1"}}, "address.state"),
    ({"type": "pac"}, "body"),
    ({"status": "won"}, "status"),
])
def test_bad_calendars_are_400_and_write_nothing(api, changes: dict[str, Any], field: str) -> None:
    cid = committee_id()
    status, error = api.call("PUT", f"/api/admin/committees/{cid}", committee_body(**changes),
                             staff(FINANCE_KEY))
    assert status == 400, error
    assert error["error"]["code"] == "invalid_request" and field in error["error"]["fields"], error
    assert deps.committees().find(cid) is None


def test_a_pac_needs_only_its_time_zone_and_organizers_may_not_set_it(api) -> None:
    cid = committee_id()
    pac = {"name": "Springfield Neighbors PAC", "type": "pac", "time_zone": "America/Los_Angeles"}
    assert api.call("PUT", f"/api/admin/committees/{cid}", pac, staff(ORGANIZER_KEY))[0] == 403
    status, body = api.call("PUT", f"/api/admin/committees/{cid}", pac, staff(FINANCE_KEY))
    assert status == 200, body
    assert (body["type"], body["time_zone"], body["limit_cents"]) == ("pac", "America/Los_Angeles", 500_000)
    assert "elections" not in body


def test_a_committee_stored_before_time_zones_is_assumed_eastern_with_a_warning(api) -> None:
    from datetime import datetime, timezone

    from chalicelib.storage.models import CommitteeModel

    cid = committee_id()
    CommitteeModel(cid, name="Old committee", type="candidate", limit_cents=350_000,
                   itemization_threshold_cents=20_000, updated_at=datetime.now(timezone.utc)).save()
    status, body = api.call("GET", f"/api/admin/committees/{cid}", headers=staff(FINANCE_KEY))
    assert status == 200 and body["time_zone"] == "America/New_York"
    assert "America/New_York is assumed" in body["warnings"][0]
    # Saving it again without a time zone keeps the warning; naming one clears it.
    status, body = api.call("PUT", f"/api/admin/committees/{cid}", {"name": "Old committee"},
                            staff(FINANCE_KEY))
    assert status == 200 and body["warnings"]
    status, body = api.call("PUT", f"/api/admin/committees/{cid}",
                            {"name": "Old committee", "time_zone": "America/Denver"}, staff(FINANCE_KEY))
    assert status == 200 and "warnings" not in body and body["time_zone"] == "America/Denver"


def test_paid_for_by_names_the_committee(api) -> None:
    cid = committee_id()
    assert api.call("PUT", f"/api/admin/committees/{cid}", committee_body(name="Friends of Ana Rivera"),
                    staff(FINANCE_KEY))[0] == 200
    slug = api.create_page(committee_id=cid, title="Spring push")["slug"]
    html = api.client.http.get(f"/donate/{slug}").body.decode()
    assert f"Paid for by Friends of Ana Rivera ({cid})" in html
    assert api.public(slug)["paid_for_by"] == "Friends of Ana Rivera"
