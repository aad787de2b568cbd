"""Presumptive redesignation through the running stack: two primary gifts reserved, the limit
lowered, both paid at the Stripe stand-in and their signed successes delivered. The excess counts
toward the general, the donor is emailed a signed link the same day; opening it changes nothing,
posting it (twice) refunds the redesignated amount once at the stand-in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.api.html import FORM
from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import DonorAggregateModel, OutboxModel
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, ElectionCalendar, donation_body
from tests.integration.test_lost_primary import pay, standin
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("redesignation")) as folder:
        yield folder


def refunds_of(local_stack: dict[str, Any], intent: str) -> list[Any]:
    events = standin(local_stack).v1.events.list(params={"type": "charge.refunded", "limit": 100}).data
    return [e for e in events if e.data.object["payment_intent"] == intent]


def nets(calendar: ElectionCalendar, email: str) -> tuple[int, int]:
    def net(code: str) -> int:
        try:
            return int(DonorAggregateModel.get(donor_id_for(email), f"{calendar.committee_id}#{code}",
                                               consistent_read=True).net_cents)
        except DonorAggregateModel.DoesNotExist:
            return 0
    return net(calendar.primary), net(calendar.general)


def excessive_primary_gift(api: Any, local_stack: dict[str, Any],
                           **setting: Any) -> tuple[ElectionCalendar, str, dict[str, Any], str]:
    from tests.conftest import deliver_webhooks_to

    calendar = ElectionCalendar(api)
    calendar.configure(limit_cents=10_000, **setting)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    email = f"redesig.{uuid.uuid4().hex[:10]}@example.org"
    deliver_webhooks_to(local_stack, None)  # the stand-in records events; this test delivers them
    started = []
    for cents in (8_000, 2_000):
        status, body = api.call("POST", f"/api/pages/{slug}/donations", donation_body(cents, email=email))
        assert status == 201, body
        started.append(body)
    calendar.configure(limit_cents=9_000, **setting)  # lowered after both were reserved
    deps.committees().forget(calendar.committee_id)
    pay(api, local_stack, started[0])
    intent = pay(api, local_stack, started[1])
    return calendar, email, started[1], intent


def test_the_excess_counts_for_the_general_and_the_donor_may_take_a_refund_once(
        api, local_stack, mailbox: Path) -> None:
    calendar, email, second, intent = excessive_primary_gift(api, local_stack)
    donation = api.donation(second["donation_id"], key=FINANCE_KEY)
    assert (donation["redesignated_cents"], donation["redesignated_to"],
            donation["redesignation_status"], donation["excess_refund_cents"]) == \
        (1_000, calendar.general, "presumed", 0)
    assert nets(calendar, email) == (9_000, 1_000)

    assert drain_until(delivered(f"redesignation_notice#{second['donation_id']}")).status == "sent"
    (notice,) = [m for m in sent_to(mailbox, email) if "next election" in m["Subject"]]
    text = text_of(notice)
    assert "$10 of it is counted for the " + calendar.general in text
    path = re.search(r"https?://[^/\s]+(/redesignation/\S+)", text).group(1)  # type: ignore[union-attr]

    for _ in range(2):  # a mail scanner opens the link: nothing changes
        status, page = api.call("GET", path)
        assert status == 200 and "Refund $10 to my card" in page
    assert nets(calendar, email) == (9_000, 1_000)
    assert not [m for m in OutboxModel.scan(OutboxModel.kind == "refund_redesignated")
                if m.payload["donation_id"] == second["donation_id"]]

    for _ in range(2):  # the donor posts it twice
        status, page = api.call("POST", path, raw="", headers={"Content-Type": FORM})
        assert status == 200 and "Your refund is on its way" in page
    assert nets(calendar, email) == (10_000, 0)
    deps.dispatcher().drain(limit=500)
    deps.dispatcher().drain(limit=500)  # a second drain refunds nothing more
    (refund,) = refunds_of(local_stack, intent)
    assert refund.data.object["amount_refunded"] == 1_000
    assert api.webhook(refund.to_dict())[1]["outcome"] == "applied"
    assert nets(calendar, email) == (9_000, 0)


def test_with_the_setting_off_the_whole_excess_is_refunded_at_once(api, local_stack) -> None:
    calendar, email, second, intent = excessive_primary_gift(api, local_stack,
                                                             presumptive_redesignation=False)
    donation = api.donation(second["donation_id"], key=FINANCE_KEY)
    assert (donation["redesignated_cents"], donation["excess_refund_cents"]) == (0, 1_000)
    assert drain_until(delivered(f"refund_excess#{second['donation_id']}")).status == "sent"
    (refund,) = refunds_of(local_stack, intent)
    assert refund.data.object["amount_refunded"] == 1_000
    assert nets(calendar, email)[1] == 0
