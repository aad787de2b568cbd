"""SetupIntents (a mixin of `store.Store`): save a card for later without charging it.

Create (``customer``, ``payment_method_types`` or ``automatic_payment_methods``, ``usage``,
``metadata``), retrieve, update, confirm (secret key, or publishable key + ``client_secret`` as
Stripe.js sends it), cancel and list. Confirming checks the card as Stripe does when it saves one:
a declining test card fails (``setup_intent.setup_failed``, HTTP 402, ``last_setup_error``), except
``4000000000000341``, which saves and declines only when charged. A success records a
``setup_attempt``, attaches the card to the SetupIntent's customer (``payment_method.attached``) and
emits ``setup_intent.succeeded``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from .common import Obj, matches_range, merge_metadata, now
from .events import RequestContext, new_id
from .forms import StripeError, invalid

if TYPE_CHECKING:
    from .store import Store

    _Base = Store
else:
    _Base = object

SETUP_CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
SETUP_CANCELABLE = (*SETUP_CONFIRMABLE, "requires_action")
# What Stripe returns about a SetupIntent to a publishable key (no customer, no metadata).
PUBLISHABLE_SETUP_FIELDS = frozenset(
    {
        "id",
        "object",
        "automatic_payment_methods",
        "cancellation_reason",
        "client_secret",
        "created",
        "description",
        "last_setup_error",
        "livemode",
        "next_action",
        "payment_method",
        "payment_method_configuration_details",
        "payment_method_types",
        "status",
        "usage",
    }
)


def public_setup_view(seti: Obj) -> Obj:
    """The subset of a SetupIntent Stripe returns to a publishable key."""
    return {k: v for k, v in seti.items() if k in PUBLISHABLE_SETUP_FIELDS}


class SetupIntentMixin(_Base):
    """SetupIntents and their setup attempts."""

    def __init__(self) -> None:
        self._setup_intents: list[Obj] = []  # oldest first, for listing

    def create_setup_intent(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/setup_intents`` (``confirm=true`` confirms at once)."""
        apm = p.get("automatic_payment_methods")
        types_param, types = self._payment_method_types(p)
        if apm is not None and types:
            raise invalid(
                f"You may only specify one of these parameters: automatic_payment_methods, {types_param}.",
                "automatic_payment_methods",
            )
        if apm is not None and apm.get("enabled") is None:
            raise invalid(
                "Missing required param: automatic_payment_methods[enabled].",
                "automatic_payment_methods[enabled]",
                "parameter_missing",
            )
        if not p.get("confirm"):
            for name in ("return_url", "payment_method_data"):
                if p.get(name) is not None:
                    raise invalid(f"You can only pass `{name}` when `confirm=true`.", name)
        automatic = None
        if (apm is None and not types) or (apm and apm["enabled"]):
            automatic = {"allow_redirects": (apm or {}).get("allow_redirects") or "always", "enabled": True}
        with self.lock:
            if p.get("customer"):
                self.get("customer", p["customer"], "customer", status=400)
            seti_id = new_id("seti")
            seti: Obj = {
                "id": seti_id,
                "object": "setup_intent",
                "application": None,
                "automatic_payment_methods": automatic,
                "cancellation_reason": None,
                "client_secret": f"{seti_id}_secret_{new_id('x', 32)[2:]}",
                "created": now(),
                "customer": p.get("customer"),
                "customer_account": None,
                "description": p.get("description"),
                "excluded_payment_method_types": None,
                "flow_directions": None,
                "last_setup_error": None,
                "latest_attempt": None,
                "livemode": False,
                "mandate": None,
                "metadata": merge_metadata({}, p.get("metadata")),
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": None,
                "payment_method_configuration_details": (
                    {"id": "pmc_standin_default", "parent": None} if automatic else None
                ),
                "payment_method_options": {
                    "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
                },
                "payment_method_types": types or ["card"],
                "single_use_mandate": None,
                "status": "requires_payment_method",
                "usage": p.get("usage") or "off_session",
            }
            if p.get("payment_method") and not p.get("confirm"):
                seti["payment_method"] = self._lookup_payment_method(p["payment_method"])["id"]
                seti["status"] = "requires_confirmation"
            self.objects[seti_id] = seti
            self._setup_intents.append(seti)
            self._emit("setup_intent.created", seti, ctx)
            if p.get("confirm"):
                confirm = {k: p[k] for k in ("payment_method", "payment_method_data") if k in p}
                self._confirm_setup(seti, confirm, ctx, publishable=False)
            return seti

    def retrieve_setup_intent(self, seti_id: str, p: Obj, publishable: bool) -> Obj:
        """``GET /v1/setup_intents/{id}`` (a publishable key must bring the ``client_secret``)."""
        with self.lock:
            seti = self.get("setup_intent", seti_id, "intent")
            self._check_setup_secret(seti, p.get("client_secret"), required=publishable)
            return seti

    def update_setup_intent(self, seti_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/setup_intents/{id}``: metadata and description always; customer, payment
        method and payment method types until it succeeds or is canceled."""
        with self.lock:
            seti = self.get("setup_intent", seti_id, "intent")
            restricted = set(p) - {"metadata", "description", "expand"}
            if restricted and seti["status"] not in SETUP_CANCELABLE:
                field = sorted(restricted)[0]
                raise StripeError(
                    f"You cannot update this SetupIntent's {field} because it has a status of "
                    f"{seti['status']}.",
                    code="setup_intent_unexpected_state",
                )
            _, types = self._payment_method_types(p)
            if p.get("customer"):
                self.get("customer", p["customer"], "customer", status=400)
            if p.get("payment_method"):
                seti["payment_method"] = self._lookup_payment_method(p["payment_method"])["id"]
                seti["status"] = "requires_confirmation"
            seti["metadata"] = merge_metadata(seti["metadata"], p.get("metadata"))
            for name in ("description", "customer"):
                if name in p:
                    seti[name] = p[name]
            if types:
                seti["payment_method_types"] = types
                seti["automatic_payment_methods"] = None
                seti["payment_method_configuration_details"] = None
            return seti

    def confirm_setup_intent(self, seti_id: str, p: Obj, ctx: RequestContext, publishable: bool) -> Obj:
        """``POST /v1/setup_intents/{id}/confirm`` (secret key, or publishable key + client_secret)."""
        with self.lock:
            seti = self.get("setup_intent", seti_id, "intent")
            self._check_setup_secret(seti, p.get("client_secret"), required=publishable)
            return self._confirm_setup(seti, p, ctx, publishable)

    def cancel_setup_intent(self, seti_id: str, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/setup_intents/{id}/cancel``."""
        with self.lock:
            seti = self.get("setup_intent", seti_id, "intent")
            if seti["status"] not in SETUP_CANCELABLE:
                raise StripeError(
                    f"You cannot cancel this SetupIntent because it has a status of {seti['status']}. "
                    "Only a SetupIntent with one of the following statuses may be canceled: "
                    "requires_payment_method, requires_confirmation, requires_action.",
                    code="setup_intent_unexpected_state",
                    extra={"setup_intent": copy.deepcopy(seti)},
                )
            seti.update(status="canceled", cancellation_reason=p.get("cancellation_reason"))
            self._emit("setup_intent.canceled", seti, ctx)
            return seti

    def list_setup_intents(self, p: Obj) -> Obj:
        """``GET /v1/setup_intents``: newest first; ``customer``, ``payment_method`` and ``created``."""
        with self.lock:
            if p.get("customer"):
                self.get("customer", p["customer"], "customer", status=400)
            items = [
                seti
                for seti in reversed(self._setup_intents)
                if (not p.get("customer") or seti["customer"] == p["customer"])
                and (not p.get("payment_method") or seti["payment_method"] == p["payment_method"])
                and matches_range(seti["created"], p.get("created"))
            ]
            return self._list(items, p, "/v1/setup_intents", "setup_intent")

    # ----------------------------------------------------------------- internals

    def _check_setup_secret(self, seti: Obj, secret: str | None, required: bool) -> None:
        if secret is None and not required:
            return
        if secret != seti["client_secret"]:
            raise StripeError(
                "The client_secret provided does not match any associated SetupIntent on this account. "
                "Ensure the publishable key used belongs to the same account that created the SetupIntent.",
                param="client_secret",
                code="setup_intent_invalid_parameter",
                replayable=False,
            )

    def _confirm_setup(self, seti: Obj, p: Obj, ctx: RequestContext, publishable: bool) -> Obj:
        view = public_setup_view if publishable else copy.deepcopy
        if seti["status"] not in SETUP_CONFIRMABLE:
            reason = (
                "it has already succeeded"
                if seti["status"] == "succeeded"
                else f"it has a status of {seti['status']}"
            )
            raise StripeError(
                f"You cannot confirm this SetupIntent because {reason}.",
                code="setup_intent_unexpected_state",
                extra={"setup_intent": view(seti)},
            )
        if p.get("payment_method") and p.get("payment_method_data"):
            raise invalid(
                "You cannot provide both `payment_method` and `payment_method_data`.", "payment_method_data"
            )
        if p.get("payment_method_data"):
            pm = self._payment_method_from_data(seti, p["payment_method_data"], view, "setup_intent")
        elif p.get("payment_method"):
            pm = self._lookup_payment_method(p["payment_method"])
        elif seti["payment_method"]:
            pm = self.objects[seti["payment_method"]]
        else:
            raise StripeError(
                "You cannot confirm this SetupIntent because it's missing a payment method. Update the "
                "SetupIntent with a payment method and then confirm it again, or confirm it again directly "
                "with a payment method.",
                code="setup_intent_unexpected_state",
                extra={"setup_intent": view(seti)},
            )
        self._check_payment_method_usable(seti, pm)
        refusal = self._attach_refusal(pm)
        attempt = self._setup_attempt(seti, pm, refusal)
        seti["latest_attempt"] = attempt["id"]
        if refusal is not None:
            error = {
                **{k: v for k, v in refusal.body()["error"].items() if k != "param"},
                "payment_method": copy.deepcopy(pm),
            }
            seti.update(status="requires_payment_method", payment_method=None, last_setup_error=error)
            self._emit("setup_intent.setup_failed", seti, ctx)
            refusal.extra = {"setup_intent": view(seti), "payment_method": copy.deepcopy(pm)}
            raise refusal
        seti.update(status="succeeded", payment_method=pm["id"], last_setup_error=None)
        if seti["customer"] and pm["customer"] is None:
            self._attach(pm, seti["customer"], ctx)
        self._emit("setup_intent.succeeded", seti, ctx)
        return seti

    def _setup_attempt(self, seti: Obj, pm: Obj, refusal: StripeError | None) -> Obj:
        card = pm["card"]
        attempt = {
            "id": new_id("setatt"),
            "object": "setup_attempt",
            "application": None,
            "created": now(),
            "customer": seti["customer"],
            "customer_account": None,
            "flow_directions": None,
            "livemode": False,
            "on_behalf_of": None,
            "payment_method": pm["id"],
            "payment_method_details": {
                "card": {
                    "brand": card["brand"],
                    "checks": copy.deepcopy(card["checks"]),
                    "country": card["country"],
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "fingerprint": card["fingerprint"],
                    "funding": card["funding"],
                    "last4": card["last4"],
                    "network": card["brand"],
                    "three_d_secure": None,
                    "wallet": copy.deepcopy(card["wallet"]),
                },
                "type": "card",
            },
            "setup_error": refusal.body()["error"] if refusal else None,
            "setup_intent": seti["id"],
            "status": "failed" if refusal else "succeeded",
            "usage": seti["usage"],
        }
        self.objects[attempt["id"]] = attempt
        return attempt
