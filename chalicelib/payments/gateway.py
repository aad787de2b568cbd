"""Stripe, reached through `StripeClient` with a pinned API version.

Locally the same code talks to the stand-in in `devtools/stripe_standin` by its base URL
(`STRIPE_API_BASE`); without it, to Stripe itself. There is no other local-mode branch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import stripe

from chalicelib import metrics
from chalicelib.errors import Conflict, DomainError, InvalidInput, NotFound, ProviderBusy, ProviderUnavailable
from chalicelib.giving.model import CURRENCY
from chalicelib.giving.monthly import Schedule, SubscriptionChange
from chalicelib.giving.reconcile import IntentStatus
from chalicelib.giving.service import PaymentIntentRef, SavedCard
from chalicelib.payouts.model import BalanceTxn, PayoutFacts, read_balance_transaction, read_payout

STRIPE_API_VERSION = "2026-10-28.endive"
# How long a client is asked to wait after Stripe's rate limiter turned a request away (after the
# SDK's own retries): Stripe counts per second, so a couple of seconds finds a new window.
BUSY_RETRY_AFTER_SECONDS = 2


class ThrottleCountingClient(stripe.RequestsClient):
    """Stripe's default HTTP client, counting every 429 it receives (`StripeThrottles`), at every
    call site and on every attempt the SDK makes: any of them means we are at Stripe's limit.
    With a `budget`, every attempt (the SDK's retries and each page of a list included) first
    takes a token of it (the background jobs' `STRIPE_REQUESTS_PER_SECOND`)."""

    def __init__(self, budget: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._budget = budget

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self._budget is not None:
            self._budget()
        response = super().request(*args, **kwargs)
        if response[1] == 429:
            metrics.count(metrics.STRIPE_THROTTLES)
        return response

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        if self._budget is not None:
            self._budget()
        response = super().request_stream(*args, **kwargs)
        if response[1] == 429:
            metrics.count(metrics.STRIPE_THROTTLES)
        return response


class StripeGateway:
    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None,
                 tolerance_seconds: int = 300, budget: Callable[[], None] | None = None) -> None:
        self._budget = budget
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self._api_base = api_base
        self._tolerance = tolerance_seconds
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            self._client = stripe.StripeClient(
                self._secret_key,
                stripe_version=STRIPE_API_VERSION,
                base_addresses={"api": self._api_base} if self._api_base else None,
                max_network_retries=2,
                http_client=ThrottleCountingClient(self._budget),
            )
        return self._client

    def create_payment_intent(self, *, amount_cents: int, donation_id: str, page_slug: str,
                              committee_id: str, receipt_email: str, description: str,
                              idempotency_key: str, customer_id: str | None = None
                              ) -> PaymentIntentRef:
        """A card PaymentIntent tagged with our donation id (events find the donation by it) and
        committee (the webhook reads the committee with the donation, in one request). With a
        customer, the card is saved for express giving (`setup_future_usage`)."""
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": CURRENCY,
            # The page collects cards only; no redirect-based methods.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "receipt_email": receipt_email,
            "description": description,
            "metadata": {"donation_id": donation_id, "page": page_slug, "committee_id": committee_id},
        }
        if customer_id:
            params.update(customer=customer_id, setup_future_usage="off_session")
        try:
            intent = self.client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return PaymentIntentRef(id=intent.id, client_secret=intent.client_secret or "")

    def create_customer(self, *, email: str, name: str, donor_id: str, idempotency_key: str) -> str:
        try:
            customer = self.client.v1.customers.create(
                params={"email": email, "name": name, "metadata": {"donor_id": donor_id}},
                options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return customer.id

    def create_monthly_subscription(self, *, amount_cents: int, donation_id: str, page_slug: str,
                                    committee_id: str, customer_id: str, description: str,
                                    idempotency_key: str,
                                    cancel_at: datetime | None = None) -> PaymentIntentRef:
        """A monthly plan whose first invoice the donor confirms like a one-time gift; its later
        invoices are charged by Stripe and arrive as `invoice.paid` events. `cancel_at` ends it
        by itself (Stripe's Unix timestamp; the committee's `recurring_ends_at`)."""
        try:
            price = self.client.v1.prices.create(
                params={"currency": CURRENCY, "unit_amount": amount_cents,
                        "recurring": {"interval": "month"},
                        "product_data": {"name": description[:200]}},
                options={"idempotency_key": f"{idempotency_key}-price"})
            params: stripe.params.SubscriptionCreateParams = {
                "customer": customer_id, "items": [{"price": price.id}],
                "payment_behavior": "default_incomplete",
                "payment_settings": {"save_default_payment_method": "on_subscription"},
                "metadata": {"first_donation_id": donation_id, "page": page_slug,
                             "committee_id": committee_id},
                "expand": ["latest_invoice.confirmation_secret"]}
            if cancel_at is not None:
                params["cancel_at"] = int(cancel_at.timestamp())
            subscription = self.client.v1.subscriptions.create(
                params=params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        invoice = subscription.latest_invoice
        secret = getattr(getattr(invoice, "confirmation_secret", None), "client_secret", None) or ""
        return PaymentIntentRef(id=secret.split("_secret_")[0], client_secret=secret,
                                subscription_id=subscription.id)

    def saved_card(self, customer_id: str) -> SavedCard | None:
        """The card a donor saved for express giving (the newest), if it is still there."""
        try:
            methods = self.client.v1.payment_methods.list(
                params={"customer": customer_id, "type": "card", "limit": 1})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        for method in methods.data:
            card = method.card
            return SavedCard(method.id, card.brand if card else "card", card.last4 if card else "")
        return None

    def charge_saved_card(self, *, customer_id: str, payment_method_id: str, amount_cents: int,
                          donation_id: str, page_slug: str, committee_id: str, receipt_email: str,
                          description: str, idempotency_key: str) -> PaymentIntentRef:
        """Charge the saved card off-session, after the donor confirmed on the page."""
        try:
            intent = self.client.v1.payment_intents.create(
                params={"amount": amount_cents, "currency": CURRENCY, "customer": customer_id,
                        "payment_method": payment_method_id, "off_session": True, "confirm": True,
                        "receipt_email": receipt_email, "description": description,
                        "metadata": {"donation_id": donation_id, "page": page_slug,
                                     "committee_id": committee_id}},
                options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            raise PaymentDeclined() from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return PaymentIntentRef(id=intent.id, client_secret=intent.client_secret or "")

    def cancel_subscription(self, subscription_id: str) -> None:
        try:
            self.client.v1.subscriptions.cancel(subscription_id)
        except stripe.InvalidRequestError:
            return  # already cancelled: cancelling is idempotent for the donor
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    # --- monthly gifts the donor changes from the portal (giving/monthly.py) --------------
    def subscription_schedule(self, subscription_id: str) -> Schedule:
        """The subscription's item, price and next charge (its period's end), read before a change."""
        try:
            sub = self.client.v1.subscriptions.retrieve(subscription_id)
        except stripe.InvalidRequestError as exc:
            raise NotFound("plan_not_found", "Stripe has no such monthly gift.") from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        item = sub["items"]["data"][0]
        price = item["price"]
        product = price["product"]
        return Schedule(item_id=item["id"], product_id=product if isinstance(product, str) else product["id"],
                        amount_cents=int(price["unit_amount"] or 0) * int(item["quantity"] or 1),
                        next_charge_at=datetime.fromtimestamp(item["current_period_end"], timezone.utc),
                        customer_id=str(sub["customer"]), status=str(sub["status"]),
                        payment_method_id=_id_of(getattr(sub, "default_payment_method", None)))

    def change_subscription(self, subscription_id: str, schedule: Schedule, change: SubscriptionChange,
                            idempotency_key: str) -> None:
        """Apply one change; the same idempotency key changes once (a double POST). Nothing is
        prorated (`proration_behavior=none`): a new amount is billed from the next renewal, and a
        new charge day stretches the paid period to it (`trial_end`), charging nothing now."""
        params: dict[str, Any] = {}
        if change.amount_cents is not None:
            params.update(items=[{"id": schedule.item_id, "price_data": {
                "currency": CURRENCY, "product": schedule.product_id, "unit_amount": change.amount_cents,
                "recurring": {"interval": "month"}}, "quantity": 1}], proration_behavior="none")
        if change.trial_end is not None:
            params.update(trial_end=int(change.trial_end.timestamp()), proration_behavior="none")
        if change.pause is not None:
            params["pause_collection"] = {"behavior": "void"} if change.pause else ""
        if change.cancel_at is not None:
            params["cancel_at"] = int(change.cancel_at.timestamp())
        if change.payment_method_id is not None:
            params["default_payment_method"] = change.payment_method_id
        try:
            self.client.v1.subscriptions.update(subscription_id, params=params,  # type: ignore[arg-type]
                                                options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            raise Conflict("plan_not_changed", "Stripe could not make this change to your monthly gift.",
                           extra={"provider_code": getattr(exc, "code", None)}) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    def create_setup_intent(self, customer_id: str, donor_id: str, idempotency_key: str) -> tuple[str, str]:
        """A SetupIntent to save a new card on the customer for its monthly gifts (off session)."""
        try:
            seti = self.client.v1.setup_intents.create(
                params={"customer": customer_id, "usage": "off_session",
                        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                        "metadata": {"donor_id": donor_id, "purpose": "monthly_card"}},
                options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return seti.id, seti.client_secret or ""

    def setup_intent_card(self, setup_intent_id: str) -> tuple[str, str | None, str | None]:
        """A SetupIntent's status, the card it saved and its customer."""
        try:
            seti = self.client.v1.setup_intents.retrieve(setup_intent_id)
        except stripe.InvalidRequestError:
            return "missing", None, None
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        method, customer = seti.payment_method, seti.customer
        return (seti.status, method if isinstance(method, str) or method is None else method.id,
                customer if isinstance(customer, str) or customer is None else customer.id)

    def set_default_card(self, customer_id: str, payment_method_id: str, idempotency_key: str) -> None:
        """The card later invoices of the customer are paid with."""
        try:
            self.client.v1.customers.update(
                customer_id, params={"invoice_settings": {"default_payment_method": payment_method_id}},
                options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentRef:
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return PaymentIntentRef(id=intent.id, client_secret=intent.client_secret or "")

    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str:
        """Refund part of a payment; the same idempotency key never refunds twice.

        Two refunds of one gift may be asked for at once (a lost primary's whole refund and
        day 60's refund of the held excess, each read before the other's `charge.refunded`
        arrived). Each asks for money the committee must not keep, so one that finds less left
        than it asks refunds what is left (its key suffixed `-rest`), and one that finds nothing
        left is done (ALREADY_REFUNDED): the refunds never add up to more than the charge, and
        neither fails for the other."""
        try:
            return self._refund(payment_intent_id, amount_cents, reason, idempotency_key)
        except stripe.InvalidRequestError as exc:
            if exc.code == "charge_already_refunded":
                return ALREADY_REFUNDED
            if exc.code != "amount_too_large":
                raise _unavailable(exc) from exc
        try:
            intent = self.client.v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge"]})
            charge = intent.latest_charge  # expanded: a Charge, not its id
            left = 0 if charge is None or isinstance(charge, str) else charge.amount - charge.amount_refunded
            if left <= 0:
                return ALREADY_REFUNDED
            return self._refund(payment_intent_id, left, reason, f"{idempotency_key}-rest")
        except stripe.InvalidRequestError as exc:
            if exc.code == "charge_already_refunded":
                return ALREADY_REFUNDED
            raise _unavailable(exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    def _refund(self, payment_intent_id: str, amount_cents: int, reason: str, idempotency_key: str) -> str:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_cents,
                        "metadata": {"reason": reason}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError:
            raise
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return refund.id

    def payment_intent_status(self, payment_intent_id: str) -> IntentStatus:
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _status(intent)

    def cancel_payment_intent(self, payment_intent_id: str, idempotency_key: str,
                              reason: str = "abandoned") -> IntentStatus:
        """Cancel an intent (`abandoned`, or `fraudulent` for card testing); if it can no longer
        be cancelled, say what it is."""
        try:
            intent = self.client.v1.payment_intents.cancel(
                payment_intent_id, params={"cancellation_reason": reason},
                options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError:
            return self.payment_intent_status(payment_intent_id)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _status(intent)

    def retrieve_payout(self, payout_id: str) -> PayoutFacts:
        try:
            payout = self.client.v1.payouts.retrieve(payout_id)
        except stripe.InvalidRequestError as exc:
            raise NotFound("payout_not_found", f"Stripe has no payout '{payout_id}'.") from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return read_payout(payout.to_dict())

    def payout_balance_transactions(self, payout_id: str) -> Iterator[BalanceTxn]:
        """The balance transactions a payout swept, each with its source (charge, refund,
        dispute) expanded; pages of 100 fetched as they are consumed. The SDK retries 429s and
        5xx with backoff (`max_network_retries`)."""
        try:
            page = self.client.v1.balance_transactions.list(
                params={"payout": payout_id, "limit": 100, "expand": ["data.source"]})
            for txn in page.auto_paging_iter():
                yield read_balance_transaction(txn.to_dict())
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    def verified_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event in `payload` once its `Stripe-Signature` proves Stripe sent it recently."""
        if not signature:
            raise InvalidInput("bad_signature", "The Stripe-Signature header is missing.")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature, self._webhook_secret,
                                                  self._tolerance)
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            raise InvalidInput("bad_signature",
                               "The Stripe signature is invalid or expired.") from None
        try:
            event = json.loads(text)
        except ValueError:
            raise InvalidInput("not_an_event", "The body is not JSON.") from None
        return event


class PaymentDeclined(DomainError):
    kind = "rule"

    def __init__(self) -> None:
        super().__init__("card_declined", "Your saved card was declined. Give on the page with "
                                          "another card instead.")


def _id_of(value: Any) -> str | None:
    """An expandable field's id (Stripe sends the id, or the object when expanded)."""
    return value if isinstance(value, str) or value is None else str(value["id"])


def _status(intent: stripe.PaymentIntent) -> IntentStatus:
    charge = intent.latest_charge
    charge_id = charge if isinstance(charge, str) else (charge.id if charge else None)
    return IntentStatus(intent.status, charge_id)


# What `refund` answers when the charge has nothing left to refund (another refund took it).
ALREADY_REFUNDED = "already_refunded"


def _unavailable(exc: stripe.StripeError) -> ProviderUnavailable:
    if isinstance(exc, stripe.RateLimitError):  # a 429: Stripe did nothing, ask again shortly
        return ProviderBusy(BUSY_RETRY_AFTER_SECONDS)
    return ProviderUnavailable("payment_provider_unavailable",
                               "The payment provider could not take this request; please retry.",
                               extra={"provider_code": getattr(exc, "code", None)})
