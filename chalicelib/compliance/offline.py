"""Rules for contributions received off the donation pages (checks, cash, wires): the one home
of the cash limits and of the instant a `received_on` local date stands for.

52 U.S.C. 30123 / 11 CFR 110.4(c): no person may give more than $100 in currency per election
(the sum of that person's cash for it), and an anonymous cash contribution over $50 must not be
kept. Both are refused at entry (422, the rule named); nothing is written."""

from __future__ import annotations

from datetime import date, datetime, timezone

from chalicelib.compliance.elections import local_midnight
from chalicelib.errors import DomainError

CASH_LIMIT_CENTS = 10_000
ANONYMOUS_CASH_LIMIT_CENTS = 5_000
CASH_RULE = "11 CFR 110.4(c)(1): cash from one person is limited to $100 per election"
ANONYMOUS_CASH_RULE = "11 CFR 110.4(c)(3): anonymous cash is limited to $50"


class CashOverLimit(DomainError):
    kind = "rule"

    def __init__(self) -> None:
        super().__init__("cash_over_limit", "This cash would take the person's cash for this "
                         "election over $100; take it as a check instead.",
                         fields={"amount_cents": "over the $100 cash limit per election"},
                         extra={"rule": CASH_RULE, "limit_cents": CASH_LIMIT_CENTS})


class AnonymousCashOverLimit(DomainError):
    kind = "rule"

    def __init__(self) -> None:
        super().__init__("anonymous_cash_over_limit",
                         "Anonymous cash over $50 cannot be accepted.",
                         fields={"amount_cents": "anonymous cash is limited to $50"},
                         extra={"rule": ANONYMOUS_CASH_RULE,
                                "limit_cents": ANONYMOUS_CASH_LIMIT_CENTS})


class AnonymousNotRecorded(DomainError):
    kind = "rule"

    def __init__(self) -> None:
        super().__init__("anonymous_not_recorded",
                         "Anonymous contributions are not recorded here yet; only cash of $50 "
                         "or less may be kept, and it must be entered with the donor unknown "
                         "once that is supported.", fields={"donor": "required"},
                         extra={"rule": ANONYMOUS_CASH_RULE})


def check_anonymous(method: str, amount_cents: int) -> None:
    """An entry without a donor: anonymous cash over $50 is refused by rule; anything else
    anonymous cannot be recorded (yet)."""
    if method == "cash" and amount_cents > ANONYMOUS_CASH_LIMIT_CENTS:
        raise AnonymousCashOverLimit()
    raise AnonymousNotRecorded()


def cash_scope(limit_scope: str, election: str) -> str:
    """The counter of one person's cash for one election (per election even for a PAC, whose
    contribution limit is per year)."""
    committee = limit_scope.split("#", 1)[0]
    return f"cash#{committee}#{election}"


def received_at(day: date, time_zone: str) -> datetime:
    """The UTC instant stored for a gift received on the committee's local date `day`: the
    start of that local day (so `local_date` of it gives `day` back, and the ledger's UTC day
    index, period filters and designation all see the day the treasurer entered)."""
    return local_midnight(day, time_zone).astimezone(timezone.utc)
