"""The console's approval queue (supporters' proposed actions) and deposits page, over moto's
server: listed from their indexes, decided or declared with CSRF-checked form posts, once."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.console_kit import Console, staff_key, text
from tests.helpers import FINANCE_KEY, staff
from tests.integration.test_offline_contributions import email, entry
from tests.reports_kit import committee_id

pytestmark = pytest.mark.stack


def signed_in(client: Any, role: str) -> Console:
    c = Console(client)
    assert c.sign_in_with_key(staff_key(role)).status_code == 303
    return c


def propose(title: str) -> str:
    from chalicelib import deps
    from chalicelib.followups.model import Action, Host, Location

    now = datetime.now(timezone.utc)
    action_id = "act_" + uuid.uuid4().hex[:16]
    deps.followup_store().create_action(
        Action(
            action_id=action_id,
            kind="host",
            title=title,
            description="On Elm Street",
            # Somewhere no other test's donor lives: once approved, it is open and would be
            # offered to every donor of the shared stack (test_followups counts invitations).
            location=Location("Hagåtña", "GU", "96910"),
            created_at=now,
            updated_at=now,
            active=False,
            review="proposed",
            host=Host("supporter", "p_" + action_id, "Ana R"),
        )
    )
    return action_id


def test_organizers_approve_and_decline_proposals_once(client: Any) -> None:
    from chalicelib import deps

    party, club = propose(f"Block party {uuid.uuid4().hex[:6]}"), propose(f"Book club {uuid.uuid4().hex[:6]}")
    c = signed_in(client, "organizer")
    page = c.get("/admin/proposals")
    assert page.status_code == 200 and party in text(page) and club in text(page)
    assert len(page.body) < 60_000

    assert c.post(f"/admin/proposals/{party}", {"decision": "approve"}).status_code == 403  # no CSRF
    assert deps.actions().action(party).review == "proposed"
    bad = c.submit("/admin/proposals", f"/admin/proposals/{party}", {"decision": "maybe"})
    assert bad.status_code == 400 and deps.actions().action(party).review == "proposed"

    done = c.submit("/admin/proposals", f"/admin/proposals/{party}", {"decision": "approve"})
    assert done.status_code == 303 and done.headers["Location"] == f"/admin/proposals?decided={party}"
    approved = deps.actions().action(party)
    assert (approved.review, approved.active, approved.status) == ("approved", True, "active")
    shown = text(c.get(done.headers["Location"]))
    assert "approved, now open" in shown and f'action="/admin/proposals/{party}"' not in shown
    assert f'action="/admin/proposals/{club}"' in shown
    again = c.submit("/admin/proposals", f"/admin/proposals/{party}", {"decision": "decline"})
    assert again.status_code == 409 and deps.actions().action(party).review == "approved"

    assert (
        c.submit("/admin/proposals", f"/admin/proposals/{club}", {"decision": "decline"}).status_code == 303
    )
    declined = deps.actions().action(club)
    assert (declined.review, declined.active) == ("declined", False)
    assert club not in text(c.get("/admin/proposals"))
    assert (
        c.submit("/admin/proposals", "/admin/proposals/act_nothing", {"decision": "approve"}).status_code
        == 404
    )
    # The supporter is told through the outbox, once per decision.
    from chalicelib.storage.models import OutboxModel

    told = OutboxModel.get(f"proposal_reviewed#{party}", consistent_read=True)
    assert told.message_id == f"proposal_reviewed#{party}"


def test_finance_sees_a_deposit_to_the_cent_and_records_the_slip(client: Any, api: Any) -> None:
    cid = committee_id()
    batch = f"dep-{uuid.uuid4().hex[:12]}"
    for cents, method in ((25_000, "check"), (5_050, "cash")):
        status, body = api.call(
            "POST",
            "/api/admin/contributions",
            entry(cid, cents, email(), method, deposit_batch=batch),
            staff(FINANCE_KEY),
        )
        assert status == 201, body
    c = signed_in(client, "finance")
    assert c.get(f"/admin/deposits?batch={batch}").headers["Location"] == f"/admin/deposits/{batch}"
    assert c.get("/admin/deposits?batch=no%20spaces").status_code == 400
    page = text(c.get(f"/admin/deposits/{batch}"))
    assert "$300.50" in page and "not declared" in page and f'value="{cid}"' in page

    path = f"/admin/deposits/{batch}"
    refused = c.submit(path, path, {"committee_id": cid, "expected_total": "three hundred"})
    assert refused.status_code == 400 and 'aria-invalid="true"' in text(refused)
    assert api.call("GET", f"/api/admin/deposits/{batch}", None, staff(FINANCE_KEY))[1]["declared"] is False
    short = c.submit(
        path, path, {"committee_id": cid, "expected_total": "300.51", "deposited_on": "2025-01-11"}
    )
    assert short.status_code == 303
    shown = text(c.get(short.headers["Location"]))
    assert "not reconciled" in shown and "-$0.01" in shown and "$300.51" in shown
    exact = c.submit(
        path, path, {"committee_id": cid, "expected_total": "$300.50", "deposited_on": "2025-01-11"}
    )
    assert exact.status_code == 303
    seen = api.call("GET", f"/api/admin/deposits/{batch}", None, staff(FINANCE_KEY))[1]
    assert (seen["reconciled"], seen["expected_total_cents"], seen["deposited_on"]) == (
        True,
        30_050,
        "2025-01-11",
    )
    assert "tag ok" in text(c.get(path))
    listed = text(c.get("/admin/deposits"))
    assert f'href="/admin/deposits/{batch}"' in listed and "$300.50" in listed

    unknown = c.get("/admin/deposits/dep-none-such")
    assert unknown.status_code == 404 and "Record the deposit" in text(unknown)
    assert signed_in(client, "organizer").get(path).status_code == 403
