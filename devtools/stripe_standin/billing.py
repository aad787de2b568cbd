"""Customers, saved cards, products, prices, subscriptions and invoices (a mixin of `store.Store`).

Shapes follow API version 2026-10-28 (stripe-python 16): an invoice names its subscription under
``parent.subscription_details`` (with a snapshot of the subscription's metadata), its payments are
``invoice_payment`` objects (``payments`` and ``confirmation_secret`` are includable, i.e. only
rendered with ``expand[]``), and billing periods live on the subscription items.

Time does not pass on its own: ``POST /_standin/subscriptions/{id}/advance`` (`advance_subscription`)
runs the next billing cycle, or the next retry of an unpaid invoice. The third failed automatic
attempt at one invoice ends the subscription (``canceled``; ``incomplete_expired`` if it never
started), as Stripe's default retry schedule does.
"""

from __future__ import annotations

import copy
import re
import secrets
from typing import TYPE_CHECKING, Any

from .common import Obj, add_interval, matches_range, merge_metadata, money, now
from .events import RequestContext, new_id
from .forms import StripeError, invalid, require

if TYPE_CHECKING:
    from .store import Store

    _Base = Store
else:
    _Base = object

MAX_ATTEMPTS = 3  # automatic attempts at one invoice before the subscription ends
RETRY_DAYS = (3, 5, 7)  # shown in next_payment_attempt; advance runs them at once
ENDED = ("canceled", "incomplete_expired")
NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. Please consider adding a "
    "default payment method. For more information, visit "
    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority."
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _short_id(prefix: str) -> str:
    """Customer/product/subscription-item ids are 14 characters after the prefix, as Stripe's are."""
    return prefix + "_" + "".join(secrets.choice(_ALNUM) for _ in range(14))


def _not_attached(pm_id: str, param: str) -> StripeError:
    return invalid(
        f"The customer does not have a payment method with the ID {pm_id}. The payment method must be "
        "attached to the customer.",
        param,
    )


