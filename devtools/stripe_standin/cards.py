"""Stripe's documented test cards: what each number is (brand, funding, issuing country) and does.

Numbers and ``pm_card_*`` tokens are the ones on Stripe's testing page ("Cards by brand", "Cards by
country", "Declined payments", "Disputes"). A Luhn-valid number that is not listed behaves as a live
card in test mode (declined with ``test_mode_live_card``), as Stripe's do.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple


class TestCard(NamedTuple):
    """One test card number: ``behaviour`` None succeeds, ``dispute`` succeeds and is disputed,
    anything else is the decline code a charge gets."""

    brand: str
    funding: str
    country: str
    behaviour: str | None = None


TEST_CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa", "credit", "US"),
    "4000056655665556": TestCard("visa", "debit", "US"),
    "5555555555554444": TestCard("mastercard", "credit", "US"),
    "378282246310005": TestCard("amex", "credit", "US"),
    "6011111111111117": TestCard("discover", "credit", "US"),
    "4000000000000002": TestCard("visa", "credit", "US", "generic_decline"),
    "4000000000009995": TestCard("visa", "credit", "US", "insufficient_funds"),
    "4000000000009987": TestCard("visa", "credit", "US", "lost_card"),
    "4000000000000069": TestCard("visa", "credit", "US", "expired_card"),
    "4000000000000127": TestCard("visa", "credit", "US", "incorrect_cvc"),
    "4000000000000259": TestCard("visa", "credit", "US", "dispute"),
    "4000000000000341": TestCard("visa", "credit", "US", "generic_decline"),
}
# Stripe's "Cards by country" (all Visa credit; they succeed): ISO country -> number. Each also has
# the token ``pm_card_<country in lower case>`` (``pm_card_br``, ``pm_card_ca``, ``pm_card_mx``...).
COUNTRY_CARDS: dict[str, str] = {
    # Americas
    "AR": "4000000320000021",
    "BR": "4000000760000002",
    "CA": "4000001240000000",
    "CL": "4000001520000001",
    "CO": "4000001700000003",
    "CR": "4000001880000005",
    "EC": "4000002180000000",
    "MX": "4000004840008001",
    "PA": "4000005910000000",
    "PY": "4000006000000066",
    "PE": "4000006040000068",
    "UY": "4000008580000003",
    # Europe and the Middle East
    "AE": "4000007840000001",
    "AT": "4000000400000008",
    "BE": "4000000560000004",
    "DE": "4000002760000016",
    "DK": "4000002080000001",
    "ES": "4000007240000007",
    "FI": "4000002460000001",
    "FR": "4000002500000003",
    "GB": "4000008260000000",
    "IE": "4000003720000005",
    "IT": "4000003800000008",
    "NL": "4000005280000002",
    "NO": "4000005780000007",
    "PL": "4000006160000005",
    "PT": "4000006200000007",
    "SE": "4000007520000008",
    "CH": "4000007560000009",
    # Asia Pacific
    "AU": "4000000360000006",
    "HK": "4000003440000004",
    "IN": "4000003560000008",
    "JP": "4000003920000003",
    "NZ": "4000005540000008",
    "SG": "4000007020000003",
}
TEST_CARDS.update({number: TestCard("visa", "credit", country) for country, number in COUNTRY_CARDS.items()})

# Declining cards that can still be attached to a customer (they fail when charged later).
ATTACHABLE_DECLINES = frozenset({"4000000000000341"})
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_us": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_chargeCustomerFail": "4000000000000341",
    **{f"pm_card_{country.lower()}": number for country, number in COUNTRY_CARDS.items()},
}
# decline_code -> (error code, message)
DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "lost_card": ("card_declined", "Your card was declined."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
    "test_mode_live_card": (
        "card_declined",
        "Your card was declined. Your request was in test mode, but used a non test card. "
        "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
    ),
}
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def fingerprint(number: str) -> str:
    """A stable 16-character fingerprint per card number (the same card always gets the same one)."""
    digest = hashlib.sha256(b"stripe-standin:" + number.encode()).digest()
    return "".join(_ALNUM[b % 62] for b in digest[:16])


def dynamic_last4(number: str) -> str:
    """The last four digits of the wallet's device account number for ``number``: stable per card
    and, as on a real phone, not the card's own last four."""
    digest = hashlib.sha256(b"stripe-standin-wallet:" + number.encode()).digest()
    last4 = f"{int.from_bytes(digest[:4], 'big') % 10_000:04d}"
    return last4 if last4 != number[-4:] else f"{(int(last4) + 1) % 10_000:04d}"


def luhn_ok(number: str) -> bool:
    """True if ``number`` passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    """The card network a number's prefix names."""
    if number.startswith("4"):
        return "visa"
    if re.match(r"5[1-5]|2[2-7]", number):
        return "mastercard"
    if number[:2] in ("34", "37"):
        return "amex"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def card_for(number: str) -> TestCard:
    """What ``number`` is and does; an unlisted number is a live card, declined in test mode."""
    return TEST_CARDS.get(number) or TestCard(brand_of(number), "credit", "US", "test_mode_live_card")
