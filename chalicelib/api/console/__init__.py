"""The staff console under /admin/: one blueprint, its views split by who uses them."""

from chalicelib.api.console import (  # noqa: F401 - they add the routes
    auth,
    deposits,
    filings,
    finance,
    organizers,
    proposals,
    receipts,
    supporters,
)
from chalicelib.api.console.web import console

__all__ = ["console"]
