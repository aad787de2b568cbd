"""Card-testing defence: velocity limits per IP, email and card, in fixed time windows.

Card testers run hundreds of small declined attempts; a real office or campus behind one
address never gives 300 times in ten minutes. Declines are counted per IP, email and card
fingerprint when Stripe reports them (the IP and email are kept with the donation at intake);
intake is refused (429) once an IP or email has too many declines, or an IP too many intakes.
The previous window counts in proportion to its overlap, so a burst cannot straddle a boundary.

Intake is not the only door: one intake's PaymentIntent can be confirmed again and again with
card after card. So each decline also counts on the donation itself, and once a donation has
`declines_per_donation` declines, or the declined card has `declines_per_card` in the window,
its PaymentIntent is cancelled (through the outbox) and the donation ends `failed` with
`card_testing`. IPv6 addresses are counted by their /64: one host gets a whole /64 to rotate in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.errors import DomainError
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure

# The one event that counts as a decline (Stripe sends it for each failed confirmation).
DECLINE_EVENT = "payment_intent.payment_failed"
CARD_TESTING = "card_testing"
CANCEL_KIND = "cancel_card_testing"
# Pending donations are counted per IP in hour-long windows (PENDING_PER_IP per hour).
PENDING_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class VelocityLimits:
    window_seconds: int = 600
    declines_per_ip: int = 5
    declines_per_email: int = 5
    declines_per_card: int = 5
    intakes_per_ip: int = 300
    declines_per_donation: int = 3
    pending_per_ip: int = 20


class RateLimited(DomainError):
    kind = "rate_limited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("rate_limited",
                         "Too many attempts from here recently. Please wait a few minutes and try again.",
                         extra={"retry_after": retry_after_seconds})


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:24]


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address (an IPv4-mapped IPv6 address as its IPv4), or None if it is not one."""
    try:
        address = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def ip_bucket(ip: str) -> str:
    """The address as it is counted: IPv4 as it is, IPv6 by its /64 (one subscriber is given a
    whole /64 to rotate through). Anything unparseable counts as written."""
    address = _address(ip)
    if address is None:
        return ip.strip().lower()
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _ip(ip: str) -> str:
    return _digest(ip_bucket(ip))


def window(now: datetime, limits: VelocityLimits) -> int:
    return int(now.timestamp()) // limits.window_seconds


def decline_keys(ip: str | None, email: str | None, card: str | None, window_n: int) -> list[str]:
    """Counter keys a decline increments (values hashed: keys carry no PII)."""
    keys = []
    if ip:
        keys.append(f"decline#ip#{_ip(ip)}#{window_n}")
    if email:
        keys.append(f"decline#email#{_digest(email)}#{window_n}")
    if card:
        keys.append(f"decline#card#{card}#{window_n}")
    return keys


def intake_key(ip: str, window_n: int) -> str:
    return f"intake#ip#{_ip(ip)}#{window_n}"


def pending_key(ip: str, created_at: datetime) -> str:
    """The counter of pending donations from this address in the hour `created_at` falls in:
    intake adds one, the donation's leaving `pending` takes it off again."""
    return f"pending#ip#{_ip(ip)}#{int(created_at.timestamp()) // PENDING_WINDOW_SECONDS}"


def card_keys(fingerprint: str, now: datetime, limits: VelocityLimits) -> tuple[str, str]:
    """The card's decline counters for this window and the one before."""
    w = window(now, limits)
    return f"decline#card#{fingerprint}#{w}", f"decline#card#{fingerprint}#{w - 1}"


def weighted(counts: Mapping[str, int], key_now: str, key_before: str, now: datetime,
             limits: VelocityLimits) -> float:
    """Count in the sliding window ending now: this window plus the overlapping part of the last."""
    elapsed = (int(now.timestamp()) % limits.window_seconds) / limits.window_seconds
    return counts.get(key_now, 0) + counts.get(key_before, 0) * (1 - elapsed)


def check_declines(counts: Mapping[str, int], ip: str, email: str, now: datetime,
                   limits: VelocityLimits) -> None:
    """Refuse intake when this IP or email has declined too often recently."""
    w = window(now, limits)
    for kind, value, cap in (("ip", _ip(ip), limits.declines_per_ip),
                             ("email", _digest(email), limits.declines_per_email)):
        key_now = f"decline#{kind}#{value}#{w}"
        key_before = f"decline#{kind}#{value}#{w - 1}"
        if weighted(counts, key_now, key_before, now, limits) >= cap:
            raise RateLimited(retry_after(now, limits))