class BillingMixin(_Base):
    """Customers, payment method attachment, products, prices, subscriptions, invoices."""

    def __init__(self) -> None:
        self._invoice_pi: dict[str, str] = {}  # invoice -> its PaymentIntent
        self._pi_invoice: dict[str, str] = {}  # PaymentIntent -> the invoice it pays
        self._invoice_payments: list[Obj] = []  # oldest first
        self._auto_attempts: dict[str, int] = {}  # invoice -> automatic payment attempts
        self._sub_cycle: dict[str, int] = {}  # subscription -> index of its current period

    # ---------------------------------------------------------------- customers

    def create_customer(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/customers`` (``payment_method`` is attached; it may be the invoice default)."""
        self._check_email(p.get("email"))
        default = (p.get("invoice_settings") or {}).get("default_payment_method")
        with self.lock:
            pm = self._resolve_payment_method(p["payment_method"]) if p.get("payment_method") else None
            if pm is not None:
                self._check_attachable(pm)
            if default and not (pm and default in (pm["id"], p["payment_method"])):
                raise _not_attached(default, "invoice_settings[default_payment_method]")
            address = {k: None for k in ("city", "country", "line1", "line2", "postal_code", "state")}
            customer = {
                "id": _short_id("cus"),
                "object": "customer",
                "address": {**address, **p["address"]} if p.get("address") else None,
                "balance": 0,
                "business_name": None,
                "created": now(),
                "currency": None,
                "customer_account": None,
                "default_source": None,
                "delinquent": False,
                "description": p.get("description"),
                "discount": None,
                "email": p.get("email"),
                "individual_name": None,
                "invoice_prefix": secrets.token_hex(4).upper(),
                "invoice_settings": {
                    "custom_fields": None,
                    "default_payment_method": pm["id"] if default and pm else None,
                    "footer": None,
                    "rendering_options": None,
                },
                "livemode": False,
                "metadata": merge_metadata({}, p.get("metadata")),
                "name": p.get("name"),
                "next_invoice_sequence": 1,
                "phone": p.get("phone"),
                "preferred_locales": [],
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            }
            self.objects[customer["id"]] = customer
            self._emit("customer.created", customer, ctx)
            if pm is not None:
                self._attach(pm, customer["id"], ctx)
            return customer

    def update_customer(self, customer_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/customers/{id}``."""
        self._check_email(p.get("email"))
        with self.lock:
            customer = self.get("customer", customer_id, "customer")
            settings = p.get("invoice_settings") or {}
            default = settings.get("default_payment_method")
            if default:
                pm = self.objects.get(default)
                if not pm or pm.get("object") != "payment_method" or pm["customer"] != customer_id:
                    raise _not_attached(default, "invoice_settings[default_payment_method]")
            previous: Obj = {}
            for name in ("email", "name", "phone", "description"):
                if name in p and p[name] != customer[name]:
                    previous[name] = customer[name]
                    customer[name] = p[name]
            if "address" in p:
                previous["address"] = copy.deepcopy(customer["address"])
                base = customer["address"] or dict.fromkeys(
                    ("city", "country", "line1", "line2", "postal_code", "state")
                )
                customer["address"] = {**base, **(p["address"] or {})} if p["address"] is not None else None
            if p.get("metadata") is not None:
                merged = merge_metadata(customer["metadata"], p["metadata"])
                if merged != customer["metadata"]:
                    previous["metadata"] = customer["metadata"]
                    customer["metadata"] = merged
            if "default_payment_method" in settings:
                current = customer["invoice_settings"]
                if current["default_payment_method"] != default:
                    previous["invoice_settings"] = copy.deepcopy(current)
                    current["default_payment_method"] = default
            if previous:
                self._emit("customer.updated", customer, ctx, previous)
            return customer

    @staticmethod
    def _check_email(email: str | None) -> None:
        if email is not None and not _EMAIL.fullmatch(email):
            raise invalid(f"Invalid email address: {email}", "email", "email_invalid")

    # ---------------------------------------------------------- payment methods

    def _resolve_payment_method(self, pm_id: str, param: str = "payment_method", status: int = 400) -> Obj:
        """A stored PaymentMethod, or a fresh one for a test token such as ``pm_card_visa``."""
        if pm_id.startswith("pm_card_"):
            return self._lookup_payment_method(pm_id)
        return self.get("payment_method", pm_id, param, status=status)

    def _check_attachable(self, pm: Obj) -> None:
        if pm["customer"]:
            raise invalid(
                "The payment method you provided has already been attached to a customer.", "payment_method"
            )
        if pm["id"] in self._consumed_pms:
            raise invalid(
                "This PaymentMethod was previously used without being attached to a Customer or was "
                "detached from a Customer, and may not be used again.",
                "payment_method",
            )
        refusal = self._attach_refusal(pm)
        if refusal is not None:
            raise refusal

    def _attach(self, pm: Obj, customer_id: str, ctx: RequestContext | None) -> None:
        pm["customer"] = customer_id
        self._emit("payment_method.attached", pm, ctx)

    def attach_payment_method(self, pm_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/payment_methods/{id}/attach``."""
        require(p, "customer")
        with self.lock:
            pm = self._resolve_payment_method(pm_id, status=404)
            self.get("customer", p["customer"], "customer", status=400)
            if pm["customer"] == p["customer"]:
                return pm
            self._check_attachable(pm)
            self._attach(pm, p["customer"], ctx)
            return pm

    def detach_payment_method(self, pm_id: str, ctx: RequestContext) -> Obj:
        """``POST /v1/payment_methods/{id}/detach``: the card cannot be used again."""
        with self.lock:
            pm = self.get("payment_method", pm_id, "payment_method")
            if pm["customer"] is None:
                raise invalid(f"The payment method {pm_id} is not attached to a customer.", "payment_method")
            previous = {"customer": pm["customer"]}
            customer = self.objects[pm["customer"]]
            if customer["invoice_settings"]["default_payment_method"] == pm_id:
                customer["invoice_settings"]["default_payment_method"] = None
            pm["customer"] = None
            self._consumed_pms.add(pm_id)
            self._emit("payment_method.detached", pm, ctx, previous)
            return pm

    def list_payment_methods(self, p: Obj, customer_id: str | None = None) -> Obj:
        """``GET /v1/payment_methods?customer=`` and ``GET /v1/customers/{id}/payment_methods``."""
        with self.lock:
            customer_id = customer_id or p.get("customer")
            if not customer_id:
                raise invalid("Missing required param: customer.", "customer", "parameter_missing")
            self.get("customer", customer_id, "customer", status=400 if p.get("customer") else 404)
            items = [
                o
                for o in reversed(self.objects.values())
                if o.get("object") == "payment_method" and o["customer"] == customer_id
            ]
            url = f"/v1/customers/{customer_id}/payment_methods"
            return self._list(items, p, url, "payment_method")

    # --------------------------------------------------------- products, prices

    def create_product(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/products``."""
        require(p, "name")
        with self.lock:
            return self._new_product(p, ctx)

    def _new_product(self, p: Obj, ctx: RequestContext | None) -> Obj:
        created = now()
        product = {
            "id": _short_id("prod"),
            "object": "product",
            "active": p.get("active", True) is not False,
            "created": created,
            "default_price": None,
            "description": p.get("description"),
            "images": [],
            "livemode": False,
            "marketing_features": [],
            "metadata": merge_metadata({}, p.get("metadata")),
            "name": p["name"],
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": p.get("statement_descriptor"),
            "tax_code": None,
            "type": "service",
            "unit_label": None,
            "updated": created,
            "url": None,
        }
        self.objects[product["id"]] = product
        self._emit("product.created", product, ctx)
        return product

    def create_price(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/prices`` (per-unit prices: ``unit_amount``, optional ``recurring``)."""
        require(p, "currency", "unit_amount")
        currency = self._currency(p["currency"])
        if p["unit_amount"] < 0:
            raise invalid("Invalid non-negative integer", "unit_amount", "parameter_invalid_integer")
        if bool(p.get("product")) == bool(p.get("product_data")):
            raise invalid(
                "You must specify either `product` or `product_data` when creating a price.", "product"
            )
        if p.get("product_data"):
            require(p["product_data"], "name", prefix="product_data")
        self._check_recurring(p.get("recurring"), "recurring")
        with self.lock:
            if p.get("product"):
                product_id = self.get("product", p["product"], "product", status=400)["id"]
            else:
                product_id = self._new_product(p["product_data"], ctx)["id"]
            return self._new_price(p, currency, product_id, ctx)

    @staticmethod
    def _check_recurring(recurring: Obj | None, param: str) -> None:
        if recurring is None:
            return
        require(recurring, "interval", prefix=param)
        count = recurring.get("interval_count") or 1
        limit = {"day": 365, "week": 52, "month": 12, "year": 1}[recurring["interval"]]
        if not 1 <= count <= limit:
            raise invalid(
                "Invalid recurring: the maximum billing interval is one year.", f"{param}[interval_count]"
            )

    def _new_price(self, p: Obj, currency: str, product_id: str, ctx: RequestContext | None) -> Obj:
        recurring = p.get("recurring")
        price = {
            "id": new_id("price"),
            "object": "price",
            "active": p.get("active", True) is not False,
            "billing_scheme": "per_unit",
            "created": now(),
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": p.get("lookup_key"),
            "metadata": merge_metadata({}, p.get("metadata")),
            "nickname": p.get("nickname"),
            "product": product_id,
            "recurring": (
                {
                    "interval": recurring["interval"],
                    "interval_count": recurring.get("interval_count") or 1,
                    "meter": None,
                    "trial_period_days": None,
                    "usage_type": "licensed",
                }
                if recurring
                else None
            ),
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": p["unit_amount"],
            "unit_amount_decimal": str(p["unit_amount"]),
        }
        self.objects[price["id"]] = price
        if ctx is not None:  # inline price_data prices are not announced
            self._emit("price.created", price, ctx)
        return price

    @staticmethod
    def _plan(price: Obj) -> Obj:
        """The legacy ``plan`` view of a recurring price, as subscription items still carry it."""
        return {
            "id": price["id"],
            "object": "plan",
            "active": price["active"],
            "amount": price["unit_amount"],
            "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": "per_unit",
            "created": price["created"],
            "currency": price["currency"],
            "interval": price["recurring"]["interval"],
            "interval_count": price["recurring"]["interval_count"],
            "livemode": False,
            "metadata": dict(price["metadata"]),
            "meter": None,
            "nickname": price["nickname"],
            "product": price["product"],
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }

    # ------------------------------------------------------------ subscriptions

    def create_subscription(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/subscriptions``: bills the first period at once (``payment_behavior`` decides
        whether the first invoice is charged now and what a decline does)."""
        require(p, "customer")
        if not p.get("items"):
            raise invalid("Missing required param: items.", "items", "parameter_missing")
        behaviour = p.get("payment_behavior") or "allow_incomplete"
        save = (p.get("payment_settings") or {}).get("save_default_payment_method") or "off"
        with self.lock:
            customer = self.get("customer", p["customer"], "customer", status=400)
            items = [self._item_price(item, i) for i, item in enumerate(p["items"])]
            shapes = {
                (price["currency"], price["recurring"]["interval"], price["recurring"]["interval_count"])
                for price, _ in items
            }
            if len(shapes) > 1:
                raise invalid(
                    "Currency and interval fields must match across all plans on this subscription.", "items"
                )
            currency = items[0][0]["currency"]
            amount = sum(price["unit_amount"] * quantity for price, quantity in items)
            if 0 < amount < 50:
                raise invalid(
                    f"Amount must be at least {money(50, currency)} {currency}", "items", "amount_too_small"
                )
            pm_id = p.get("default_payment_method")
            if pm_id:
                pm = self.objects.get(pm_id)
                if not pm or pm.get("object") != "payment_method" or pm["customer"] != customer["id"]:
                    raise _not_attached(pm_id, "default_payment_method")
            if p.get("cancel_at") is not None and p.get("cancel_at_period_end"):
                raise invalid(
                    "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
                    "cancel_at",
                )
            self._check_cancel_at(p.get("cancel_at"))
            charge_pm = pm_id or customer["invoice_settings"]["default_payment_method"]
            if amount and behaviour != "default_incomplete":
                if charge_pm is None:
                    raise invalid(NO_PAYMENT_METHOD, code="resource_missing")
                refusal = self._charge_refusal(self.objects[charge_pm])
                if behaviour == "error_if_incomplete" and refusal is not None:
                    raise refusal  # nothing is created, as when Stripe refuses the subscription
            created = now()
            sub_id = new_id("sub")
            prices = [
                (
                    price
                    if price["id"] in self.objects
                    else self._new_price(price, currency, price["product"], None)
                )
                for price, _ in items
            ]
            sub: Obj = {
                "id": sub_id,
                "object": "subscription",
                "application": None,
                "application_fee_percent": None,
                "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
                "billing_cycle_anchor": created,
                "billing_cycle_anchor_config": None,
                "billing_mode": {"flexible": None, "type": "classic"},
                "billing_schedules": [],
                "billing_thresholds": None,
                "cancel_at": None,
                "cancel_at_period_end": bool(p.get("cancel_at_period_end")),
                "canceled_at": None,
                "cancellation_details": {"comment": None, "feedback": None, "reason": None},
                "collection_method": "charge_automatically",
                "created": created,
                "currency": currency,
                "customer": customer["id"],
                "customer_account": None,
                "days_until_due": None,
                "default_payment_method": pm_id,
                "default_source": None,
                "default_tax_rates": [],
                "description": p.get("description"),
                "discounts": [],
                "ended_at": None,
                "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": _short_id("si"),
                            "object": "subscription_item",
                            "billed_until": None,
                            "billing_thresholds": None,
                            "created": created,
                            "current_period_end": created,
                            "current_period_start": created,
                            "current_trial": None,
                            "discounts": [],
                            "metadata": merge_metadata({}, p["items"][i].get("metadata")),
                            "plan": self._plan(price),
                            "price": copy.deepcopy(price),
                            "quantity": quantity,
                            "subscription": sub_id,
                            "tax_rates": [],
                        }
                        for i, (price, (_, quantity)) in enumerate(zip(prices, items, strict=True))
                    ],
                    "has_more": False,
                    "total_count": len(items),
                    "url": f"/v1/subscription_items?subscription={sub_id}",
                },
                "latest_invoice": None,
                "livemode": False,
                "managed_payments": None,
                "metadata": merge_metadata({}, p.get("metadata")),
                "next_pending_invoice_item_invoice": None,
                "on_behalf_of": None,
                "pause_collection": None,
                "payment_settings": {
                    "payment_method_options": None,
                    "payment_method_types": (p.get("payment_settings") or {}).get("payment_method_types"),
                    "save_default_payment_method": save,
                },
                "pending_invoice_item_interval": None,
                "pending_setup_intent": None,
                "pending_update": None,
                "presentment_details": None,
                "schedule": None,
                "start_date": created,
                "status": "incomplete",
                "status_details": None,
                "test_clock": None,
                "transfer_data": None,
                "trial_end": None,
                "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
                "trial_start": None,
            }
            if sub["cancel_at_period_end"]:
                sub["cancel_at"] = self._period_bounds(sub, 0)[1]
            elif p.get("cancel_at") is not None:
                sub["cancel_at"] = p["cancel_at"]
            self.objects[sub_id] = sub
            self._sub_cycle[sub_id] = 0
            self._set_period(sub)
            if customer["currency"] is None:
                customer["currency"] = currency
            self._emit("customer.subscription.created", sub, ctx)
            invoice = self._start_invoice(sub, "subscription_create", ctx)
            if invoice["status"] == "open" and behaviour != "default_incomplete":
                self._attempt_invoice(invoice, ctx)
            return sub

    def _item_price(self, item: Obj, i: int) -> tuple[Obj, int]:
        """Validate ``items[i]``: an existing recurring price, or ``price_data`` for an inline one."""
        param = f"items[{i}]"
        quantity = item.get("quantity", 1)
        if quantity is None or quantity < 1:
            raise invalid("Invalid positive integer", f"{param}[quantity]", "parameter_invalid_integer")
        if bool(item.get("price")) == bool(item.get("price_data")):
            raise invalid(f"You must specify either `price` or `price_data` in {param}.", param)
        if item.get("price"):
            price = self.get("price", item["price"], f"{param}[price]", status=400)
            if not price["active"]:
                raise invalid(
                    f"The price specified ({price['id']}) is inactive. "
                    "This field only accepts active prices.",
                    f"{param}[price]",
                )
        else:
            data = item["price_data"]
            prefix = f"{param}[price_data]"
            require(data, "currency", "product", "recurring", "unit_amount", prefix=prefix)
            self._check_recurring(data["recurring"], f"{prefix}[recurring]")
            self.get("product", data["product"], f"{prefix}[product]", status=400)
            price = {
                "id": "",  # created only once the whole request is valid
                "currency": self._currency(data["currency"]),
                "product": data["product"],
                "recurring": {
                    "interval": data["recurring"]["interval"],
                    "interval_count": data["recurring"].get("interval_count") or 1,
                },
                "unit_amount": data["unit_amount"],
                "active": False,
            }
        if price.get("recurring") is None:
            raise invalid(
                f"The price specified ({price['id']}) is set to `type=one_time` but this field only accepts "
                "prices with `type=recurring`.",
                f"{param}[price]",
            )
        return price, quantity

    def _period_bounds(self, sub: Obj, cycle: int) -> tuple[int, int]:
        recurring = sub["items"]["data"][0]["price"]["recurring"]
        interval, count = recurring["interval"], recurring["interval_count"]
        anchor = sub["billing_cycle_anchor"]
        return add_interval(anchor, interval, count * cycle), add_interval(
            anchor, interval, count * (cycle + 1)
        )

    def _set_period(self, sub: Obj) -> None:
        """Set the items' current period: the trial while trialing, else the cycle from the anchor."""
        if sub["status"] == "trialing":
            start, end = sub["trial_start"], sub["trial_end"]
        else:
            start, end = self._period_bounds(sub, self._sub_cycle[sub["id"]])
        for item in sub["items"]["data"]:
            item.update(current_period_start=start, current_period_end=end)

    def update_subscription(self, sub_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/subscriptions/{id}``: metadata, description, default payment method,
        ``cancel_at_period_end``, ``payment_settings``, and (`subscription_changes`)
        ``pause_collection``, ``cancel_at``, ``items``, ``trial_end``, ``billing_cycle_anchor``."""
        with self.lock:
            sub = self.get("subscription", sub_id, "subscription")
            if sub["status"] in ENDED and set(p) - {"metadata", "expand"}:
                raise invalid(
                    "A canceled subscription can only update its cancellation_details and metadata.",
                    sorted(set(p) - {"metadata", "expand"})[0],
                )
            pm_id = p.get("default_payment_method")
            if pm_id:
                pm = self.objects.get(pm_id)
                if not pm or pm.get("object") != "payment_method" or pm["customer"] != sub["customer"]:
                    raise _not_attached(pm_id, "default_payment_method")
            plan = self._check_changes(sub, p)
            previous: Obj = {}
            if p.get("metadata") is not None:
                merged = merge_metadata(sub["metadata"], p["metadata"])
                if merged != sub["metadata"]:
                    previous["metadata"], sub["metadata"] = sub["metadata"], merged
            for name in ("description", "default_payment_method"):
                if name in p and p[name] != sub[name]:
                    previous[name], sub[name] = sub[name], p[name]
            if "cancel_at_period_end" in p and bool(p["cancel_at_period_end"]) != sub["cancel_at_period_end"]:
                previous.update(cancel_at_period_end=sub["cancel_at_period_end"], cancel_at=sub["cancel_at"])
                sub["cancel_at_period_end"] = bool(p["cancel_at_period_end"])
                end = sub["items"]["data"][0]["current_period_end"]
                sub["cancel_at"] = end if sub["cancel_at_period_end"] else None
            settings = p.get("payment_settings") or {}
            if settings:
                previous["payment_settings"] = copy.deepcopy(sub["payment_settings"])
                for name in ("save_default_payment_method", "payment_method_types"):
                    if name in settings:
                        sub["payment_settings"][name] = settings[name]
            bill_now = self._apply_changes(sub, plan, previous)
            if previous:
                self._emit("customer.subscription.updated", sub, ctx, previous)
            if bill_now:
                invoice = self._start_invoice(sub, bill_now, ctx)
                if invoice["status"] == "open":
                    self._attempt_invoice(invoice, ctx)
            return sub

    def cancel_subscription(self, sub_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``DELETE /v1/subscriptions/{id}``: cancel now (emits ``customer.subscription.deleted``)."""
        with self.lock:
            sub = self.get("subscription", sub_id, "subscription")
            if sub["status"] in ENDED:
                raise invalid(
                    f"This subscription ({sub_id}) is {sub['status']} and cannot be canceled again."
                )
            details = p.get("cancellation_details") or {}
            self._end_subscription(
                sub,
                "canceled",
                "cancellation_requested",
                ctx,
                details.get("comment"),
                details.get("feedback"),
            )
            return sub

    def advance_subscription(self, sub_id: str) -> Obj:
        """``POST /_standin/subscriptions/{id}/advance``: retry the unpaid latest invoice, or start
        the next billing period (the first after a trial; ending the subscription instead when its
        ``cancel_at`` comes first; while ``pause_collection`` is set the renewal is not collected)."""
        with self.lock:
            sub = self.get("subscription", sub_id, "subscription")
            if sub["status"] in ENDED:
                raise invalid(f"Subscription {sub_id} is {sub['status']}; there is nothing to advance.")
            invoice = self.objects[sub["latest_invoice"]]
            if invoice["status"] == "open":
                self._attempt_invoice(invoice, None)
                return sub
            if not self._next_cycle(sub, None):
                return sub
            invoice = self._start_invoice(sub, "subscription_cycle", None)
            if invoice["status"] == "open":
                self._attempt_invoice(invoice, None)
            return sub

    def _end_subscription(
        self,
        sub: Obj,
        status: str,
        reason: str,
        ctx: RequestContext | None,
        comment: str | None = None,
        feedback: str | None = None,
    ) -> None:
        moment = now()
        sub.update(status=status, canceled_at=moment, ended_at=moment)
        sub["cancellation_details"] = {"comment": comment, "feedback": feedback, "reason": reason}
        for invoice in self.objects.values():
            if (
                invoice.get("object") == "invoice"
                and invoice["status"] == "open"
                and invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
            ):
                invoice.update(next_payment_attempt=None, auto_advance=False)
        self._emit("customer.subscription.deleted", sub, ctx)

    # ----------------------------------------------------------------- invoices

    def _start_invoice(self, sub: Obj, reason: str, ctx: RequestContext | None) -> Obj:
        """Create, finalize and (amount permitting) give the invoice its PaymentIntent."""
        customer = self.objects[sub["customer"]]
        invoice_id = new_id("in")
        created = now()
        # pause_collection decides what becomes of a renewal: left a draft, voided or uncollectible
        paused = (sub["pause_collection"] or {}).get("behavior") if reason != "subscription_create" else None
        lines = []
        for item in sub["items"]["data"]:
            price, quantity = item["price"], item["quantity"]
            product = self.objects.get(price["product"], {})
            each = money(price["unit_amount"], price["currency"])
            lines.append(
                {
                    "id": new_id("il"),
                    "object": "line_item",
                    "amount": price["unit_amount"] * quantity,
                    "currency": price["currency"],
                    "description": f"{quantity} × {product.get('name', 'Subscription')} "  # noqa: RUF001
                    f"(at {each} / {price['recurring']['interval']})",
                    "discount_amounts": [],
                    "discountable": True,
                    "discounts": [],
                    "invoice": invoice_id,
                    "livemode": False,
                    "metadata": dict(sub["metadata"]),
                    "parent": {
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": sub["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    },
                    "period": {"end": item["current_period_end"], "start": item["current_period_start"]},
                    "pretax_credit_amounts": [],
                    "pricing": {
                        "price_details": {"price": price["id"], "product": price["product"]},
                        "type": "price_details",
                        "unit_amount_decimal": price["unit_amount_decimal"],
                    },
                    "quantity": quantity,
                    "quantity_decimal": str(quantity),
                    "subscription": sub["id"],
                    "subtotal": price["unit_amount"] * quantity,
                    "taxes": [],
                }
            )
        amount = sum(line["amount"] for line in lines)
        if reason == "subscription_create":
            period_start = period_end = created
        else:
            period_start, period_end = self._period_bounds(sub, self._sub_cycle[sub["id"]] - 1)[0], created
        invoice: Obj = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Groundswell (Stripe stand-in)",
            "account_tax_ids": None,
            "amount_due": amount,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_paid_off_stripe": 0,
            "amount_remaining": amount,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": reason,
            "collection_method": "charge_automatically",
            "created": created,
            "currency": sub["currency"],
            "custom_fields": None,
            "customer": customer["id"],
            "customer_account": None,
            "customer_address": copy.deepcopy(customer["address"]),
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": customer["phone"],
            "customer_shipping": None,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "total_count": len(lines),
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            # when Stripe will try to collect it: at once here, as advance runs each cycle now
            "next_payment_attempt": created if amount and not paused else None,
            "number": None,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(sub["metadata"]),
                    "subscription": sub["id"],
                    "subscription_proration_date": None,
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": sub["payment_settings"]["payment_method_types"],
            },
            "period_end": period_end,
            "period_start": period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "draft",
            "status_details": None,
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "test_clock": None,
            "threshold_reason": None,
            "total": amount,
            "total_discount_amounts": [],
            "total_excluding_tax": amount,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": None,
        }
        self.objects[invoice_id] = invoice
        sub["latest_invoice"] = invoice_id
        self._emit("invoice.created", invoice, ctx)
        if paused == "keep_as_draft":
            invoice["auto_advance"] = False
            return invoice
        # finalize
        token = secrets.token_urlsafe(24)
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
            effective_at=created,
            ending_balance=0,
            hosted_invoice_url=f"https://invoice.stripe.com/i/acct_standin/test_{token}",
            invoice_pdf=f"https://pay.stripe.com/invoice/acct_standin/test_{token}/pdf",
        )
        invoice["status_transitions"]["finalized_at"] = created
        customer["next_invoice_sequence"] += 1
        if amount and not paused:
            save = sub["payment_settings"]["save_default_payment_method"] == "on_subscription"
            intent = self.create_payment_intent(
                {
                    "amount": amount,
                    "currency": sub["currency"],
                    "customer": customer["id"],
                    "description": "Subscription creation"
                    if reason == "subscription_create"
                    else "Subscription update",
                    "payment_method_types": ["card"],
                    **({"setup_future_usage": "off_session"} if save else {}),
                },
                ctx,
            )
            self._invoice_pi[invoice_id], self._pi_invoice[intent["id"]] = intent["id"], invoice_id
            payment = {
                "id": new_id("inpay"),
                "object": "invoice_payment",
                "amount_paid": None,
                "amount_requested": amount,
                "created": created,
                "currency": sub["currency"],
                "invoice": invoice_id,
                "is_default": True,
                "livemode": False,
                "payment": {"payment_intent": intent["id"], "type": "payment_intent"},
                "status": "open",
                "status_transitions": {"canceled_at": None, "paid_at": None},
            }
            self.objects[payment["id"]] = payment
            self._invoice_payments.append(payment)
        self._emit("invoice.finalized", invoice, ctx)
        if paused == "void" and amount:
            self._void_invoice(invoice, ctx)
        elif paused == "mark_uncollectible" and amount:
            self._mark_uncollectible(invoice, ctx)
        elif not amount:
            self._invoice_paid(invoice, None, ctx)
            self._activate(sub, ctx, {})
        return invoice

    def _attempt_invoice(self, invoice: Obj, ctx: RequestContext | None) -> None:
        """An automatic payment attempt with the subscription's (or customer's) default card."""
        sub = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
        customer = self.objects[invoice["customer"]]
        intent = self.objects[self._invoice_pi[invoice["id"]]]
        pm_id = sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
        self._auto_attempts[invoice["id"]] = self._auto_attempts.get(invoice["id"], 0) + 1
        if pm_id is None:
            self._invoice_failed(invoice, ctx)
            return
        try:
            self._confirm(intent, {"payment_method": pm_id}, ctx, publishable=False)
        except StripeError as exc:
            if exc.type != "card_error":  # refused before any charge: still a failed attempt
                self._invoice_failed(invoice, ctx)

    def _invoice_payment_succeeded(self, pi: Obj, pm: Obj, ctx: RequestContext | None) -> None:
        """Hook after any PaymentIntent succeeds: pay the invoice it belongs to, if any."""
        invoice = self.objects.get(self._pi_invoice.get(pi["id"], ""))
        if invoice is None or invoice["status"] != "open":
            return
        sub = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
        previous: Obj = {}
        saving = sub["payment_settings"]["save_default_payment_method"] == "on_subscription"
        if saving and sub["default_payment_method"] != pm["id"] and pm["customer"] == sub["customer"]:
            previous["default_payment_method"] = sub["default_payment_method"]
            sub["default_payment_method"] = pm["id"]
        self._invoice_paid(invoice, pi, ctx)
        self._activate(sub, ctx, previous)

    def _activate(self, sub: Obj, ctx: RequestContext | None, previous: Obj) -> None:
        """After a paid invoice: an incomplete or past-due subscription becomes active."""
        if sub["status"] in ("incomplete", "past_due"):
            previous["status"] = sub["status"]
            sub["status"] = "active"
        if previous:
            self._emit("customer.subscription.updated", sub, ctx, previous)

    def _invoice_paid(self, invoice: Obj, pi: Obj | None, ctx: RequestContext | None) -> None:
        moment = now()
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            attempt_count=invoice["attempt_count"] + (1 if pi else 0),
            next_payment_attempt=None,
            auto_advance=False,
        )
        invoice["status_transitions"]["paid_at"] = moment
        self.objects[invoice["customer"]]["delinquent"] = False
        if pi is not None:
            payment = next(
                p
                for p in self._invoice_payments
                if p["invoice"] == invoice["id"] and p["payment"]["payment_intent"] == pi["id"]
            )
            payment.update(status="paid", amount_paid=pi["amount_received"])
            payment["status_transitions"]["paid_at"] = moment
            self._emit("invoice_payment.paid", payment, ctx)
        self._emit("invoice.paid", invoice, ctx)
        self._emit("invoice.payment_succeeded", invoice, ctx)

    def _invoice_payment_failed(self, pi: Obj, ctx: RequestContext | None) -> None:
        """Hook after any PaymentIntent's charge is declined."""
        invoice = self.objects.get(self._pi_invoice.get(pi["id"], ""))
        if invoice is not None and invoice["status"] == "open":
            self._invoice_failed(invoice, ctx)

    def _invoice_failed(self, invoice: Obj, ctx: RequestContext | None) -> None:
        sub = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
        attempts = invoice["attempt_count"] + 1
        ending = self._auto_attempts.get(invoice["id"], 0) >= MAX_ATTEMPTS and sub["status"] not in ENDED
        retry = None
        if not ending and sub["status"] not in ENDED:
            retry = now() + 86400 * RETRY_DAYS[min(attempts, len(RETRY_DAYS)) - 1]
        invoice.update(attempt_count=attempts, attempted=True, next_payment_attempt=retry)
        self.objects[invoice["customer"]]["delinquent"] = True
        self._emit("invoice.payment_failed", invoice, ctx)
        if ending and sub["status"] == "incomplete":
            self._void_invoice(invoice, ctx)
            self._end_subscription(sub, "incomplete_expired", "payment_failed", ctx)
        elif ending:
            self._end_subscription(sub, "canceled", "payment_failed", ctx)
        elif sub["status"] == "active":
            sub["status"] = "past_due"
            self._emit("customer.subscription.updated", sub, ctx, {"status": "active"})

    def _void_invoice(self, invoice: Obj, ctx: RequestContext | None) -> None:
        moment = now()
        invoice.update(status="void", next_payment_attempt=None, auto_advance=False, amount_remaining=0)
        invoice["status_transitions"]["voided_at"] = moment
        intent = self.objects.get(self._invoice_pi.get(invoice["id"], ""))
        if intent and intent["status"] in ("requires_payment_method", "requires_confirmation"):
            intent.update(status="canceled", canceled_at=moment, cancellation_reason="void_invoice")
            self._emit("payment_intent.canceled", intent, ctx)
        for payment in self._invoice_payments:
            if payment["invoice"] == invoice["id"] and payment["status"] == "open":
                payment["status"] = "canceled"
                payment["status_transitions"]["canceled_at"] = moment
        self._emit("invoice.voided", invoice, ctx)

    def _mark_uncollectible(self, invoice: Obj, ctx: RequestContext | None) -> None:
        """A paused subscription's renewal with ``mark_uncollectible``: finalized, never collected."""
        invoice.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
        invoice["status_transitions"]["marked_uncollectible_at"] = now()
        self._emit("invoice.marked_uncollectible", invoice, ctx)

    def _include(self, obj: Obj, field: str) -> Any:
        """Compute an includable field (see ``store.INCLUDABLE``) for ``expand[]``."""
        if field == "payments":
            data = [copy.deepcopy(p) for p in reversed(self._invoice_payments) if p["invoice"] == obj["id"]]
            return {
                "object": "list",
                "data": data,
                "has_more": False,
                "total_count": len(data),
                "url": f"/v1/invoices/{obj['id']}/payments",
            }
        intent_id = self._invoice_pi.get(obj["id"])
        if field == "confirmation_secret" and intent_id and obj["status"] != "draft":
            return {"client_secret": self.objects[intent_id]["client_secret"], "type": "payment_intent"}
        return None

    def list_invoice_payments(self, p: Obj) -> Obj:
        """``GET /v1/invoice_payments``: filters ``invoice``, ``payment[payment_intent]``, ``status``."""
        wanted = (p.get("payment") or {}).get("payment_intent")
        with self.lock:
            items = [
                pay
                for pay in reversed(self._invoice_payments)
                if (not p.get("invoice") or pay["invoice"] == p["invoice"])
                and (not wanted or pay["payment"]["payment_intent"] == wanted)
                and (not p.get("status") or pay["status"] == p["status"])
                and matches_range(pay["created"], p.get("created"))
            ]
            return self._list(items, p, "/v1/invoice_payments", "invoice_payment")
