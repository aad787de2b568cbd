"""What a large gift's success sets in motion for 48-hour notices, decided in the webhook's own
transaction (light to import: the webhook loads it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.filing.thresholds import NOTICE_THRESHOLD_CENTS
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation
from chalicelib.outbox.model import OutboxMessage

NOTICE_CHECK = "notice_check"


def plan_notice_check(donation: Donation, new: PaymentState, now: datetime) -> Sequence[OutboxMessage]:
    """A `giving.service.Planner`: when a contribution of $1,000 or more succeeds, check it for a
    48-hour notice off the webhook (keyed by the contribution: a redelivered event plans
    nothing more). Whether it needs one is the calendar's to say, in the check."""
    if not (new.paid and not donation.state.paid and new.amount_cents >= NOTICE_THRESHOLD_CENTS):
        return []
    return [OutboxMessage(f"{NOTICE_CHECK}#{donation.donation_id}", NOTICE_CHECK, now,
                          {"donation_id": donation.donation_id, "committee_id": donation.committee_id})]
