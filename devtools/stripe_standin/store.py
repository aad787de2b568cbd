"""In-memory Stripe objects and the state transitions the stand-in supports.

Every public method takes the store lock; objects are plain dicts shaped like
Stripe's fixtures and are deep-copied on the way out (see `render`). Payments,
refunds, disputes and events live here; balance transactions and payouts in
`balance.BalanceMixin`; customers, products, prices, subscriptions and invoices in
`billing.BillingMixin` (changes to running subscriptions in
`subscription_changes.SubscriptionChangesMixin`); SetupIntents in `setup.SetupIntentMixin`;
wallet card tokens in `wallets.WalletMixin`. Test card numbers are in `cards`.
"""

from __future__ import annotations

import copy
import datetime
import fnmatch
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .balance import BalanceMixin
from .billing import BillingMixin
from .cards import ATTACHABLE_DECLINES, DECLINES, TEST_PAYMENT_METHODS, card_for, fingerprint, luhn_ok
from .common import Obj, matches_range
from .common import merge_metadata as _merge_metadata
from .common import money as _money
from .common import now as _now
from .events import RequestContext, build_event, new_id
from .forms import DISPUTE_EVIDENCE_FIELDS, StripeError, invalid, require
from .setup import SetupIntentMixin
from .subscription_changes import SubscriptionChangesMixin
from .wallets import WalletMixin

