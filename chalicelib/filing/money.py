"""Dollars where the FEC's formats want them, from integer cents and back, exactly."""

from __future__ import annotations


def dollars(cents: int) -> float:
    """Dollars as a JSON number, exact to the cent (`2700` → `27.0`, `123456789` → `1234567.89`):
    the nearest double to cents / 100, which `cents_of` turns back into the same cents."""
    return round(cents / 100, 2)


def cents_of(amount: float | int) -> int:
    """The cents a JSON dollar amount made by `dollars` stands for."""
    return round(amount * 100)


def dollars_text(cents: int) -> str:
    """Dollars with two decimals, from integer cents without floating point (`-70` → `-0.70`)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
