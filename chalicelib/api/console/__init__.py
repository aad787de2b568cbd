"""The staff console under /admin/: one blueprint, its views split by who uses them."""

from chalicelib.api.console import auth, filings, finance, organizers  # noqa: F401 - they add the routes
from chalicelib.api.console.web import console

__all__ = ["console"]