CURRENCIES = frozenset(
    {"usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "mxn", "sgd", "hkd"}
)
PAYMENT_METHOD_TYPES = frozenset({"card", "link", "us_bank_account", "cashapp", "paypal", "amazon_pay"})
MIN_AMOUNT, MAX_AMOUNT = 50, 99_999_999
CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
OPEN_DISPUTE = ("needs_response", "warning_needs_response")
DISPUTE_FEE = 1500  # cents, withdrawn with a dispute and returned when it is won

PUBLISHABLE_PI_FIELDS = frozenset(
    {
        "id",
        "object",
        "allowed_payment_method_types",
        "amount",
        "amount_details",
        "automatic_payment_methods",
        "canceled_at",
        "cancellation_reason",
        "capture_method",
        "client_secret",
        "confirmation_method",
        "created",
        "currency",
        "description",
        "excluded_payment_method_types",
        "last_payment_error",
        "livemode",
        "next_action",
        "payment_method",
        "payment_method_configuration_details",
        "payment_method_types",
        "processing",
        "receipt_email",
        "setup_future_usage",
        "shipping",
        "source",
        "status",
    }
)
# Expandable id fields per object type; dotted entries sit inside a sub-hash.
EXPANDABLE = {
    "payment_intent": {"latest_charge", "payment_method", "customer"},
    "charge": {"payment_intent", "balance_transaction", "customer", "payment_method"},
    "refund": {"charge", "payment_intent", "balance_transaction"},
    "dispute": {"charge", "payment_intent"},
    "balance_transaction": {"source"},
    "payout": {"balance_transaction", "failure_balance_transaction"},
    "customer": {"invoice_settings.default_payment_method"},
    "payment_method": {"customer"},
    "setup_intent": {"customer", "payment_method", "latest_attempt"},
    "price": {"product"},
    "subscription": {"customer", "default_payment_method", "latest_invoice"},
    "invoice": {
        "customer",
        "default_payment_method",
        "parent.subscription_details.subscription",
        "payments",
        "confirmation_secret",
    },
    "invoice_payment": {"invoice", "payment.payment_intent"},
}
# Fields Stripe only returns when asked for with expand[] (never in webhook payloads).
INCLUDABLE = {"invoice": {"payments", "confirmation_secret"}}
# Fields holding objects of several types: a deeper expand applies to those that have the field
# (``data.source.payment_intent`` expands charges' and refunds' intents, and skips payouts).
POLYMORPHIC = {("balance_transaction", "source")}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _receipt_email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.fullmatch(value):
        raise invalid(f"Invalid email address: {value}", "receipt_email", "email_invalid")
    return value


def _descriptor(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if (
        len(value) > 22
        or re.search(r"[<>\\'\"*]", value)
        or (name == "statement_descriptor" and not re.search(r"[A-Za-z]", value))
    ):
        raise invalid(
            f"Invalid {name}: must be at most 22 characters, contain at least one letter "
            "and none of < > \\ ' \" *",
            name,
        )
    return value


def public_view(pi: Obj) -> Obj:
    """The subset of a PaymentIntent Stripe returns to a publishable key."""
    return {k: v for k, v in pi.items() if k in PUBLISHABLE_PI_FIELDS}


@dataclass
class SavedResponse:
    """A response remembered for idempotent replay."""

    endpoint: str
    params: dict[str, Any]
    status: int
    body: bytes
    request_id: str


class Store(BalanceMixin, BillingMixin, SubscriptionChangesMixin, SetupIntentMixin, WalletMixin):
    """All stand-in state behind one lock.

    ``fee_percent``/``fee_fixed_cents`` give each charge's Stripe fee; a charge's funds
    become available ``available_delay_seconds`` after it succeeds.
    """

    def __init__(
        self,
        on_event: Callable[[Obj], None] | None = None,
        *,
        fee_percent: float = 2.9,
        fee_fixed_cents: int = 30,
        available_delay_seconds: float = 0.0,
    ) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, Obj] = {}
        self.events: list[Obj] = []
        self._card_numbers: dict[str, str] = {}  # pm id -> PAN, never rendered
        self._consumed_pms: set[str] = set()  # used once without a customer: not reusable
        self._idempotency: dict[str, SavedResponse] = {}
        self._in_flight: set[str] = set()
        self._payment_intents: list[Obj] = []  # oldest first, for listing
        self.on_event = on_event or (lambda event: None)
        self.fee_percent, self.fee_fixed_cents = fee_percent, fee_fixed_cents
        self.available_delay_seconds = available_delay_seconds
        BalanceMixin.__init__(self)
        BillingMixin.__init__(self)
        SetupIntentMixin.__init__(self)
        WalletMixin.__init__(self)

    # ------------------------------------------------------------------ generic

    def get(self, kind: str, obj_id: str, param: str = "id", status: int = 404) -> Obj:
        """Return the stored object or raise Stripe's ``resource_missing``."""
        with self.lock:
            obj = self.objects.get(obj_id)
            if obj is None or obj.get("object") != kind:
                raise StripeError(
                    f"No such {kind}: '{obj_id}'", status=status, code="resource_missing", param=param
                )
            return obj

    def render(self, obj: Obj, expand: list[str] | None = None) -> Obj:
        """Deep copy ``obj`` with ``expand`` paths (dotted, e.g. ``latest_charge.payment_intent``,
        or ``data.source`` on a list) inlined, and includable fields added when asked for."""
        with self.lock:
            self._settle_balance()
            out = copy.deepcopy(obj)
            for path in expand or []:
                self._expand(out, path.split("."), path)
            return out

    def _expand(self, obj: Obj, parts: list[str], path: str, lenient: bool = False) -> None:
        if obj.get("object") == "list" and parts[0] == "data":
            for item in obj["data"] if len(parts) > 1 else ():
                self._expand(item, parts[1:], path, lenient)
            return
        kind = obj.get("object", "")
        fields = EXPANDABLE.get(kind, set())
        depth = next((n for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in fields), 0)
        if not depth and lenient:
            return
        if not depth:
            raise invalid(f"This property cannot be expanded ({path}).", "expand")
        container = obj
        for segment in parts[: depth - 1]:
            container = container.get(segment) or {}
        head, rest = parts[depth - 1], parts[depth:]
        if head in INCLUDABLE.get(kind, ()) and depth == 1:
            value = container[head] = self._include(obj, head)
        else:
            value = container.get(head)
            if isinstance(value, str) and value in self.objects:
                value = container[head] = copy.deepcopy(self.objects[value])
        if rest and isinstance(value, dict):
            self._expand(value, rest, path, (kind, head) in POLYMORPHIC)

    def _list(self, items: list[Obj], p: Obj, url: str, kind: str) -> Obj:
        """One page of ``items`` (newest first) for ``limit``/``starting_after``/``ending_before``."""
        limit = p.get("limit", 10)
        if not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be between 1 and 100", "limit")
        for cursor in ("starting_after", "ending_before"):
            if p.get(cursor):
                self.get(kind, p[cursor], cursor, status=400)
        ids = [item["id"] for item in items]
        if p.get("starting_after"):
            start = ids.index(p["starting_after"]) + 1 if p["starting_after"] in ids else len(ids)
            page, has_more = items[start : start + limit], len(items) > start + limit
        elif p.get("ending_before"):
            end = ids.index(p["ending_before"]) if p["ending_before"] in ids else 0
            page, has_more = items[max(0, end - limit) : end], end - limit > 0
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    def _emit(self, type: str, obj: Obj, ctx: RequestContext | None, previous: Obj | None = None) -> None:
        event = build_event(type, obj, ctx, previous)
        self.events.append(event)
        self.objects[event["id"]] = event
        self.on_event(event)

    # -------------------------------------------------------------- idempotency

    def idempotency_begin(self, key: str, endpoint: str, params: dict[str, Any]) -> SavedResponse | None:
        """Return the saved response to replay, or claim ``key`` for a new request."""
        with self.lock:
            saved = self._idempotency.get(key)
            if saved is not None:
                if saved.endpoint != endpoint:
                    raise StripeError(
                        "Keys for idempotent requests can only be used for the same endpoint they were first "
                        f"used for ('{saved.endpoint}' vs '{endpoint}'). Try using a key other than '{key}' "
                        "if you meant to execute a different request.",
                        type="idempotency_error",
                        replayable=False,
                    )
                if saved.params != params:
                    raise StripeError(
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{key}' if you meant to execute a "
                        "different request.",
                        type="idempotency_error",
                        replayable=False,
                    )
                return saved
            if key in self._in_flight:
                raise StripeError(
                    "There is currently another in-progress request using this Idempotency-Key. "
                    "Please try again later.",
                    status=409,
                    code="idempotency_key_in_use",
                    replayable=False,
                )
            self._in_flight.add(key)
            return None

    def idempotency_finish(self, key: str, saved: SavedResponse | None) -> None:
        """Release ``key``; remember ``saved`` for replay unless it is None."""
        with self.lock:
            self._in_flight.discard(key)
            if saved is not None:
                self._idempotency[key] = saved

    # ----------------------------------------------------------- payment intents

    def create_payment_intent(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/payment_intents``."""
        require(p, "amount", "currency")
        currency = self._currency(p["currency"])
        self._check_amount(p["amount"], currency)
        apm = p.get("automatic_payment_methods")
        types_param, types = self._payment_method_types(p)
        if apm is not None and types:
            raise invalid(
                f"You may only specify one of these parameters: automatic_payment_methods, {types_param}.",
                "automatic_payment_methods",
            )
        if apm is not None:
            require(apm, "enabled", prefix="automatic_payment_methods")
        if not p.get("confirm"):
            for name in ("off_session", "return_url", "payment_method_data"):
                if p.get(name) is not None:
                    raise invalid(f"You can only pass `{name}` when `confirm=true`.", name)
        automatic = None
        if (apm is None and not types) or (apm and apm["enabled"]):
            automatic = {"allow_redirects": (apm or {}).get("allow_redirects") or "always", "enabled": True}
        with self.lock:
            if p.get("customer"):
                self.get("customer", p["customer"], "customer", status=400)
            pi_id = new_id("pi")
            pi: Obj = {
                "id": pi_id,
                "object": "payment_intent",
                "allowed_payment_method_types": p.get("allowed_payment_method_types"),
                "amount": p["amount"],
                "amount_capturable": 0,
                "amount_details": {"tip": {}},
                "amount_received": 0,
                "application": None,
                "application_fee_amount": None,
                "automatic_payment_methods": automatic,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": p.get("capture_method") or "automatic_async",
                "client_secret": f"{pi_id}_secret_{new_id('x', 25)[2:]}",
                "confirmation_method": "automatic",
                "created": _now(),
                "currency": currency,
                "customer": p.get("customer"),
                "customer_account": None,
                "description": p.get("description"),
                "excluded_payment_method_types": None,
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "managed_payments": None,
                "metadata": _merge_metadata({}, p.get("metadata")),
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": None,
                "payment_method_configuration_details": (
                    {"id": "pmc_standin_default", "parent": None} if automatic else None
                ),
                "payment_method_options": {
                    "card": {
                        "installments": None,
                        "mandate_options": None,
                        "network": None,
                        "request_three_d_secure": "automatic",
                    },
                },
                "payment_method_types": types or ["card"],
                "processing": None,
                "receipt_email": _receipt_email(p.get("receipt_email")),
                "review": None,
                "setup_future_usage": p.get("setup_future_usage"),
                "shipping": None,
                "source": None,
                "statement_descriptor": _descriptor(p, "statement_descriptor"),
                "statement_descriptor_suffix": _descriptor(p, "statement_descriptor_suffix"),
                "status": "requires_payment_method",
                "transfer_data": None,
                "transfer_group": None,
            }
            if p.get("payment_method") and not p.get("confirm"):
                pi["payment_method"] = self._lookup_payment_method(p["payment_method"])["id"]
                pi["status"] = "requires_confirmation"
            self.objects[pi_id] = pi
            self._payment_intents.append(pi)
            self._emit("payment_intent.created", pi, ctx)
            if p.get("confirm"):
                confirm: Obj = {
                    k: p[k] for k in ("payment_method", "payment_method_data", "off_session") if k in p
                }
                self._confirm(pi, confirm, ctx, publishable=False)
            return pi

    def update_payment_intent(self, pi_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/payment_intents/{id}``."""
        with self.lock:
            pi = self.get("payment_intent", pi_id, "intent")
            restricted = set(p) - {"metadata", "description", "receipt_email", "expand"}
            if restricted and pi["status"] not in CONFIRMABLE:
                field = sorted(restricted)[0]
                raise StripeError(
                    f"This PaymentIntent's {field} could not be updated because it has a status of "
                    f"{pi['status']}. You may only update the {field} of a PaymentIntent with one of the "
                    "following statuses: requires_payment_method, requires_confirmation, requires_action.",
                    code="payment_intent_unexpected_state",
                )
            currency = self._currency(p["currency"]) if p.get("currency") else pi["currency"]
            if "amount" in p:
                require(p, "amount")
                self._check_amount(p["amount"], currency)
            _receipt_email(p.get("receipt_email"))
            for name in ("statement_descriptor", "statement_descriptor_suffix"):
                _descriptor(p, name)
            _, types = self._payment_method_types(p)
            if p.get("customer"):
                self.get("customer", p["customer"], "customer", status=400)
            if p.get("payment_method"):
                pi["payment_method"] = self._lookup_payment_method(p["payment_method"])["id"]
                pi["status"] = "requires_confirmation"
            pi["currency"] = currency
            pi["metadata"] = _merge_metadata(pi["metadata"], p.get("metadata"))
            for name in (
                "amount",
                "description",
                "receipt_email",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "setup_future_usage",
                "customer",
                "capture_method",
            ):
                if name in p:
                    pi[name] = p[name]
            if types:
                pi["payment_method_types"] = types
                pi["allowed_payment_method_types"] = p.get("allowed_payment_method_types")
                pi["automatic_payment_methods"] = None
            return pi

    @staticmethod
    def _payment_method_types(p: Obj) -> tuple[str, list[str] | None]:
        """The (param name, list) of payment method types given as either spelling."""
        if p.get("allowed_payment_method_types") and p.get("payment_method_types"):
            raise invalid(
                "You may only specify one of these parameters: allowed_payment_method_types, "
                "payment_method_types.",
                "payment_method_types",
            )
        name = "payment_method_types" if p.get("payment_method_types") else "allowed_payment_method_types"
        types = p.get(name)
        for i, t in enumerate(types or []):
            if t not in PAYMENT_METHOD_TYPES:
                raise invalid(f"The payment method type provided: {t} is invalid.", f"{name}[{i}]")
        return name, types

    def confirm_payment_intent(self, pi_id: str, p: Obj, ctx: RequestContext, publishable: bool) -> Obj:
        """``POST /v1/payment_intents/{id}/confirm`` (secret key, or publishable key + client_secret)."""
        with self.lock:
            pi = self.get("payment_intent", pi_id, "intent")
            self.check_client_secret(pi, p.get("client_secret"), required=publishable)
            return self._confirm(pi, p, ctx, publishable)

    def check_client_secret(self, pi: Obj, secret: str | None, required: bool) -> None:
        """Refuse a request whose ``client_secret`` does not belong to ``pi``."""
        if secret is None and not required:
            return
        if secret != pi["client_secret"]:
            raise StripeError(
                "The client_secret provided does not match any associated PaymentIntent on this account. "
                "Ensure the publishable key used belongs to the same account that created the PaymentIntent.",
                param="client_secret",
                code="payment_intent_invalid_parameter",
                replayable=False,
            )

    def _confirm(self, pi: Obj, p: Obj, ctx: RequestContext, publishable: bool) -> Obj:
        view = public_view if publishable else copy.deepcopy
        if pi["status"] not in CONFIRMABLE:
            reason = (
                "it has already succeeded after being previously confirmed"
                if pi["status"] == "succeeded"
                else f"it has a status of {pi['status']}. Only a PaymentIntent with one of the following "
                "statuses "
                "may be confirmed: requires_confirmation, requires_action, requires_payment_method"
            )
            raise StripeError(
                f"You cannot confirm this PaymentIntent because {reason}.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": view(pi)},
            )
        if p.get("payment_method") and p.get("payment_method_data"):
            raise invalid(
                "You cannot provide both `payment_method` and `payment_method_data`.", "payment_method_data"
            )
        for name in ("setup_future_usage", "capture_method"):
            if p.get(name) is not None:
                pi[name] = p[name]
        if p.get("receipt_email") is not None:
            pi["receipt_email"] = _receipt_email(p["receipt_email"])
        if p.get("payment_method_data"):
            pm = self._payment_method_from_data(pi, p["payment_method_data"], view)
        elif p.get("payment_method"):
            pm = self._lookup_payment_method(p["payment_method"])
        elif pi["payment_method"]:
            pm = self.objects[pi["payment_method"]]
        else:
            raise StripeError(
                "You cannot confirm this PaymentIntent because it's missing a payment method. You can either "
                "update the PaymentIntent with a payment method and then confirm it again, "
                "or confirm it again "
                "directly with a payment method.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": view(pi)},
            )
        self._check_payment_method_usable(pi, pm)
        behaviour = self._card_behaviour(pm)
        charge = self._new_charge(pi, pm, declined=behaviour not in (None, "dispute"), decline_code=behaviour)
        pi["latest_charge"] = charge["id"]
        if charge["status"] == "failed":
            code, message = DECLINES[behaviour or "generic_decline"]
            error = {
                "charge": charge["id"],
                "code": code,
                "decline_code": behaviour,
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                "message": message,
                "payment_method": copy.deepcopy(pm),
                "type": "card_error",
            }
            pi.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
            self._emit("charge.failed", charge, ctx)
            self._emit("payment_intent.payment_failed", pi, ctx)
            self._invoice_payment_failed(pi, ctx)
            raise StripeError(
                message,
                status=402,
                type="card_error",
                code=code,
                decline_code=behaviour,
                extra={
                    "charge": charge["id"],
                    "payment_intent": view(pi),
                    "payment_method": copy.deepcopy(pm),
                },
            )
        manual = pi["capture_method"] == "manual"
        pi.update(
            status="requires_capture" if manual else "succeeded",
            amount_capturable=pi["amount"] if manual else 0,
            amount_received=0 if manual else pi["amount"],
            payment_method=pm["id"],
            last_payment_error=None,
        )
        if not manual:
            charge["balance_transaction"] = self._charge_balance_transaction(charge)["id"]
        if pi["customer"] and pi["setup_future_usage"] and pm["customer"] is None:
            self._attach(pm, pi["customer"], ctx)
        elif pm["customer"] is None:
            self._consumed_pms.add(pm["id"])
        self._emit("charge.succeeded", charge, ctx)
        self._emit(
            "payment_intent.amount_capturable_updated" if manual else "payment_intent.succeeded", pi, ctx
        )
        if not manual:
            self._invoice_payment_succeeded(pi, pm, ctx)
        if behaviour == "dispute":
            self._open_dispute(charge, ctx)
        return pi

    def capture_payment_intent(self, pi_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/payment_intents/{id}/capture`` for ``capture_method=manual``."""
        with self.lock:
            pi = self.get("payment_intent", pi_id, "intent")
            if pi["status"] != "requires_capture":
                raise StripeError(
                    "This PaymentIntent could not be captured because it has a status of "
                    f"{pi['status']}. Only a "
                    "PaymentIntent with one of the following statuses may be captured: requires_capture.",
                    code="payment_intent_unexpected_state",
                    extra={"payment_intent": copy.deepcopy(pi)},
                )
            amount = p.get("amount_to_capture")
            amount = pi["amount_capturable"] if amount is None else amount
            if not 0 < amount <= pi["amount_capturable"]:
                raise invalid(
                    "amount_to_capture must be positive and at most amount_capturable.", "amount_to_capture"
                )
            charge = self.objects[pi["latest_charge"]]
            charge.update(captured=True, amount_captured=amount)
            charge["balance_transaction"] = self._charge_balance_transaction(charge)["id"]
            pi.update(
                status="succeeded",
                amount_received=amount,
                amount_capturable=0,
                metadata=_merge_metadata(pi["metadata"], p.get("metadata")),
            )
            self._emit("charge.captured", charge, ctx)
            self._emit("payment_intent.succeeded", pi, ctx)
            return pi

    def cancel_payment_intent(self, pi_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/payment_intents/{id}/cancel``."""
        with self.lock:
            pi = self.get("payment_intent", pi_id, "intent")
            if pi["status"] not in (*CONFIRMABLE, "requires_action", "requires_capture"):
                raise StripeError(
                    f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                    "PaymentIntent with one of the following statuses may be canceled: "
                    "requires_payment_method, "
                    "requires_capture, requires_confirmation, requires_action, processing.",
                    code="payment_intent_unexpected_state",
                    extra={"payment_intent": copy.deepcopy(pi)},
                )
            if pi["status"] == "requires_capture":
                charge = self.objects[pi["latest_charge"]]
                charge.update(amount_refunded=charge["amount"], refunded=True)
                self._emit("charge.refunded", charge, ctx, {"amount_refunded": 0, "refunded": False})
            pi.update(
                status="canceled",
                canceled_at=_now(),
                amount_capturable=0,
                cancellation_reason=p.get("cancellation_reason"),
            )
            self._emit("payment_intent.canceled", pi, ctx)
            return pi

    # ------------------------------------------------------------ payment methods

    def _lookup_payment_method(self, pm_id: str) -> Obj:
        if pm_id in TEST_PAYMENT_METHODS:
            year = datetime.date.today().year + 3
            return self._new_payment_method(TEST_PAYMENT_METHODS[pm_id], 12, year, None, {})
        obj = self.objects.get(pm_id)
        if obj is None or obj.get("object") != "payment_method":
            raise invalid(f"No such PaymentMethod: '{pm_id}'", "payment_method", "resource_missing")
        return obj

    def _card_behaviour(self, pm: Obj) -> str | None:
        """What charging ``pm`` does: None succeeds, ``dispute``, or a decline code."""
        return card_for(self._card_numbers[pm["id"]]).behaviour

    def _charge_refusal(self, pm: Obj) -> StripeError | None:
        """The card error charging ``pm`` would give, or None if it would succeed."""
        behaviour = self._card_behaviour(pm)
        if behaviour in (None, "dispute"):
            return None
        code, message = DECLINES[behaviour]
        return StripeError(message, status=402, type="card_error", code=code, decline_code=behaviour)

    def _attach_refusal(self, pm: Obj) -> StripeError | None:
        """Stripe checks a card when it is attached: declining test cards fail, except
        4000000000000341, which attaches and declines only when charged."""
        if self._card_numbers[pm["id"]] in ATTACHABLE_DECLINES:
            return None
        return self._charge_refusal(pm)

    def _check_payment_method_usable(self, pi: Obj, pm: Obj) -> None:
        """Refuse a PaymentMethod that was consumed, or belongs to another (or no) customer."""
        if pm["id"] in self._consumed_pms:
            raise invalid(
                "This PaymentMethod was previously used without being attached to a Customer or was "
                "detached from a Customer, and may not be used again.",
                "payment_method",
            )
        if pm["customer"] and pi["customer"] is None:
            raise invalid(
                f"The PaymentMethod {pm['id']} is attached to a Customer. To use it, you must also pass "
                f"the ID of that Customer ({pm['customer']}) in the `customer` parameter.",
                "payment_method",
            )
        if pm["customer"] and pm["customer"] != pi["customer"]:
            raise invalid(
                f"The provided PaymentMethod {pm['id']} belongs to a different Customer than the one "
                f"on this PaymentIntent ({pi['customer']}).",
                "payment_method",
            )

    def _payment_method_from_data(
        self, intent: Obj, data: Obj, view: Callable[[Obj], Obj], kind: str = "payment_intent"
    ) -> Obj:
        """A new card PaymentMethod from ``payment_method_data`` (card details, or a wallet token);
        a card error is recorded on ``intent`` (a PaymentIntent, or a SetupIntent for ``kind``)."""
        require(data, "type", prefix="payment_method_data")
        require(data, "card", prefix="payment_method_data")
        card = data["card"]
        billing = data.get("billing_details") or {}
        if card.get("token") is not None:
            if set(card) - {"token"}:
                raise invalid(
                    "You cannot provide card details with a card token.", "payment_method_data[card][token]"
                )
            return self._payment_method_from_token(card["token"], billing, data.get("metadata"))
        require(card, "number", "exp_month", "exp_year", prefix="payment_method_data[card]")
        number = re.sub(r"[\s-]", "", card["number"])
        month, year = card["exp_month"], card["exp_year"]
        year = year + 2000 if year < 100 else year
        today = datetime.date.today()

        def card_error(code: str, message: str, field: str) -> StripeError:
            error = {
                "code": code,
                "message": message,
                "param": f"payment_method_data[card][{field}]",
                "type": "card_error",
            }
            intent["last_payment_error" if kind == "payment_intent" else "last_setup_error"] = error
            return StripeError(
                message,
                status=402,
                type="card_error",
                code=code,
                param=error["param"],
                extra={kind: view(intent)},
            )

        if not (number.isdigit() and 12 <= len(number) <= 19 and luhn_ok(number)):
            raise card_error("incorrect_number", "Your card number is incorrect.", "number")
        if not 1 <= month <= 12:
            raise card_error("invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month")
        if year < today.year or year > today.year + 50:
            raise card_error("invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year")
        if (year, month) < (today.year, today.month):
            raise card_error("invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month")
        cvc = card.get("cvc")
        if cvc is not None and not re.fullmatch(r"\d{3,4}", cvc):
            raise card_error("invalid_cvc", "Your card's security code is invalid.", "cvc")
        return self._new_payment_method(number, month, year, cvc, billing, data.get("metadata"))

    def _new_payment_method(
        self,
        number: str,
        month: int,
        year: int,
        cvc: str | None,
        billing: Obj,
        metadata: dict[str, str] | None = None,
        wallet: Obj | None = None,
    ) -> Obj:
        """Store a card PaymentMethod; ``wallet`` is Stripe's ``card.wallet`` hash for a wallet card."""
        brand, funding, country, _ = card_for(number)
        address = {k: None for k in ("city", "country", "line1", "line2", "postal_code", "state")}
        address.update(billing.get("address") or {})
        pm: Obj = {
            "id": new_id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": address,
                "email": billing.get("email"),
                "name": billing.get("name"),
                "phone": billing.get("phone"),
                "tax_id": None,
            },
            "card": {
                "brand": brand,
                "checks": {
                    "address_line1_check": "pass" if address["line1"] else None,
                    "address_postal_code_check": "pass" if address["postal_code"] else None,
                    "cvc_check": "pass" if cvc else None,
                },
                "country": country,
                "display_brand": brand,
                "exp_month": month,
                "exp_year": year,
                "fingerprint": fingerprint(number),
                "funding": funding,
                "generated_from": None,
                "last4": number[-4:],
                "networks": {"available": [brand], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": copy.deepcopy(wallet),
            },
            "created": _now(),
            "customer": None,
            "customer_account": None,
            "livemode": False,
            "metadata": _merge_metadata({}, metadata),
            "type": "card",
        }
        self.objects[pm["id"]] = pm
        self._card_numbers[pm["id"]] = number
        return pm

    # ------------------------------------------------------------------ charges

    def _new_charge(self, pi: Obj, pm: Obj, declined: bool, decline_code: str | None) -> Obj:
        card = pm["card"]
        manual = pi["capture_method"] == "manual"
        code: str | None
        message: str | None
        outcome: Obj
        if declined:
            code, message = DECLINES[decline_code or "generic_decline"]
            seller = (
                "The bank did not return any further details with this decline."
                if decline_code == "generic_decline"
                else f"The bank returned the decline code `{decline_code}`."
            )
            outcome = {
                "network_status": "declined_by_network",
                "reason": decline_code,
                "risk_level": "normal",
                "seller_message": seller,
                "type": "issuer_declined",
            }
        else:
            code = message = None
            outcome = {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "seller_message": "Payment complete.",
                "type": "authorized",
            }
        outcome = {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "risk_score": secrets.randbelow(60),
            **outcome,
        }
        charge_id = new_id("ch")
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0 if declined or manual else pi["amount"],
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,  # set once the funds move (see _charge_balance_transaction)
            "billing_details": copy.deepcopy(pm["billing_details"]),
            "calculated_statement_descriptor": (pi["statement_descriptor"] or "STANDIN")[:22],
            "captured": not declined and not manual,
            "created": _now(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": code,
            "failure_message": message,
            "fraud_details": {},
            "livemode": False,
            "metadata": {},
            "on_behalf_of": None,
            "outcome": outcome,
            "paid": not declined,
            "payment_intent": pi["id"],
            "payment_method": pm["id"],
            "payment_method_details": {
                "card": {
                    "amount_authorized": None if declined else pi["amount"],
                    "authorization_code": None if declined else f"{secrets.randbelow(10**6):06d}",
                    "brand": card["brand"],
                    "checks": copy.deepcopy(card["checks"]),
                    "country": card["country"],
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "extended_authorization": {"status": "disabled"},
                    "fingerprint": card["fingerprint"],
                    "funding": card["funding"],
                    "incremental_authorization": {"status": "unavailable"},
                    "installments": None,
                    "last4": card["last4"],
                    "mandate": None,
                    "multicapture": {"status": "unavailable"},
                    "network": card["brand"],
                    "network_token": {"used": False},
                    "network_transaction_id": None if declined else f"{secrets.randbelow(10**15):015d}",
                    "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
                    "regulated_status": card["regulated_status"],
                    "three_d_secure": None,
                    "wallet": copy.deepcopy(card["wallet"]),
                },
                "type": "card",
            },
            "radar_options": {},
            "receipt_email": pi["receipt_email"],
            "receipt_number": None,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{new_id('x', 40)[2:]}",
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": pi["statement_descriptor"],
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
            "status": "failed" if declined else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.objects[charge_id] = charge
        return charge

    # ------------------------------------------------------------------ refunds

    def create_refund(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/refunds``."""
        with self.lock:
            if not p.get("payment_intent") and not p.get("charge"):
                raise invalid(
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                    code="parameter_missing",
                )
            if p.get("payment_intent"):
                pi = self.get("payment_intent", p["payment_intent"], "payment_intent", status=400)
                charge_id = pi["latest_charge"] if pi["status"] == "succeeded" else None
                if charge_id is None:
                    raise StripeError(
                        f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                        param="payment_intent",
                        code="charge_not_refundable",
                    )
                if p.get("charge") and p["charge"] != charge_id:
                    raise invalid(
                        f"Charge {p['charge']} does not belong to PaymentIntent {pi['id']}.", "charge"
                    )
            else:
                charge_id = p["charge"]
            charge = self.get("charge", charge_id, "charge", status=400)
            if charge["status"] != "succeeded" or not charge["captured"]:
                raise StripeError(
                    f"Charge {charge_id} cannot be refunded because it was not successfully captured.",
                    param="charge",
                    code="charge_not_refundable",
                )
            dispute = self._dispute_for(charge_id)
            if dispute and dispute["status"] != "won":
                raise StripeError(
                    f"Charge {charge_id} has been charged back; cannot issue a refund.",
                    code="charge_disputed",
                )
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0:
                raise StripeError(
                    f"Charge {charge_id} has already been refunded.", code="charge_already_refunded"
                )
            amount = p.get("amount", remaining)
            if amount <= 0:
                raise invalid("Invalid positive integer", "amount", "parameter_invalid_integer")
            if amount > remaining:
                raise StripeError(
                    f"Refund amount ({_money(amount, charge['currency'])}) is greater than "
                    "unrefunded amount on "
                    f"charge ({_money(remaining, charge['currency'])})",
                    param="amount",
                    code="amount_too_large",
                )
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": None,
                "charge": charge_id,
                "created": _now(),
                "currency": charge["currency"],
                "customer": charge["customer"],
                "customer_account": None,
                "destination_details": {
                    "card": {
                        "reference_status": "pending",
                        "reference_type": "acquirer_reference_number",
                        "type": "refund",
                    },
                    "type": "card",
                },
                "metadata": _merge_metadata({}, p.get("metadata")),
                "payment_intent": charge["payment_intent"],
                "payment_method": charge["payment_method"],
                "reason": p.get("reason"),
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
            self.objects[refund["id"]] = refund
            refund["balance_transaction"] = self._new_balance_transaction(
                -amount,
                charge["currency"],
                refund["id"],
                "refund",
                "refund",
                f"REFUND FOR CHARGE ({charge['description'] or 'Payment'})",
            )["id"]
            previous = {"amount_refunded": charge["amount_refunded"]}
            charge["amount_refunded"] += amount
            if charge["amount_refunded"] == charge["amount_captured"]:
                previous["refunded"] = False
                charge["refunded"] = True
            charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
            charge["refunds"]["total_count"] += 1
            self._emit("charge.refunded", charge, ctx, previous)
            self._emit("refund.created", refund, ctx)
            return refund

    # ----------------------------------------------------------------- disputes

    def _dispute_for(self, charge_id: str) -> Obj | None:
        return next(
            (o for o in self.objects.values() if o.get("object") == "dispute" and o["charge"] == charge_id),
            None,
        )

    def _open_dispute(self, charge: Obj, ctx: RequestContext) -> None:
        dispute_id = new_id("dp")
        card = charge["payment_method_details"]["card"]
        dispute = {
            "id": dispute_id,
            "object": "dispute",
            "amount": charge["amount"],
            "balance_transactions": [
                self._new_balance_transaction(
                    -charge["amount"],
                    charge["currency"],
                    dispute_id,
                    "adjustment",
                    "dispute",
                    f"Chargeback withdrawal for {charge['id']}",
                    fee=DISPUTE_FEE,
                    fee_description="Dispute fee",
                )
            ],
            "charge": charge["id"],
            "created": _now(),
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": {**{k: None for k in DISPUTE_EVIDENCE_FIELDS}, "enhanced_evidence": {}},
            "evidence_details": {
                "due_by": _now() + 7 * 86400,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": card["brand"],
                    "case_type": "chargeback",
                    "network_reason_code": "10.4",
                    "network": card["network"],
                },
                "type": "card",
            },
            "reason": "fraudulent",
            "status": "needs_response",
        }
        self.objects[dispute_id] = dispute
        charge["disputed"] = True
        self._emit("charge.dispute.created", dispute, ctx)
        self._emit("charge.dispute.funds_withdrawn", dispute, ctx)

    def update_dispute(self, dispute_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/disputes/{id}``; test-mode evidence text ``winning_evidence``/``losing_evidence``
        settles it as won/lost."""
        with self.lock:
            dispute = self.get("dispute", dispute_id, "dispute")
            if dispute["status"] not in OPEN_DISPUTE:
                raise StripeError(
                    f"This dispute is already {dispute['status'].replace('_', ' ')} "
                    "and can no longer be updated.",
                    code="dispute_already_closed" if dispute["status"] in ("won", "lost") else None,
                )
            previous: Obj = {}
            evidence = {k: v for k, v in (p.get("evidence") or {}).items() if v is not None}
            if evidence:
                previous["evidence"] = {k: dispute["evidence"][k] for k in evidence}
                dispute["evidence"].update(evidence)
                dispute["evidence_details"]["has_evidence"] = True
            if p.get("metadata"):
                previous["metadata"] = dict(dispute["metadata"])
                dispute["metadata"] = _merge_metadata(dispute["metadata"], p["metadata"])
            if p.get("submit", True):
                previous["status"] = dispute["status"]
                dispute["status"] = "under_review"
                dispute["evidence_details"]["submission_count"] += 1
            self._emit("charge.dispute.updated", dispute, ctx, previous)
            verdict = {"winning_evidence": "won", "losing_evidence": "lost"}.get(
                dispute["evidence"]["uncategorized_text"] or ""
            )
            if dispute["status"] == "under_review" and verdict:
                self._close_dispute(dispute, verdict, ctx)
            return dispute

    def close_dispute(self, dispute_id: str, ctx: RequestContext) -> Obj:
        """``POST /v1/disputes/{id}/close``: accept the dispute (status ``lost``)."""
        with self.lock:
            dispute = self.get("dispute", dispute_id, "dispute")
            if dispute["status"] not in OPEN_DISPUTE:
                raise StripeError(
                    f"This dispute is already {dispute['status'].replace('_', ' ')} and cannot be closed.",
                    code="dispute_already_closed" if dispute["status"] in ("won", "lost") else None,
                )
            self._close_dispute(dispute, "lost", ctx)
            return dispute

    def _close_dispute(self, dispute: Obj, status: str, ctx: RequestContext) -> None:
        previous = {"status": dispute["status"]}
        dispute["status"] = status
        self._emit("charge.dispute.closed", dispute, ctx, previous)
        if status == "won":
            dispute["balance_transactions"].append(
                self._new_balance_transaction(
                    dispute["amount"],
                    dispute["currency"],
                    dispute["id"],
                    "adjustment",
                    "dispute_reversal",
                    f"Chargeback reversal for {dispute['charge']}",
                    fee=-DISPUTE_FEE,
                    fee_description="Dispute fee refund",
                )
            )
            self._emit("charge.dispute.funds_reinstated", dispute, ctx)

    # ------------------------------------------------------------------- events

    def list_events(self, p: Obj) -> Obj:
        """``GET /v1/events``: newest first; ``limit``, ``starting_after``, ``ending_before``,
        ``type`` (``*`` wildcards) and ``types`` filters."""
        if p.get("type") and p.get("types"):
            raise invalid("You may only specify one of these parameters: type, types.", "type")
        with self.lock:
            events = list(reversed(self.events))
            if p.get("type"):
                events = [e for e in events if fnmatch.fnmatchcase(e["type"], p["type"])]
            if p.get("types"):
                events = [e for e in events if e["type"] in p["types"]]
            return self._list(events, p, "/v1/events", "event")

    def list_payment_intents(self, p: Obj) -> Obj:
        """``GET /v1/payment_intents``: newest first, ``created`` and ``customer`` filters."""
        with self.lock:
            items = [
                pi
                for pi in reversed(self._payment_intents)
                if matches_range(pi["created"], p.get("created"))
                and (not p.get("customer") or pi["customer"] == p["customer"])
            ]
            return self._list(items, p, "/v1/payment_intents", "payment_intent")

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _currency(value: str) -> str:
        currency = value.lower()
        if currency not in CURRENCIES:
            raise invalid(
                f"Invalid currency: {value}. Stripe currently supports these currencies: "
                + ", ".join(sorted(CURRENCIES)),
                "currency",
            )
        return currency

    @staticmethod
    def _check_amount(amount: int, currency: str) -> None:
        if amount < MIN_AMOUNT:
            raise invalid(
                f"Amount must be at least {_money(MIN_AMOUNT, currency)} {currency}",
                "amount",
                "amount_too_small",
            )
        if amount > MAX_AMOUNT:
            raise invalid(
                f"Amount must be no more than {_money(MAX_AMOUNT, currency)}", "amount", "amount_too_large"
            )
