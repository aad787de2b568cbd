"""The federal contribution limit: the one place its arithmetic lives.

Intake checks a donation against what the donor has given plus what their own email has
pending (`exposure`); the webhook checks a success against what they have actually given (`net`).
Both are enforced by a condition on the donor's aggregate that `ceiling` states: the store turns
a `Ceiling` into its own condition (DynamoDB's, or the in-memory twin's comparison)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Ceiling:
    """The most a donor's counter may hold before a write adds to it, for the write to keep the
    donor within the limit. A counter never written counts as zero."""

    at_most: int

    def allows(self, counted_cents: int) -> bool:
        return counted_cents <= self.at_most

    @property
    def allows_none_yet(self) -> bool:
        """Whether a donor with no counter yet (zero) passes."""
        return self.at_most >= 0


def ceiling(limit_cents: int, adding_cents: int, counted_elsewhere_cents: int = 0) -> Ceiling:
    """The one statement of the rule: counted + adding + counted elsewhere <= limit, where
    `counted` is the counter the condition is on (a reservation's exposure, a success's net)
    and `counted elsewhere` what the same person has given on another record (a donor linked
    by name and ZIP)."""
    return Ceiling(limit_cents - adding_cents - counted_elsewhere_cents)