def lookup_keys(ip: str, email: str, now: datetime, limits: VelocityLimits) -> list[str]:
    """Every counter intake reads: declines per IP and email, and intakes per IP."""
    w = window(now, limits)
    keys = [f"decline#{kind}#{value}#{n}" for kind, value in (("ip", _ip(ip)), ("email", _digest(email)))
            for n in (w, w - 1)]
    hour_before = now - timedelta(seconds=PENDING_WINDOW_SECONDS)
    return [*keys, intake_key(ip, w), intake_key(ip, w - 1), pending_key(ip, now),
            pending_key(ip, hour_before)]


@dataclass(frozen=True)
class CounterAdd:
    """One more on a velocity counter, written in the intake's own transaction: on condition
    that the counter holds at most `at_most` (so concurrent intakes cannot together pass a cap
    that each one's read allowed; past it, 429 with `retry_after`), kept until `expires_at`."""

    key: str
    at_most: int
    expires_at: datetime
    retry_after: int


def _room(cap: int, counted_before: float) -> int:
    """The most this window's counter may hold for one more to stay under `cap`, when the
    previous window still counts `counted_before` (count + before < cap, counts whole)."""
    return math.ceil(cap - counted_before) - 1


def intake_counters(counts: Mapping[str, int], ip: str, now: datetime,
                    limits: VelocityLimits) -> tuple[CounterAdd, CounterAdd]:
    """What an intake from `ip` adds, given the counters read (`lookup_keys`): one more intake
    in this window (`intakes_per_ip`), and one more of the address's donations pending in this
    hour (`pending_per_ip`; the donation's leaving `pending` takes it off again)."""
    w = window(now, limits)
    elapsed = (int(now.timestamp()) % limits.window_seconds) / limits.window_seconds
    hour = PENDING_WINDOW_SECONDS
    into_hour = int(now.timestamp()) % hour
    intakes_before = counts.get(intake_key(ip, w - 1), 0) * (1 - elapsed)
    pending_before = max(counts.get(pending_key(ip, now - timedelta(seconds=hour)), 0), 0) \
        * (1 - into_hour / hour)
    return (
        CounterAdd(intake_key(ip, w), _room(limits.intakes_per_ip, intakes_before),
                   now + timedelta(seconds=2 * limits.window_seconds), retry_after(now, limits)),
        CounterAdd(pending_key(ip, now), _room(limits.pending_per_ip, pending_before),
                   now + timedelta(seconds=2 * hour), hour - into_hour),
    )


def intake_counter_keys(ip: str, created_at: datetime, limits: VelocityLimits) -> tuple[str, str]:
    """The counters an intake at `created_at` added to (`intake_counters`): what taking its
    donation back (Stripe turned the payment away) takes one off again."""
    return intake_key(ip, window(created_at, limits)), pending_key(ip, created_at)


def check_intake(counts: Mapping[str, int], ip: str, email: str, now: datetime,
                 limits: VelocityLimits) -> tuple[CounterAdd, CounterAdd]:
    """Refuse intake past the decline caps, past the (high) intake cap for one IP, or with
    `pending_per_ip` donations from this IP still pending in the last hour; else what the
    intake adds to its counters (the same caps, as the transaction's conditions)."""
    check_declines(counts, ip, email, now, limits)
    adds = intake_counters(counts, ip, now, limits)
    for add in adds:
        if max(counts.get(add.key, 0), 0) > add.at_most:  # a pending count may dip below 0
            raise RateLimited(add.retry_after)
    return adds


def retry_after(now: datetime, limits: VelocityLimits) -> int:
    return limits.window_seconds - int(now.timestamp()) % limits.window_seconds


# --- signups: a confirmation email per signup, so a flood is mail sent on our name --------------
@dataclass(frozen=True)
class SignupLimits:
    window_seconds: int = 3600
    per_ip: int = 10
    per_network: int = 50


