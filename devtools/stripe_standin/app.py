"""HTTP layer: Stripe's URL paths, auth, idempotency, CORS, Stripe.js, fault injection and the
``/_standin/`` dev endpoints (introspection, payout failure, subscription cycles, balance settling)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

from . import forms
from .events import DEFAULT_API_VERSION, Deliverer, RequestContext, WebhookTarget, new_id
from .faults import FaultConfigError, FaultInjector
from .forms import StripeError
from .setup import public_setup_view
from .store import SavedResponse, Store, public_view

log = logging.getLogger("stripe_standin")
STATIC = Path(__file__).parent / "static"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account"
    ),
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Original-Request, Stripe-Version",
    "Access-Control-Max-Age": "300",
}
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, using "
    "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). "
    "See https://stripe.com/docs/api#authentication "
    "for details, or we can help at https://support.stripe.com/."
)
PUBLISHABLE_KEY_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list "
    "of your API keys at https://dashboard.stripe.com/account/apikeys."
)

# Stripe's body for a request its rate limiter turned away (HTTP 429).
RATE_LIMITED = (
    "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
)

# action(params, ctx, publishable, **path_args) -> (object to render, status)
Action = Callable[..., Any]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, indent=2) + "\n", status, headers, content_type="application/json")


def _api_key(pairs: list[tuple[str, str]]) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    if scheme.lower() == "basic" and credentials:  # curl -u sk_test_...:
        try:
            return base64.b64decode(credentials).decode().split(":", 1)[0]
        except ValueError:
            return None
    return next((v for k, v in pairs if k == "key"), None)


def _authenticate(pairs: list[tuple[str, str]], publishable_ok: bool) -> bool:
    """Return True for a publishable key, False for a secret key; raise 401 otherwise."""
    key = _api_key(pairs)
    if not key:
        raise StripeError(NO_KEY, status=401, replayable=False)
    if key.startswith(("sk_test_", "rk_test_")) and len(key) > 8:
        return False
    if key.startswith("pk_test_") and len(key) > 8:
        if not publishable_ok:
            raise StripeError(PUBLISHABLE_KEY_REFUSED, status=401, replayable=False)
        return True
    masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
    raise StripeError(f"Invalid API Key provided: {masked}", status=401, replayable=False)


def create_app(
    webhook_url: str | None = None,
    webhook_secret: str = "whsec_local_dev",
    *,
    retry_base_seconds: float = 1.0,
    max_attempts: int = 8,
    fee_percent: float = 2.9,
    fee_fixed_cents: int = 30,
    available_delay_seconds: float = 0.0,
) -> Flask:
    """Build the stand-in WSGI app; its state lives in ``app.extensions["stripe_standin"]``.

    A charge's Stripe fee is ``fee_percent`` of it (rounded half up) plus ``fee_fixed_cents``; its
    funds stay ``pending`` for ``available_delay_seconds`` (``POST /_standin/balance/settle`` ends
    the wait early).
    """
    target = WebhookTarget(webhook_url, webhook_secret)
    deliverer = Deliverer(target, retry_base_seconds=retry_base_seconds, max_attempts=max_attempts)
    store = Store(
        on_event=deliverer.enqueue,
        fee_percent=fee_percent,
        fee_fixed_cents=fee_fixed_cents,
        available_delay_seconds=available_delay_seconds,
    )
    faults = FaultInjector()
    # Every API request's arrival (time, method, path), newest last, for tests that check a
    # client's request rate (GET /_standin/requests).
    arrivals: deque[tuple[float, str, str]] = deque(maxlen=50_000)
    app = Flask(__name__, static_folder=None)
    app.extensions["stripe_standin"] = {
        "store": store,
        "deliverer": deliverer,
        "target": target,
        "faults": faults,
    }

    def api(rule: str, method: str, spec: Any, action: Action, *, publishable_spec: Any = None) -> None:
        """Register one Stripe endpoint; ``publishable_spec`` set means a pk_test_ key may call it."""

        def view(**path_args: str) -> Response:
            arrivals.append((time.time(), method, request.path))
            request_id = new_id("req", 14)
            api_version = request.headers.get("Stripe-Version") or DEFAULT_API_VERSION
            headers = {"Request-Id": request_id, "Stripe-Version": api_version}
            idem_key = request.headers.get("Idempotency-Key") if method == "POST" else None
            if idem_key:
                headers["Idempotency-Key"] = idem_key
            fault = faults.decide(request.path)  # before any work: a faulted request changes nothing
            if fault == "rate_limit":
                # The SDKs retry a 429 only when Stripe says so; Stripe does for its rate limiter.
                limited = StripeError(RATE_LIMITED, status=429, code="rate_limit")
                return _json(limited.body(), 429, {**headers, "Stripe-Should-Retry": "true"})
            if fault is not None:
                if fault == "timeout":
                    faults.hang()
                message = f"An error occurred with our connection to Stripe (injected {fault})."
                return _json({"error": {"type": "api_error", "message": message}}, 500, headers)
            endpoint = f"{method} {request.path}"
            claimed, save = False, True
            raw: dict[str, Any] = {}
            try:
                source = request.form if method == "POST" else request.args  # GET/DELETE: query
                pairs = list(source.items(multi=True))
                publishable = _authenticate(pairs, publishable_spec is not None)
                raw = forms.decode((k, v) for k, v in pairs if k != "key")
                if idem_key:
                    saved = store.idempotency_begin(idem_key, endpoint, raw)
                    if saved is not None:
                        replay = {
                            **headers,
                            "Idempotent-Replayed": "true",
                            "Original-Request": saved.request_id,
                        }
                        return Response(saved.body, saved.status, replay, content_type="application/json")
                    claimed = True
                params = forms.validate(raw, publishable_spec if publishable else spec)
                expand = params.pop("expand", None) or []
                if publishable and set(expand) - {"payment_method"}:
                    bad = sorted(set(expand) - {"payment_method"})[0]
                    raise forms.invalid(f"This property cannot be expanded ({bad}).", "expand")
                ctx = RequestContext(request_id, idem_key, api_version)
                body = store.render(action(params, ctx, publishable, **path_args), expand)
                if publishable and body.get("object") == "payment_intent":
                    body = public_view(body)
                elif publishable and body.get("object") == "setup_intent":
                    body = public_setup_view(body)
                response = _json(body, 200, headers)
            except StripeError as exc:
                response, save = _json(exc.body(), exc.status, headers), exc.replayable
            except Exception:
                log.exception("stand-in failure on %s", endpoint)
                body = {"error": {"type": "api_error", "message": "An unknown error occurred"}}
                response, save = _json(body, 500, headers), False
            if claimed and idem_key:
                result = SavedResponse(endpoint, raw, response.status_code, response.get_data(), request_id)
                store.idempotency_finish(idem_key, result if save else None)
            return response

        app.add_url_rule(rule, f"{method} {rule}", view, methods=[method], provide_automatic_options=False)

    def retrieve(kind: str, param: str = "id") -> Action:
        return lambda p, ctx, pk, id: store.get(kind, id, param)

    def retrieve_payment_intent(p: dict[str, Any], ctx: RequestContext, pk: bool, id: str) -> dict[str, Any]:
        pi = store.get("payment_intent", id, "intent")
        store.check_client_secret(pi, p.get("client_secret"), required=pk)
        return pi

    api(
        "/v1/payment_intents",
        "POST",
        forms.PAYMENT_INTENT_CREATE,
        lambda p, ctx, pk: store.create_payment_intent(p, ctx),
    )
    api(
        "/v1/payment_intents",
        "GET",
        forms.PAYMENT_INTENT_LIST,
        lambda p, ctx, pk: store.list_payment_intents(p),
    )
    api(
        "/v1/payment_intents/<id>",
        "GET",
        forms.PAYMENT_INTENT_RETRIEVE,
        retrieve_payment_intent,
        publishable_spec=forms.PAYMENT_INTENT_RETRIEVE,
    )
    api(
        "/v1/payment_intents/<id>",
        "POST",
        forms.PAYMENT_INTENT_UPDATE,
        lambda p, ctx, pk, id: store.update_payment_intent(id, p, ctx),
    )
    api(
        "/v1/payment_intents/<id>/confirm",
        "POST",
        forms.PAYMENT_INTENT_CONFIRM,
        lambda p, ctx, pk, id: store.confirm_payment_intent(id, p, ctx, pk),
        publishable_spec=forms.PAYMENT_INTENT_CONFIRM_PUBLISHABLE,
    )
    api(
        "/v1/payment_intents/<id>/capture",
        "POST",
        forms.PAYMENT_INTENT_CAPTURE,
        lambda p, ctx, pk, id: store.capture_payment_intent(id, p, ctx),
    )
    api(
        "/v1/payment_intents/<id>/cancel",
        "POST",
        forms.PAYMENT_INTENT_CANCEL,
        lambda p, ctx, pk, id: store.cancel_payment_intent(id, p, ctx),
    )
    # setup intents and wallet tokens
    api(
        "/v1/setup_intents",
        "POST",
        forms.SETUP_INTENT_CREATE,
        lambda p, ctx, pk: store.create_setup_intent(p, ctx),
    )
    api("/v1/setup_intents", "GET", forms.SETUP_INTENT_LIST, lambda p, ctx, pk: store.list_setup_intents(p))
    api(
        "/v1/setup_intents/<id>",
        "GET",
        forms.SETUP_INTENT_RETRIEVE,
        lambda p, ctx, pk, id: store.retrieve_setup_intent(id, p, pk),
        publishable_spec=forms.SETUP_INTENT_RETRIEVE,
    )
    api(
        "/v1/setup_intents/<id>",
        "POST",
        forms.SETUP_INTENT_UPDATE,
        lambda p, ctx, pk, id: store.update_setup_intent(id, p, ctx),
    )
    api(
        "/v1/setup_intents/<id>/confirm",
        "POST",
        forms.SETUP_INTENT_CONFIRM,
        lambda p, ctx, pk, id: store.confirm_setup_intent(id, p, ctx, pk),
        publishable_spec=forms.SETUP_INTENT_CONFIRM,
    )
    api(
        "/v1/setup_intents/<id>/cancel",
        "POST",
        forms.SETUP_INTENT_CANCEL,
        lambda p, ctx, pk, id: store.cancel_setup_intent(id, p, ctx),
    )
    api(
        "/v1/tokens",
        "POST",
        forms.TOKEN_CREATE,
        lambda p, ctx, pk: store.create_token(p, ctx),
        publishable_spec=forms.TOKEN_CREATE,
    )
    api("/v1/payment_methods/<id>", "GET", forms.EXPAND_ONLY, retrieve("payment_method", "payment_method"))
    api(
        "/v1/payment_methods",
        "GET",
        forms.PAYMENT_METHOD_LIST,
        lambda p, ctx, pk: store.list_payment_methods(p),
    )
    api(
        "/v1/payment_methods/<id>/attach",
        "POST",
        forms.PAYMENT_METHOD_ATTACH,
        lambda p, ctx, pk, id: store.attach_payment_method(id, p, ctx),
    )
    api(
        "/v1/payment_methods/<id>/detach",
        "POST",
        forms.EXPAND_ONLY,
        lambda p, ctx, pk, id: store.detach_payment_method(id, ctx),
    )
    api("/v1/charges/<id>", "GET", forms.EXPAND_ONLY, retrieve("charge", "charge"))
    api("/v1/refunds", "POST", forms.REFUND_CREATE, lambda p, ctx, pk: store.create_refund(p, ctx))
    api("/v1/refunds/<id>", "GET", forms.EXPAND_ONLY, retrieve("refund", "refund"))
    api("/v1/disputes/<id>", "GET", forms.EXPAND_ONLY, retrieve("dispute", "dispute"))
    api(
        "/v1/disputes/<id>",
        "POST",
        forms.DISPUTE_UPDATE,
        lambda p, ctx, pk, id: store.update_dispute(id, p, ctx),
    )
    api(
        "/v1/disputes/<id>/close",
        "POST",
        forms.EXPAND_ONLY,
        lambda p, ctx, pk, id: store.close_dispute(id, ctx),
    )
    api("/v1/events", "GET", forms.EVENT_LIST, lambda p, ctx, pk: store.list_events(p))
    api("/v1/events/<id>", "GET", forms.EXPAND_ONLY, retrieve("event"))

    # balance and payouts
    api("/v1/balance", "GET", forms.EXPAND_ONLY, lambda p, ctx, pk: store.get_balance())
    api(
        "/v1/balance_transactions",
        "GET",
        forms.BALANCE_TRANSACTION_LIST,
        lambda p, ctx, pk: store.list_balance_transactions(p),
    )
    api("/v1/balance_transactions/<id>", "GET", forms.EXPAND_ONLY, retrieve("balance_transaction"))
    api("/v1/payouts", "POST", forms.PAYOUT_CREATE, lambda p, ctx, pk: store.create_payout(p, ctx))
    api("/v1/payouts", "GET", forms.PAYOUT_LIST, lambda p, ctx, pk: store.list_payouts(p))
    api("/v1/payouts/<id>", "GET", forms.EXPAND_ONLY, retrieve("payout", "payout"))

    # customers, products, prices, subscriptions, invoices
    api("/v1/customers", "POST", forms.CUSTOMER_CREATE, lambda p, ctx, pk: store.create_customer(p, ctx))
    api("/v1/customers/<id>", "GET", forms.EXPAND_ONLY, retrieve("customer", "customer"))
    api(
        "/v1/customers/<id>",
        "POST",
        forms.CUSTOMER_UPDATE,
        lambda p, ctx, pk, id: store.update_customer(id, p, ctx),
    )
    api(
        "/v1/customers/<id>/payment_methods",
        "GET",
        {k: v for k, v in forms.PAYMENT_METHOD_LIST.items() if k != "customer"},
        lambda p, ctx, pk, id: store.list_payment_methods(p, id),
    )
    api("/v1/products", "POST", forms.PRODUCT_CREATE, lambda p, ctx, pk: store.create_product(p, ctx))
    api("/v1/products/<id>", "GET", forms.EXPAND_ONLY, retrieve("product"))
    api("/v1/prices", "POST", forms.PRICE_CREATE, lambda p, ctx, pk: store.create_price(p, ctx))
    api("/v1/prices/<id>", "GET", forms.EXPAND_ONLY, retrieve("price", "price"))
    api(
        "/v1/subscriptions",
        "POST",
        forms.SUBSCRIPTION_CREATE,
        lambda p, ctx, pk: store.create_subscription(p, ctx),
    )
    api("/v1/subscriptions/<id>", "GET", forms.EXPAND_ONLY, retrieve("subscription", "subscription"))
    api(
        "/v1/subscriptions/<id>",
        "POST",
        forms.SUBSCRIPTION_UPDATE,
        lambda p, ctx, pk, id: store.update_subscription(id, p, ctx),
    )
    api(
        "/v1/subscriptions/<id>",
        "DELETE",
        forms.SUBSCRIPTION_CANCEL,
        lambda p, ctx, pk, id: store.cancel_subscription(id, p, ctx),
    )
    api("/v1/invoices/<id>", "GET", forms.EXPAND_ONLY, retrieve("invoice", "invoice"))
    api(
        "/v1/invoice_payments",
        "GET",
        forms.INVOICE_PAYMENT_LIST,
        lambda p, ctx, pk: store.list_invoice_payments(p),
    )
    api("/v1/invoice_payments/<id>", "GET", forms.EXPAND_ONLY, retrieve("invoice_payment"))

    @app.before_request
    def preflight() -> Response | None:
        if request.method == "OPTIONS" and request.path.startswith("/v1/"):
            return Response(status=204)
        return None

    @app.after_request
    def cors(response: Response) -> Response:
        if request.path.startswith(("/v1/", "/v3")):
            response.headers.update(CORS_HEADERS)
        return response

    @app.errorhandler(HTTPException)
    def unrecognized(exc: HTTPException) -> Response:
        message = (
            f"Unrecognized request URL ({request.method}: {request.path}). "
            "Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/."
        )
        return _json({"error": {"type": "invalid_request_error", "message": message}}, 404)

    @app.get("/v3")
    @app.get("/v3/")
    @app.get("/v3/stripe.js")
    def stripe_js() -> Response:
        return Response(
            (STATIC / "stripe.js").read_bytes(),
            200,
            {"Cache-Control": "no-store"},
            content_type="application/javascript; charset=utf-8",
        )

    @app.get("/_standin/health")
    def health() -> Response:
        return _json({"ok": True})

    @app.get("/_standin/deliveries")
    def deliveries() -> Response:
        return _json(deliverer.deliveries())

    @app.post("/_standin/webhook")
    def set_webhook() -> Response:
        data = request.get_json(silent=True)
        url = data.get("url") if isinstance(data, dict) else ""
        secret = data.get("secret") if isinstance(data, dict) else None
        if not (url is None or (isinstance(url, str) and url.startswith(("http://", "https://")))) or not (
            secret is None or (isinstance(secret, str) and secret)
        ):
            return _json(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": 'Expected JSON {"url": "http(s)://..." or null, "secret"?: "whsec_..."}',
                    }
                },
                400,
            )
        deliverer.configure(url, secret)
        return _json({"ok": True, "url": url})

    def dev(action: Callable[[], Any]) -> Response:
        """Run a dev-endpoint action; Stripe-shaped errors keep their status."""
        try:
            return _json(store.render(action()))
        except StripeError as exc:
            return _json(exc.body(), exc.status)

    @app.post("/_standin/payouts/<id>/fail")
    def fail_payout(id: str) -> Response:
        data = request.get_json(silent=True) or {}
        code = data.get("failure_code") if isinstance(data, dict) else None
        return dev(lambda: store.fail_payout(id, code))

    @app.post("/_standin/subscriptions/<id>/advance")
    def advance_subscription(id: str) -> Response:
        return dev(lambda: store.advance_subscription(id))

    @app.post("/_standin/balance/settle")
    def settle_balance() -> Response:
        return _json({"settled": store.settle_balance()})

    @app.get("/_standin/requests")
    def requests_since() -> Response:
        since = request.args.get("since", type=float) or 0.0
        return _json({"requests": [{"at": at, "method": m, "path": p}
                                   for at, m, p in list(arrivals) if at >= since]})

    @app.get("/_standin/faults")
    def get_faults() -> Response:
        return _json(faults.status())

    @app.post("/_standin/faults")
    def set_faults() -> Response:
        try:
            return _json(faults.configure(request.get_json(silent=True)))
        except FaultConfigError as exc:
            return _json({"error": {"type": "invalid_request_error", "message": str(exc)}}, 400)

    return app


@dataclass
class RunningStandin:
    """A stand-in served from a background thread (see `serve`)."""

    url: str
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def store(self) -> Store:
        return self.app.extensions["stripe_standin"]["store"]

    def shutdown(self) -> None:
        """Stop serving and stop the webhook workers."""
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["stripe_standin"]["deliverer"].stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    webhook_url: str | None = None,
    webhook_secret: str = "whsec_local_dev",
    retry_base_seconds: float = 1.0,
    max_attempts: int = 8,
    fee_percent: float = 2.9,
    fee_fixed_cents: int = 30,
    available_delay_seconds: float = 0.0,
) -> RunningStandin:
    """Start a threaded server in a daemon thread (``port=0`` picks a free port) and return its handle."""
    app = create_app(
        webhook_url,
        webhook_secret,
        retry_base_seconds=retry_base_seconds,
        max_attempts=max_attempts,
        fee_percent=fee_percent,
        fee_fixed_cents=fee_fixed_cents,
        available_delay_seconds=available_delay_seconds,
    )
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-standin", daemon=True
    )
    thread.start()
    return RunningStandin(f"http://{host}:{server.server_port}", app, server, thread)
