"""Cancelling a monthly gift: one step from any receipt, at once, never a trap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.errors import NotFound
from chalicelib.giving.model import RecurringPlan


class Subscriptions(Protocol):
    def cancel_subscription(self, subscription_id: str) -> None: ...


class Plans(Protocol):
    def plan(self, subscription_id: str) -> RecurringPlan | None: ...
    def end_plan(self, subscription_id: str, when: datetime) -> object: ...


def cancel_plan(plans: Plans, stripe: Subscriptions, subscription_id: str,
                clock: Callable[[], datetime]) -> RecurringPlan:
    """Cancel the subscription at Stripe now (no further charge) and mark the plan ended.
    Cancelling twice is fine."""
    plan = plans.plan(subscription_id)
    if plan is None:
        raise NotFound("plan_not_found", "This monthly gift does not exist.")
    stripe.cancel_subscription(subscription_id)
    plans.end_plan(subscription_id, clock())
    return plan
