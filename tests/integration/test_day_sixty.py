"""Day 60 through the running stack: a primary gift's excess that the general has no room for
is held (the donor told the same day), and the daily scheduled job, invoked as Lambda invokes it
and delivered twice on its day 60, refunds it once at the Stripe stand-in; the day before it
refunds nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import deps
from chalicelib.outbox.dispatcher import Dispatcher
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, ElectionCalendar, donation_body
from tests.integration.test_lost_primary import pay
from tests.integration.test_redesignation import nets, refunds_of

pytestmark = pytest.mark.stack


def run_job(client: Any) -> int:
    """The daily scheduled Lambda, as EventBridge invokes it."""
    tick = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                           detail={}, resources=[])
    return int(client.lambda_.invoke("refund_held_excess", tick).payload["queued"])


def test_a_held_excess_is_refunded_once_on_day_60(client, api, local_stack, monkeypatch) -> None:
    from tests.conftest import deliver_webhooks_to

    calendar = ElectionCalendar(api)
    calendar.configure(limit_cents=10_000)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    email = f"held.{uuid.uuid4().hex[:10]}@example.org"
    deliver_webhooks_to(local_stack, None)  # the stand-in records events; this test delivers them
    general = api.call("POST", f"/api/pages/{slug}/donations",
                       donation_body(9_000, email=email, election=calendar.general))[1]
    pay(api, local_stack, general)  # the general holds 9,000: no room once the limit is 9,000
    started = []
    for cents in (8_000, 2_000):
        status, body = api.call("POST", f"/api/pages/{slug}/donations", donation_body(cents, email=email))
        assert status == 201, body
        started.append(body)
    calendar.configure(limit_cents=9_000)  # lowered after both were reserved
    deps.committees().forget(calendar.committee_id)
    pay(api, local_stack, started[0])
    intent = pay(api, local_stack, started[1])
    donation_id = started[1]["donation_id"]

    donation = api.donation(donation_id, key=FINANCE_KEY)
    assert (donation["redesignated_cents"], donation["excess_refund_cents"],
            donation["excess_held_cents"]) == (0, 0, 1_000)
    assert drain_until(delivered(f"excess_notice#{donation_id}")).status == "sent"
    received = deps.committees().get(calendar.committee_id).local_date(datetime.now(timezone.utc))
    assert donation["excess_held_until"] == (received + timedelta(days=60)).isoformat()

    zone = ZoneInfo(deps.committees().get(calendar.committee_id).zone)
    def on_local_day(days: int) -> Dispatcher:
        """The job's clock at noon on day `days` there, and a drain that runs then."""
        noon = datetime.combine(received + timedelta(days=days), time(12), tzinfo=zone)
        noon = noon.astimezone(timezone.utc)
        monkeypatch.setattr("chalicelib.clock.utcnow", lambda: noon)
        return Dispatcher(deps.outbox_store(), deps.outbox_handlers(), lambda: noon)

    on_local_day(59).drain(limit=500)
    assert run_job(client) == 0
    on_local_day(59).drain(limit=500)
    assert not refunds_of(local_stack, intent)
    drain = on_local_day(60)
    first, again = run_job(client), run_job(client)  # EventBridge may deliver twice
    assert first >= 1 and again == 0
    drain.drain(limit=500)
    drain.drain(limit=500)
    (refund,) = refunds_of(local_stack, intent)
    assert refund.data.object["amount_refunded"] == 1_000
    assert api.webhook(refund.to_dict())[1]["outcome"] == "applied"
    assert nets(calendar, email) == (9_000, 9_000)
    donation = api.donation(donation_id, key=FINANCE_KEY)
    assert (donation["excess_held_cents"], donation["excess_refund_cents"]) == (0, 1_000)
