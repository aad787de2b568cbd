"""Stripe's bracketed form encoding, per-endpoint parameter whitelists and the error type.

Stripe bodies look like ``metadata[donation_id]=d1&payment_method_types[0]=card&expand[]=x``.
`decode` turns the pairs into nested dicts (list indices stay string keys), and
`validate` checks them against a spec, turning indexed dicts into lists and
coercing scalars, rejecting anything the spec does not name.

Spec vocabulary: ``STR``, ``INT``, ``BOOL``, ``METADATA`` (string-to-string map), ``RANGE``
(an integer or ``{gt, gte, lt, lte}`` of integers, as list filters such as ``created`` take),
a ``frozenset`` (enum of strings), a ``dict`` (nested object) or ``[spec]`` (array).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

STR, INT, BOOL, METADATA, RANGE = "string", "integer", "boolean", "metadata", "range"

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class StripeError(Exception):
    """An error rendered as Stripe's ``{"error": {...}}`` body with an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: Mapping[str, Any] | None = None,
        replayable: bool = True,
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.type = message, status, type
        self.code, self.param, self.decline_code = code, param, decline_code
        self.extra = dict(extra or {})
        # Stripe does not save an idempotent result when the request failed validation.
        self.replayable = replayable

    def body(self) -> dict[str, Any]:
        """Return the JSON body Stripe would send for this error."""
        err: dict[str, Any] = {"type": self.type}
        for key in ("code", "decline_code", "param"):
            if getattr(self, key) is not None:
                err[key] = getattr(self, key)
        if self.code:
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        err["message"] = self.message
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 validation error (not saved for idempotent replay)."""
    return StripeError(message, param=param, code=code, replayable=False)


def split_key(key: str) -> list[str]:
    """Split ``a[b][]`` into ``["a", "b", ""]``."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    segments = _SEGMENT.findall("[" + rest)
    if not head or "".join(f"[{s}]" for s in segments) != "[" + rest:
        raise invalid(f"Invalid parameter name: {key}", param=key)
    return [head, *segments]


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decode form pairs into nested dicts; ``a[]`` appends using the next numeric key."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = split_key(key)
        node = root
        for depth, segment in enumerate(path):
            if segment == "":
                segment = str(len(node))
            if depth == len(path) - 1:
                if isinstance(node.get(segment), dict):
                    raise invalid(f"Invalid value for {key}: cannot be both a value and a hash", key)
                node[segment] = value
            else:
                child = node.setdefault(segment, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid value for {key}: cannot be both a value and a hash", key)
                node = child
    return root


def validate(raw: Mapping[str, Any], spec: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Check ``raw`` against ``spec`` and coerce it; unknown names raise ``parameter_unknown``."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        param = f"{prefix}[{name}]" if prefix else name
        if name not in spec:
            raise invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")
        out[name] = _coerce(value, spec[name], param)
    return out


def _coerce(value: Any, spec: Any, param: str) -> Any:
    if value == "":
        return None  # Stripe reads an empty string as "unset"
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise invalid("Invalid object", param, "parameter_invalid_object")
        return validate(value, spec, param)
    if isinstance(spec, list):
        if not isinstance(value, dict) or not all(k.isdigit() for k in value):
            raise invalid("Invalid array", param, "parameter_invalid_array")
        items = [value[k] for k in sorted(value, key=int)]
        return [_coerce(v, spec[0], f"{param}[{i}]") for i, v in enumerate(items)]
    if spec == METADATA:
        return _metadata(value, param)
    if spec == RANGE:
        return validate(value, _RANGE_KEYS, param) if isinstance(value, dict) else _coerce(value, INT, param)
    if isinstance(value, dict):
        raise invalid(f"Invalid {_describe(spec)}: {param} must be a scalar value", param)
    if spec == INT:
        if not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer")
        return int(value)
    if spec == BOOL:
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param)
        return value == "true"
    if isinstance(spec, frozenset) and value not in spec:
        choices = sorted(spec)
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise invalid(f"Invalid {param}: must be one of {listed}", param)
    return value


_RANGE_KEYS = {"gt": INT, "gte": INT, "lt": INT, "lte": INT}


def _describe(spec: Any) -> str:
    return "string" if isinstance(spec, frozenset) else str(spec)


def _metadata(value: Any, param: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise invalid("Invalid object", param, "parameter_invalid_object")
    if len(value) > 50:
        raise invalid("Invalid metadata: metadata cannot have more than 50 keys", param)
    for key, item in value.items():
        if isinstance(item, dict):
            raise invalid("Invalid value type: {} must be a string", f"{param}[{key}]")
        if len(key) > 40:
            raise invalid(
                f"Invalid metadata: metadata keys must be at most 40 characters (key {key!r})", param
            )
        if len(item) > 500:
            raise invalid(
                f"Invalid metadata: metadata values must be at most 500 characters (key {key!r})", param
            )
    return dict(value)


def require(params: Mapping[str, Any], *names: str, prefix: str = "") -> None:
    """Raise ``parameter_missing`` for the first absent (or empty) name."""
    for name in names:
        if params.get(name) is None:
            param = f"{prefix}[{name}]" if prefix else name
            raise invalid(f"Missing required param: {param}.", param, "parameter_missing")


# ----------------------------------------------------------------- endpoint whitelists

EXPAND = [STR]
ADDRESS = {k: STR for k in ("line1", "line2", "city", "state", "postal_code", "country")}
BILLING_DETAILS = {"name": STR, "email": STR, "phone": STR, "address": ADDRESS}
PAYMENT_METHOD_DATA = {
    "type": frozenset({"card"}),
    # card details, or a card token (what a wallet's payment token became at POST /v1/tokens)
    "card": {"number": STR, "exp_month": INT, "exp_year": INT, "cvc": STR, "token": STR},
    "billing_details": BILLING_DETAILS,
    "metadata": METADATA,
}
SETUP_FUTURE_USAGE = frozenset({"on_session", "off_session"})
# stripe-python 16 types off_session as ``bool | "one_off" | "recurring"``.
OFF_SESSION = frozenset({"true", "false", "one_off", "recurring"})
CAPTURE_METHOD = frozenset({"automatic", "automatic_async", "manual"})

PAYMENT_INTENT_CREATE = {
    "amount": INT,
    "currency": STR,
    "metadata": METADATA,
    "receipt_email": STR,
    "description": STR,
    "statement_descriptor": STR,
    "statement_descriptor_suffix": STR,
    "automatic_payment_methods": {"enabled": BOOL, "allow_redirects": frozenset({"always", "never"})},
    # this API version's name for the list; the older `payment_method_types` is still accepted
    "allowed_payment_method_types": [STR],
    "payment_method_types": [STR],
    "setup_future_usage": SETUP_FUTURE_USAGE,
    "customer": STR,
    "payment_method": STR,
    "payment_method_data": PAYMENT_METHOD_DATA,
    "confirm": BOOL,
    "off_session": OFF_SESSION,
    "capture_method": CAPTURE_METHOD,
    "return_url": STR,
    "expand": EXPAND,
}
PAYMENT_INTENT_UPDATE = {
    k: PAYMENT_INTENT_CREATE[k]
    for k in (
        "amount",
        "currency",
        "metadata",
        "receipt_email",
        "description",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "allowed_payment_method_types",
        "payment_method_types",
        "setup_future_usage",
        "customer",
        "payment_method",
        "capture_method",
        "expand",
    )
}
PAYMENT_INTENT_CONFIRM = {
    "client_secret": STR,
    "payment_method": STR,
    "payment_method_data": PAYMENT_METHOD_DATA,
    "receipt_email": STR,
    "return_url": STR,
    "setup_future_usage": SETUP_FUTURE_USAGE,
    "off_session": OFF_SESSION,
    "capture_method": CAPTURE_METHOD,
    "expand": EXPAND,
}
# What Stripe.js may send with a publishable key.
PAYMENT_INTENT_CONFIRM_PUBLISHABLE = {
    k: PAYMENT_INTENT_CONFIRM[k]
    for k in (
        "client_secret",
        "payment_method",
        "payment_method_data",
        "receipt_email",
        "return_url",
        "setup_future_usage",
        "expand",
    )
}
PAYMENT_INTENT_RETRIEVE = {"client_secret": STR, "expand": EXPAND}
PAYMENT_INTENT_CANCEL = {
    "cancellation_reason": frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"}),
    "expand": EXPAND,
}
PAYMENT_INTENT_CAPTURE = {"amount_to_capture": INT, "metadata": METADATA, "expand": EXPAND}
REFUND_CREATE = {
    "payment_intent": STR,
    "charge": STR,
    "amount": INT,
    "reason": frozenset({"duplicate", "fraudulent", "requested_by_customer"}),
    "metadata": METADATA,
    "expand": EXPAND,
}
DISPUTE_EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
DISPUTE_UPDATE = {
    "evidence": {k: STR for k in DISPUTE_EVIDENCE_FIELDS},
    "metadata": METADATA,
    "submit": BOOL,
    "expand": EXPAND,
}
EXPAND_ONLY = {"expand": EXPAND}
EVENT_LIST = {
    "limit": INT,
    "starting_after": STR,
    "ending_before": STR,
    "type": STR,
    "types": [STR],
}

PAGINATION = {"limit": INT, "starting_after": STR, "ending_before": STR, "expand": EXPAND}
PAYMENT_INTENT_LIST = {**PAGINATION, "created": RANGE, "customer": STR}

# ----------------------------------------------------------- balance and payouts

BALANCE_TRANSACTION_LIST = {
    **PAGINATION,
    "created": RANGE,
    "currency": STR,
    "payout": STR,
    "source": STR,
    "type": STR,
}
PAYOUT_CREATE = {
    "amount": INT,
    "currency": STR,
    "description": STR,
    "metadata": METADATA,
    "statement_descriptor": STR,
    "method": frozenset({"standard"}),
    "source_type": frozenset({"card"}),
    "expand": EXPAND,
}
PAYOUT_LIST = {**PAGINATION, "created": RANGE, "arrival_date": RANGE, "status": STR}

# ------------------------------------------------------- customers and billing

CUSTOMER_CREATE = {
    "email": STR,
    "name": STR,
    "phone": STR,
    "description": STR,
    "address": ADDRESS,
    "metadata": METADATA,
    "payment_method": STR,
    "invoice_settings": {"default_payment_method": STR},
    "expand": EXPAND,
}
CUSTOMER_UPDATE = {k: v for k, v in CUSTOMER_CREATE.items() if k != "payment_method"}
PAYMENT_METHOD_ATTACH = {"customer": STR, "expand": EXPAND}
PAYMENT_METHOD_LIST = {**PAGINATION, "customer": STR, "type": frozenset({"card"})}
INTERVAL = frozenset({"day", "week", "month", "year"})
RECURRING = {"interval": INTERVAL, "interval_count": INT}
PRODUCT_CREATE = {
    "name": STR,
    "description": STR,
    "active": BOOL,
    "metadata": METADATA,
    "statement_descriptor": STR,
    "expand": EXPAND,
}
PRICE_CREATE = {
    "currency": STR,
    "unit_amount": INT,
    "recurring": RECURRING,
    "product": STR,
    "product_data": {"name": STR, "metadata": METADATA, "statement_descriptor": STR},
    "active": BOOL,
    "nickname": STR,
    "lookup_key": STR,
    "metadata": METADATA,
    "expand": EXPAND,
}
SUBSCRIPTION_ITEM = {
    "price": STR,
    "price_data": {"currency": STR, "unit_amount": INT, "product": STR, "recurring": RECURRING},
    "quantity": INT,
    "metadata": METADATA,
}
PAYMENT_SETTINGS = {
    "save_default_payment_method": frozenset({"off", "on_subscription"}),
    "payment_method_types": [STR],
}
SUBSCRIPTION_CREATE = {
    "customer": STR,
    "items": [SUBSCRIPTION_ITEM],
    "default_payment_method": STR,
    "payment_behavior": frozenset({"allow_incomplete", "default_incomplete", "error_if_incomplete"}),
    "payment_settings": PAYMENT_SETTINGS,
    "collection_method": frozenset({"charge_automatically"}),
    "cancel_at_period_end": BOOL,
    "cancel_at": INT,
    "description": STR,
    "off_session": BOOL,
    "metadata": METADATA,
    "expand": EXPAND,
}
SUBSCRIPTION_UPDATE = {
    "default_payment_method": STR,
    "payment_settings": PAYMENT_SETTINGS,
    "cancel_at_period_end": BOOL,
    "cancel_at": INT,
    "description": STR,
    "metadata": METADATA,
    # "" (unset) resumes collection
    "pause_collection": {
        "behavior": frozenset({"keep_as_draft", "mark_uncollectible", "void"}),
        "resumes_at": INT,
    },
    "items": [{"id": STR, **SUBSCRIPTION_ITEM}],
    "proration_behavior": frozenset({"always_invoice", "create_prorations", "none"}),
    "trial_end": STR,  # "now" or a Unix timestamp
    "billing_cycle_anchor": frozenset({"now", "unchanged"}),
    "expand": EXPAND,
}
SUBSCRIPTION_CANCEL = {
    "cancellation_details": {
        "comment": STR,
        "feedback": frozenset(
            {
                "customer_service",
                "low_quality",
                "missing_features",
                "other",
                "switched_service",
                "too_complex",
                "too_expensive",
                "unused",
            }
        ),
    },
    "invoice_now": BOOL,
    "prorate": BOOL,
    "expand": EXPAND,
}
INVOICE_PAYMENT_LIST = {
    **PAGINATION,
    "created": RANGE,
    "invoice": STR,
    "payment": {"type": frozenset({"payment_intent"}), "payment_intent": STR},
    "status": frozenset({"canceled", "open", "paid"}),
}

# ------------------------------------------------------------- setup intents, tokens

SETUP_INTENT_CREATE = {
    "automatic_payment_methods": {"enabled": BOOL, "allow_redirects": frozenset({"always", "never"})},
    "payment_method_types": [STR],
    "customer": STR,
    "description": STR,
    "metadata": METADATA,
    "payment_method": STR,
    "payment_method_data": PAYMENT_METHOD_DATA,
    "usage": frozenset({"on_session", "off_session"}),
    "confirm": BOOL,
    "return_url": STR,
    "expand": EXPAND,
}
SETUP_INTENT_UPDATE = {
    k: SETUP_INTENT_CREATE[k]
    for k in ("customer", "description", "metadata", "payment_method", "payment_method_types", "expand")
}
SETUP_INTENT_CONFIRM = {
    "client_secret": STR,
    "payment_method": STR,
    "payment_method_data": PAYMENT_METHOD_DATA,
    "return_url": STR,
    "expand": EXPAND,
}
SETUP_INTENT_RETRIEVE = {"client_secret": STR, "expand": EXPAND}
SETUP_INTENT_CANCEL = {
    "cancellation_reason": frozenset({"abandoned", "duplicate", "requested_by_customer"}),
    "expand": EXPAND,
}
SETUP_INTENT_LIST = {**PAGINATION, "created": RANGE, "customer": STR, "payment_method": STR}
# What Stripe.js posts for an Apple Pay payment token (the stand-in's test wallet sends the same).
TOKEN_CREATE = {
    "pk_token": STR,
    "pk_token_instrument_name": STR,
    "pk_token_payment_network": STR,
    "pk_token_transaction_id": STR,
    "card": {
        k: STR
        for k in (
            "name",
            "address_line1",
            "address_line2",
            "address_city",
            "address_state",
            "address_zip",
            "address_country",
        )
    },
    "expand": EXPAND,
}
