"""The portal's request bodies."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class PortalLinkRequest(BaseModel):
    """Ask for a link to the donor's portal, emailed to the address on their donor record."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)


def amount_cents(text: str) -> int:
    """A monthly amount typed in dollars (`25`, `25.50`, `$1,000`) as integer cents."""
    from decimal import Decimal, InvalidOperation

    from chalicelib.errors import InvalidInput

    cleaned = text.strip().lstrip("$").replace(",", "")
    try:
        dollars = Decimal(cleaned)
    except InvalidOperation:
        dollars = Decimal(-1)
    if not dollars.is_finite() or dollars <= 0 or dollars != dollars.quantize(Decimal("0.01")) \
            or dollars > 1_000_000:
        raise InvalidInput("invalid_request", "Enter the monthly amount in dollars, like 25 or 25.50.",
                           fields={"amount": "dollars and cents"})
    return int(dollars * 100)


def charge_day(text: str) -> int:
    from chalicelib.errors import InvalidInput

    if not text.strip().isdigit() or not 1 <= int(text) <= 28:
        raise InvalidInput("invalid_request", "Choose a charge day from 1 to 28.", fields={"day": "1 to 28"})
    return int(text)


def end_day(text: str) -> date:
    from chalicelib.errors import InvalidInput

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("invalid_request", "Enter the end date as a date, like 2026-11-30.",
                           fields={"ends_on": "a date"}) from None
