"""Cancelling a monthly gift: one step from any receipt, at once, never a trap.

The receipt's link (`/c/{token}`, token purpose `cancel`) opens a page that says what will
happen; only its button (a POST) cancels. Mail scanners and link prefetchers open every link in
a message, so opening a link must never act.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib import tokens
from chalicelib.clock import utcnow
from chalicelib.errors import NotFound
from chalicelib.giving.model import RecurringPlan
from chalicelib.outbox.model import OutboxMessage

PLAN_ENDED = "plan_ended"  # the outbox kind of the email that tells the donor their gift stopped
# Why a plan ended, as the email says it: the donor's own cancel, or Stripe ending it (the
# renewals kept failing, or staff cancelled it in Stripe's dashboard).
CANCELLED, ENDED = "cancelled", "ended"


RENEWAL_FAILED = "renewal_failed"  # the outbox kind of the email that says a renewal failed


def renewal_failed_notice(subscription_id: str, invoice_id: str, amount_cents: int | None,
                          now: datetime) -> OutboxMessage:
    """The email that tells a donor a monthly renewal's payment failed, with a link to replace
    the card: one per invoice (its id is the message's), however often Stripe retries it or
    delivers its `invoice.payment_failed`; transactional like the receipt."""
    return OutboxMessage(f"{RENEWAL_FAILED}#{invoice_id}", RENEWAL_FAILED, now,
                         {"subscription_id": subscription_id, "invoice_id": invoice_id,
                          "amount_cents": amount_cents})


def plan_ended_notice(subscription_id: str, reason: str, now: datetime) -> OutboxMessage:
    """The email that confirms a monthly gift stopped: transactional (it goes to a donor who
    unsubscribed from invitations), one per plan whoever ended it first."""
    return OutboxMessage(f"{PLAN_ENDED}#{subscription_id}", PLAN_ENDED, now,
                         {"subscription_id": subscription_id, "reason": reason})


class Subscriptions(Protocol):
    def cancel_subscription(self, subscription_id: str) -> None: ...


class Plans(Protocol):
    def plan(self, subscription_id: str) -> RecurringPlan | None: ...
    def end_plan(self, subscription_id: str, when: datetime,
                 notice: OutboxMessage | None = None) -> object: ...


class TokenReader(Protocol):
    def read(self, token: str, purpose: str) -> str: ...



class MonthlyGifts:
    """What a donor does with a monthly gift from a link: see it, cancel it."""

    def __init__(self, plans: Plans, stripe: Subscriptions, tokens_: TokenReader,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.plans = plans
        self.stripe = stripe
        self.tokens = tokens_
        self.clock = clock

    def plan_for(self, token: str) -> RecurringPlan:
        """The plan a cancel link names (reads only: the link's page shows it with a button)."""
        subscription_id = self.tokens.read(token, tokens.CANCEL_PLAN)
        plan = self.plans.plan(subscription_id)
        if plan is None:
            raise NotFound("plan_not_found", "This monthly gift does not exist.")
        return plan

    def cancel(self, token: str) -> RecurringPlan:
        """Cancel the subscription at Stripe now (no further charge), mark the plan ended and
        queue the email that confirms it. Cancelling twice is fine (one email)."""
        plan = self.plan_for(token)
        self.stripe.cancel_subscription(plan.subscription_id)
        now = self.clock()
        self.plans.end_plan(plan.subscription_id, now,
                            plan_ended_notice(plan.subscription_id, CANCELLED, now))
        return plan
