"""The federal contribution limit: the one place its arithmetic lives.

Intake checks a donation against what the donor has given plus what their own email has
pending (`exposure`); the webhook checks a success against what they have actually given (`net`)."""

from __future__ import annotations

from chalicelib.errors import DomainError


class OverLimit(DomainError):
    """The gift would pass the legal limit. The public answer gives no figure: anyone can send
    a person's name and ZIP, and what that person may still give says what they gave. A donor
    sees their own remaining amount only through their own signed link (`?t=` ladders)."""

    kind = "rule"

    def __init__(self) -> None:
        super().__init__(
            "over_limit",
            "This contribution would pass the legal limit on what one person may give to this "
            "committee for this election or year.",
            fields={"amount_cents": "over the legal limit"},
        )


def remaining_cents(limit_cents: int, counted_cents: int) -> int:
    """How much more the donor may give in this period."""
    return max(limit_cents - counted_cents, 0)


def excess_cents(limit_cents: int, net_after_cents: int, contribution_cents: int) -> int:
    """The part of a successful contribution over the limit, to be refunded (never more than
    the contribution itself)."""
    return min(max(net_after_cents - limit_cents, 0), contribution_cents)
