"""The federal contribution limit: the one place its arithmetic lives.

Intake checks a donation against what the donor has given plus what they have pending
(`exposure`); the webhook checks a success against what they have actually given (`net`)."""

from __future__ import annotations

from chalicelib.errors import DomainError


class OverLimit(DomainError):
    kind = "rule"

    def __init__(self, remaining_cents: int, limit_cents: int) -> None:
        super().__init__(
            "over_limit",
            f"This contribution would exceed the legal limit of ${limit_cents / 100:,.2f} "
            f"for this election; you can give up to ${remaining_cents / 100:,.2f} more.",
            fields={"amount_cents": "over the legal limit"},
            extra={"remaining_cents": remaining_cents},
        )
        self.remaining_cents = remaining_cents


def remaining_cents(limit_cents: int, counted_cents: int) -> int:
    """How much more the donor may give in this period."""
    return max(limit_cents - counted_cents, 0)


def excess_cents(limit_cents: int, net_after_cents: int, contribution_cents: int) -> int:
    """The part of a successful contribution over the limit, to be refunded (never more than
    the contribution itself)."""
    return min(max(net_after_cents - limit_cents, 0), contribution_cents)
