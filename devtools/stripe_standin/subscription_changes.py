"""Changes to a running subscription (a mixin of `store.Store`, used by `billing.BillingMixin`):
``pause_collection``, ``cancel_at``, a new price or quantity for an item, and a shifted charge day
(``trial_end``, ``billing_cycle_anchor=now``), plus what the next billing cycle makes of them.

The stand-in never computes prorations, so every change Stripe would prorate (a new price or
quantity, a new item, a trial, a reset anchor) must say ``proration_behavior=none``, as the backend
does; anything else is refused with a 400 rather than silently billed differently from Stripe.
Everything is checked before anything changes, so a refused update writes nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .billing import _short_id
from .common import Obj, now
from .events import RequestContext
from .forms import invalid, require

if TYPE_CHECKING:
    from .store import Store

    _Base = Store
else:
    _Base = object

NO_PRORATIONS = (
    "The Stripe stand-in does not compute prorations: pass proration_behavior=none with {what} "
    "(the change then applies from the next invoice, as Stripe does with none)."
)
SHIFTABLE = ("active", "trialing", "past_due")


class SubscriptionChangesMixin(_Base):
    """Validation and application of subscription updates beyond metadata and payment settings."""

    def _check_changes(self, sub: Obj, p: Obj) -> Obj:
        """Validate the schedule and price parts of ``POST /v1/subscriptions/{id}``; return the plan
        `_apply_changes` carries out (nothing is changed here)."""
        plan: Obj = {}
        moment = now()
        prorate = p.get("proration_behavior")

        def no_prorations(what: str) -> None:
            if prorate != "none":
                raise invalid(NO_PRORATIONS.format(what=what), "proration_behavior")

        if "pause_collection" in p:
            pause = p["pause_collection"]
            if pause is not None:
                require(pause, "behavior", prefix="pause_collection")
                resumes = pause.get("resumes_at")
                if resumes is not None and resumes <= moment:
                    raise invalid(
                        "Invalid pause_collection[resumes_at]: must be in the future.",
                        "pause_collection[resumes_at]",
                    )
                plan["pause_collection"] = {"behavior": pause["behavior"], "resumes_at": resumes}
            else:
                plan["pause_collection"] = None
        if "cancel_at" in p:
            if p["cancel_at"] is not None and p.get("cancel_at_period_end"):
                raise invalid(
                    "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
                    "cancel_at",
                )
            self._check_cancel_at(p["cancel_at"])
            plan["cancel_at"] = p["cancel_at"]
        if p.get("items"):
            plan["items"] = self._changed_items(sub, p["items"], no_prorations)
        trial_end, anchor = p.get("trial_end"), p.get("billing_cycle_anchor")
        if trial_end is not None:
            if anchor == "now":
                raise invalid(
                    "You may only specify one of these parameters: billing_cycle_anchor, trial_end.",
                    "trial_end",
                )
            if sub["status"] not in SHIFTABLE:
                raise invalid(f"A {sub['status']} subscription cannot be given a trial.", "trial_end")
            if trial_end == "now":
                if sub["status"] != "trialing":
                    raise invalid("trial_end=now ends a trial, and this subscription has none.", "trial_end")
            elif not re.fullmatch(r"\d+", trial_end):
                raise invalid("Invalid trial_end: must be 'now' or a Unix timestamp.", "trial_end")
            elif int(trial_end) <= moment:
                raise invalid(
                    "Invalid timestamp: must be an integer Unix timestamp in the future.", "trial_end"
                )
            no_prorations("trial_end")
            plan["trial_end"] = trial_end if trial_end == "now" else int(trial_end)
        if anchor == "now":
            if sub["status"] not in ("active", "past_due"):
                raise invalid(
                    f"billing_cycle_anchor=now needs an active subscription, not a {sub['status']} one "
                    "(end a trial with trial_end=now).",
                    "billing_cycle_anchor",
                )
            no_prorations("billing_cycle_anchor=now")
            plan["anchor_now"] = True
        return plan

    @staticmethod
    def _check_cancel_at(cancel_at: int | None) -> None:
        if cancel_at is not None and cancel_at <= now():
            raise invalid("Invalid cancel_at: must be a Unix timestamp in the future.", "cancel_at")

    def _changed_items(self, sub: Obj, items: list[Obj], no_prorations: Callable[[str], None]) -> list[Any]:
        """``items[i]`` of an update: ``id`` plus ``price``/``price_data``/``quantity``/``metadata``
        changes an item, no ``id`` adds one; every item must keep one currency and interval."""
        current = {item["id"]: item for item in sub["items"]["data"]}
        changes: list[tuple[Obj | None, Obj, int, dict[str, str] | None]] = []
        for i, item in enumerate(items):
            param = f"items[{i}]"
            existing = current.get(item["id"]) if item.get("id") else None
            if item.get("id") and existing is None:
                raise invalid(
                    f"The subscription item {item['id']} does not belong to this subscription.",
                    f"{param}[id]",
                )
            if existing is not None and not (item.get("price") or item.get("price_data")):
                price, quantity = existing["price"], item.get("quantity", existing["quantity"])
                if quantity is None or quantity < 1:
                    raise invalid(
                        "Invalid positive integer", f"{param}[quantity]", "parameter_invalid_integer"
                    )
            else:
                price, quantity = self._item_price(item, i)
            if existing is None:
                no_prorations("a new item")
            elif price["id"] != existing["price"]["id"] or quantity != existing["quantity"]:
                no_prorations("a new price or quantity")
            changes.append((existing, price, quantity, item.get("metadata")))
        replaced = {existing["id"]: price for existing, price, _, _ in changes if existing is not None}
        prices = [replaced.get(item["id"], item["price"]) for item in sub["items"]["data"]]
        prices += [price for existing, price, _, _ in changes if existing is None]
        shapes = {
            (price["currency"], price["recurring"]["interval"], price["recurring"]["interval_count"])
            for price in prices
        }
        if len(shapes) > 1:
            raise invalid(
                "Currency and interval fields must match across all plans on this subscription.", "items"
            )
        return changes

    def _apply_changes(self, sub: Obj, plan: Obj, previous: Obj) -> str | None:
        """Carry out a checked plan, noting old values in ``previous``; return the billing reason of
        an invoice that must be created now (``billing_cycle_anchor=now``, ``trial_end=now``)."""
        if "pause_collection" in plan and plan["pause_collection"] != sub["pause_collection"]:
            previous["pause_collection"] = copy.deepcopy(sub["pause_collection"])
            sub["pause_collection"] = plan["pause_collection"]
        if "cancel_at" in plan and (plan["cancel_at"] != sub["cancel_at"] or sub["cancel_at_period_end"]):
            previous["cancel_at"] = sub["cancel_at"]
            if sub["cancel_at_period_end"]:
                previous["cancel_at_period_end"] = True
                sub["cancel_at_period_end"] = False
            sub["cancel_at"] = plan["cancel_at"]
        if plan.get("items"):
            previous.setdefault("items", copy.deepcopy(sub["items"]))
            self._replace_items(sub, plan["items"])
        bill_now = None
        trial_end = plan.get("trial_end")
        if trial_end is not None:
            previous.setdefault("items", copy.deepcopy(sub["items"]))
            previous.update(
                billing_cycle_anchor=sub["billing_cycle_anchor"],
                status=sub["status"],
                trial_end=sub["trial_end"],
                trial_start=sub["trial_start"],
            )
            if trial_end == "now":
                sub.update(status="active", trial_end=now())
                self._reanchor(sub, now())
                bill_now = "subscription_update"
            else:
                if sub["status"] != "trialing":
                    sub["trial_start"] = now()
                sub.update(status="trialing", trial_end=trial_end, billing_cycle_anchor=trial_end)
                self._set_period(sub)
        if plan.get("anchor_now"):
            previous.setdefault("items", copy.deepcopy(sub["items"]))
            previous["billing_cycle_anchor"] = sub["billing_cycle_anchor"]
            self._reanchor(sub, now())
            bill_now = "subscription_update"
        return bill_now

    def _replace_items(self, sub: Obj, changes: list[Any]) -> None:
        period = sub["items"]["data"][0]
        for existing, price, quantity, metadata in changes:
            if not price["id"]:  # inline price_data: created only now that the request is valid
                price = self._new_price(price, price["currency"], price["product"], None)
            if existing is None:
                existing = {
                    "id": _short_id("si"),
                    "object": "subscription_item",
                    "billed_until": None,
                    "billing_thresholds": None,
                    "created": now(),
                    "current_period_end": period["current_period_end"],
                    "current_period_start": period["current_period_start"],
                    "current_trial": None,
                    "discounts": [],
                    "metadata": {},
                    "subscription": sub["id"],
                    "tax_rates": [],
                }
                sub["items"]["data"].append(existing)
            existing.update(price=copy.deepcopy(price), plan=self._plan(price), quantity=quantity)
            if metadata is not None:
                existing["metadata"] = {
                    k: v for k, v in {**existing["metadata"], **metadata}.items() if v not in (None, "")
                }
        sub["items"]["total_count"] = len(sub["items"]["data"])

    def _reanchor(self, sub: Obj, anchor: int) -> None:
        """Start the billing cycle again from ``anchor`` (its first period begins there)."""
        sub["billing_cycle_anchor"] = anchor
        self._sub_cycle[sub["id"]] = 0
        self._set_period(sub)

    def _next_cycle(self, sub: Obj, ctx: RequestContext | None) -> bool:
        """Move ``sub`` into its next period (ending a trial, resuming a pause); False if it ended
        instead because ``cancel_at`` (or ``cancel_at_period_end``) came first."""
        trialing = sub["status"] == "trialing"
        next_start = sub["trial_end"] if trialing else sub["items"]["data"][0]["current_period_end"]
        if sub["cancel_at_period_end"] or (sub["cancel_at"] is not None and sub["cancel_at"] <= next_start):
            self._end_subscription(sub, "canceled", "cancellation_requested", ctx)
            return False
        previous: Obj = {"items": copy.deepcopy(sub["items"])}
        if trialing:
            previous["status"] = "trialing"
            sub["status"] = "active"
            self._reanchor(sub, next_start)
        else:
            self._sub_cycle[sub["id"]] += 1
            self._set_period(sub)
        pause = sub["pause_collection"]
        if pause and pause["resumes_at"] is not None and pause["resumes_at"] <= next_start:
            previous["pause_collection"] = copy.deepcopy(pause)
            sub["pause_collection"] = None
        self._emit("customer.subscription.updated", sub, ctx, previous)
        return True
