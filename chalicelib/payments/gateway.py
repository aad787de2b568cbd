"""Stripe, reached through `StripeClient` with a pinned API version.

Locally the same code talks to the stand-in in `devtools/stripe_standin` by its base URL
(`STRIPE_API_BASE`); without it, to Stripe itself. There is no other local-mode branch.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from chalicelib.errors import InvalidInput, ProviderUnavailable
from chalicelib.giving.service import PaymentIntentRef

STRIPE_API_VERSION = "2026-10-28.endive"


class StripeGateway:
    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None,
                 tolerance_seconds: int = 300) -> None:
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
            )
        return self._client

    def create_payment_intent(self, *, amount_cents: int, donation_id: str, page_slug: str,
                              receipt_email: str, description: str,
                              idempotency_key: str) -> PaymentIntentRef:
        """A card PaymentIntent tagged with our donation id (events find the donation by it)."""
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": "usd",
                    # The page collects cards only; no redirect-based methods.
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "receipt_email": receipt_email,
                    "description": description,
                    "metadata": {"donation_id": donation_id, "page": page_slug},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return PaymentIntentRef(id=intent.id, client_secret=intent.client_secret or "")

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentRef:
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return PaymentIntentRef(id=intent.id, client_secret=intent.client_secret or "")

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


def _unavailable(exc: stripe.StripeError) -> ProviderUnavailable:
    return ProviderUnavailable("payment_provider_unavailable",
                               "The payment provider could not take this request; please retry.",
                               extra={"provider_code": getattr(exc, "code", None)})
