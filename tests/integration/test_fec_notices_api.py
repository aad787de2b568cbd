"""48-hour notices end to end: signed webhooks pay gifts on chosen days, the outbox's drain (not
the webhook) checks each against the committee's calendar, finance is emailed and lists the
notice, downloads its Form 6 through a presigned URL and records its filing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fecfile
import pytest
import requests

from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, staff
from tests.mail import mirrored, sent_to, text_of
from tests.reports_kit import Campaign, committee_id, configure, donor

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("notices")) as folder:
        yield folder


@pytest.fixture(scope="module")
def treasurer(local_stack: dict[str, Any]) -> str:
    """A finance key with an email on file: notices are sent to it."""
    from chalicelib import deps
    from chalicelib.staff.auth import hash_key

    address = f"treasurer.{uuid.uuid4().hex[:8]}@example.org"
    deps.staff_keys().save(hash_key(f"finance-{uuid.uuid4().hex}"), "finance", "Dana Okafor",
                           datetime.now(timezone.utc), email=address)
    return address


def notices(api: Any, committee: str) -> list[dict[str, Any]]:
    status, body = api.call("GET", f"/api/admin/notices?committee_id={committee}",
                            headers=staff(FINANCE_KEY))
    assert status == 200, body
    return list(body["notices"])


def test_a_large_gift_ten_days_before_the_primary_gets_a_notice_others_do_not(
        api: Any, mailbox: Path, treasurer: str) -> None:
    # Gifts are designated when made from the calendar as it is then, so the primary (held by
    # the time this test runs) is entered after them, before the outbox is drained.
    campaign = Campaign(api, committee_id())
    configure(api, campaign, elections=None)
    ten_days = campaign.give(donor("Ana"), 100_000, "2026-05-23", hour=17)
    early = campaign.give(donor("Bo"), 100_000, "2026-05-08", hour=17)  # 25 days before
    late = campaign.give(donor("Cy"), 100_000, "2026-06-01", hour=12)  # 24 hours before
    small = campaign.give(donor("Dee"), 99_999, "2026-05-23", hour=18)  # under $1,000
    assert notices(api, campaign.committee_id) == []  # nothing in the webhook's request
    configure(api, campaign)
    for started in (ten_days, early, late):
        drain_until(delivered(f"notice_check#{started['donation_id']}"))
    from chalicelib import deps

    assert deps.outbox_store().get(f"notice_check#{small['donation_id']}") is None

    (notice,) = notices(api, campaign.committee_id)
    assert notice["contributions"] == [ten_days["donation_id"]] and notice["election"] == "P2026"
    assert notice["received_on"] == "2026-05-23" and notice["filed_at"] is None
    assert notice["due_at"] == "2026-05-25T17:00:00Z"
    (email,) = [m for m in sent_to(mailbox, treasurer) if notice["notice_id"] in text_of(m)]
    assert "$1,000.00" in text_of(email) and "P2026" in str(email["Subject"])

    status, answer = api.call("GET", f"/api/admin/notices/{notice['notice_id']}/file",
                              headers=staff(ORGANIZER_KEY))
    assert status == 403
    status, answer = api.call("GET", f"/api/admin/notices/{notice['notice_id']}/file",
                              headers=staff(FINANCE_KEY))
    assert status == 200, answer
    text = requests.get(answer["fec_url"], timeout=10).content.decode("ascii")
    parsed = fecfile.loads(text)
    assert parsed["filing"]["form_type"] == "F6"
    assert parsed["filing"]["filer_committee_id_number"] == campaign.committee_id
    (line,) = parsed["itemizations"]["F65"]
    assert line["contributor_first_name"] == "Ana" and line["contribution_amount"] == 1000.0
    assert line["contribution_date"].strftime("%Y-%m-%d") == "2026-05-23"

    status, filed = api.call("POST", f"/api/admin/notices/{notice['notice_id']}/filed",
                             headers=staff(FINANCE_KEY))
    assert status == 200 and filed["filed_at"], filed
    assert datetime.fromisoformat(filed["filed_at"].replace("Z", "+00:00")) > \
        datetime.now(timezone.utc) - timedelta(minutes=5)
    status, again = api.call("POST", f"/api/admin/notices/{notice['notice_id']}/filed",
                             headers=staff(FINANCE_KEY))
    assert status == 409 and again["error"]["code"] == "notice_filed"
    for unknown in ("ntc_none", "ntc_" + "0" * 24, "x" * 3000):
        assert api.call("GET", f"/api/admin/notices/{unknown}/file", headers=staff(FINANCE_KEY))[0] == 404
        assert api.call("POST", f"/api/admin/notices/{unknown}/filed", headers=staff(FINANCE_KEY))[0] == 404
    assert api.call("GET", "/api/admin/notices?committee_id=nope", headers=staff(FINANCE_KEY))[0] == 400


def test_a_large_gift_s_webhook_still_costs_two_dynamodb_requests(api: Any) -> None:
    """The notice check rides in the webhook's own transaction (one more outbox item), so a
    $1,000 success is still one TransactGetItems and one TransactWriteItems; a duplicate one."""
    from chalicelib import deps
    from tests.dynamo_counter import dynamodb_requests
    from tests.helpers import stripe_event
    from tests.reports_kit import at, pi_id

    campaign = Campaign(api, committee_id())
    configure(api, campaign, elections=None)
    started = campaign.start(donor("Eve"), 100_000)
    paid = stripe_event("payment_intent.succeeded", id=pi_id(started), amount=100_000,
                        amount_received=100_000, metadata={"donation_id": started["donation_id"]})
    paid["created"] = at("2026-05-23", 17)
    deps.committees().get(campaign.committee_id)  # the committee as the webhook's container caches it
    with dynamodb_requests() as first:
        assert api.webhook(paid)[1]["outcome"] == "applied"
    assert sum(first.values()) <= 2, first
    with dynamodb_requests() as again:
        assert api.webhook(paid)[1]["outcome"] == "duplicate"
    assert sum(again.values()) <= 1, again
    assert deps.outbox_store().get(f"notice_check#{started['donation_id']}") is not None