def network(ip: str) -> str:
    """The block one party controls: an IPv4 address's /24, an IPv6 address's /64 (a single
    subscriber gets at least a /64, so counting addresses inside it counts nothing)."""
    address = _address(ip)
    if address is None:
        return ip.strip().lower()
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def signup_keys(ip: str, now: datetime, limits: SignupLimits, what: str = "signup") -> list[str]:
    """Counters of this and the last window, for the address and for its network (hashed):
    `[ip now, ip before, network now, network before]`; a signup adds to the two "now" ones.
    `what` names the counted act (a signup, a portal link: each mail sent in our name)."""
    w = int(now.timestamp()) // limits.window_seconds
    return [f"{what}#{kind}#{_digest(value)}#{n}"
            for kind, value in (("ip", ip_bucket(ip)), ("net", network(ip))) for n in (w, w - 1)]


def signup_expiry(now: datetime, limits: SignupLimits) -> datetime:
    """When a window's counter may go: once it cannot count towards the next window either."""
    return now + timedelta(seconds=2 * limits.window_seconds)


def check_signup(counts: Mapping[str, int], ip: str, now: datetime, limits: SignupLimits,
                 what: str = "signup") -> None:
    """Refuse a signup past `per_ip` from the address or `per_network` from its /24 (/64) in the
    sliding window (the last window counted by its overlap, as for intake)."""
    ip_now, ip_before, net_now, net_before = signup_keys(ip, now, limits, what)
    elapsed = (int(now.timestamp()) % limits.window_seconds) / limits.window_seconds
    for key_now, key_before, cap in ((ip_now, ip_before, limits.per_ip),
                                     (net_now, net_before, limits.per_network)):
        if counts.get(key_now, 0) + counts.get(key_before, 0) * (1 - elapsed) >= cap:
            raise RateLimited(limits.window_seconds - int(now.timestamp()) % limits.window_seconds)


def card_declines(counts: Mapping[str, int], fingerprint: str, now: datetime,
                  limits: VelocityLimits) -> float:
    """The card's declines in the sliding window ending now (as read, before this one)."""
    key_now, key_before = card_keys(fingerprint, now, limits)
    return weighted(counts, key_now, key_before, now, limits)


def is_card_testing(declines_on_donation: int, declines_on_card: float, limits: VelocityLimits) -> bool:
    """Whether a decline (counted in both figures) ends the donation as card testing."""
    return (declines_on_donation >= limits.declines_per_donation
            or declines_on_card >= limits.declines_per_card)


def cancel_message(donation_id: str, payment_intent_id: str, amount_cents: int,
                   now: datetime) -> OutboxMessage:
    """The one cancellation of a card-testing donation's PaymentIntent (its id is the
    donation's, so planning it again addresses the same message)."""
    return OutboxMessage(f"{CANCEL_KIND}#{donation_id}", CANCEL_KIND, now,
                         {"donation_id": donation_id, "payment_intent_id": payment_intent_id,
                          "amount_cents": amount_cents})


class IntentCanceller(Protocol):
    def cancel_payment_intent(self, payment_intent_id: str, idempotency_key: str,
                              reason: str = "abandoned") -> object: ...
    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str: ...


def card_testing_cancel_handler(payments: IntentCanceller):  # type: ignore[no-untyped-def]
    """The handler for `cancel_card_testing` messages: cancel the PaymentIntent at Stripe (as
    `fraudulent`; the idempotency key is the donation's, so a retried message cancels once), so
    no later card can be confirmed on it. Its `payment_intent.canceled` event changes nothing
    here: the donation is already `failed`. Should a card have been confirmed on it in the
    moment before the cancellation, that payment is refunded in full (once: the refund's key is
    the donation's too); its `charge.refunded` event then nets it out."""

    def cancel(message: OutboxMessage) -> Delivered:
        payload = message.payload
        intent = payload.get("payment_intent_id")
        if not intent:
            raise PermanentFailure("no PaymentIntent to cancel")
        donation_id = payload["donation_id"]
        status = str(getattr(payments.cancel_payment_intent(
            intent, f"groundswell-card-testing-{donation_id}", reason="fraudulent"), "status", ""))
        if status == "succeeded":
            refund = payments.refund(payment_intent_id=intent, amount_cents=int(payload["amount_cents"]),
                                     reason=CARD_TESTING,
                                     idempotency_key=f"groundswell-card-testing-refund-{donation_id}")
            return Delivered(f"succeeded before the cancellation; refunded {refund}")
        return Delivered(status)

    return cancel
