"""Errors of the filing domain (mapped to HTTP by `api/`, like every domain error)."""

from __future__ import annotations

from chalicelib.errors import InvalidInput


class PeriodNotInCalendar(InvalidInput):
    """A report code and coverage dates that are not one of the committee's reports."""


class NotEligible(InvalidInput):
    """A record asked of a committee the rule does not apply to (a Form 6 for a PAC)."""
