"""Wallet card tokens (a mixin of `store.Store`): what the test wallet of the stand-in's Stripe.js makes.

On a real page, Apple Pay hands Stripe.js an encrypted payment token, which Stripe.js posts to
``POST /v1/tokens`` as ``pk_token``; the resulting ``tok_...`` (``card.tokenization_method:
"apple_pay"``) is then confirmed as ``payment_method_data[card][token]``, and the PaymentMethod
and charge carry ``card.wallet = {"type": "apple_pay", "apple_pay": {}, "dynamic_last4": ...}``.
The stand-in's ``pk_token`` is simply the test card number the wallet holds (``4242424242424242``
unless a test chose another), so a wallet payment can also be declined or disputed.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

from .cards import card_for, dynamic_last4, fingerprint, luhn_ok
from .common import Obj, now
from .events import RequestContext, new_id
from .forms import invalid, require

if TYPE_CHECKING:
    from .store import Store

    _Base = Store
else:
    _Base = object

# Stripe's own spelling of the brand on the legacy card object a token carries.
_BRAND_NAMES = {
    "visa": "Visa",
    "mastercard": "MasterCard",
    "amex": "American Express",
    "discover": "Discover",
}


class WalletMixin(_Base):
    """``POST /v1/tokens`` for wallet payment tokens, and PaymentMethods made from them."""

    def __init__(self) -> None:
        self._token_numbers: dict[str, str] = {}  # tok id -> PAN, never rendered

    def create_token(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/tokens`` with ``pk_token`` (a wallet's payment token): a single-use card token."""
        require(p, "pk_token")
        number = re.sub(r"[\s-]", "", p["pk_token"])
        if not (number.isdigit() and 12 <= len(number) <= 19 and luhn_ok(number)):
            raise invalid("The Apple Pay token could not be decrypted.", "pk_token")
        card = card_for(number)
        details = p.get("card") or {}
        year = datetime.date.today().year + 3
        with self.lock:
            token: Obj = {
                "id": new_id("tok"),
                "object": "token",
                "card": {
                    "id": new_id("card"),
                    "object": "card",
                    "address_city": details.get("address_city"),
                    "address_country": details.get("address_country"),
                    "address_line1": details.get("address_line1"),
                    "address_line1_check": "unchecked" if details.get("address_line1") else None,
                    "address_line2": details.get("address_line2"),
                    "address_state": details.get("address_state"),
                    "address_zip": details.get("address_zip"),
                    "address_zip_check": "unchecked" if details.get("address_zip") else None,
                    "brand": _BRAND_NAMES.get(card.brand, "Unknown"),
                    "country": card.country,
                    "cvc_check": None,
                    "dynamic_last4": dynamic_last4(number),
                    "exp_month": 12,
                    "exp_year": year,
                    "fingerprint": fingerprint(number),
                    "funding": card.funding,
                    "last4": number[-4:],
                    "metadata": {},
                    "name": details.get("name"),
                    "networks": {"preferred": None},
                    "regulated_status": "unregulated",
                    "tokenization_method": "apple_pay",
                },
                "client_ip": None,
                "created": now(),
                "livemode": False,
                "type": "card",
                "used": False,
            }
            self.objects[token["id"]] = token
            self._token_numbers[token["id"]] = number
            return token

    def _payment_method_from_token(self, token_id: str, billing: Obj, metadata: dict[str, str] | None) -> Obj:
        """A wallet card PaymentMethod from an unused ``tok_...``; the token is used up."""
        param = "payment_method_data[card][token]"
        token = self.objects.get(token_id)
        if token is None or token.get("object") != "token":
            raise invalid(f"No such token: '{token_id}'", param, "resource_missing")
        if token["used"]:
            raise invalid(
                f"You cannot use a Stripe token more than once: {token_id}.", param, "token_already_used"
            )
        token["used"] = True
        card = token["card"]
        wallet = {"apple_pay": {}, "dynamic_last4": card["dynamic_last4"], "type": "apple_pay"}
        return self._new_payment_method(
            self._token_numbers[token_id],
            card["exp_month"],
            card["exp_year"],
            None,
            billing,
            metadata,
            wallet,
        )
