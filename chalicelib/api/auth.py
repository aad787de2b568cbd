"""Staff role checks for admin routes."""

from __future__ import annotations

from chalice.app import Request

from chalicelib import deps
from chalicelib.staff.auth import StaffKey


def require_staff(request: Request, *roles: str) -> StaffKey:
    """The calling staff key, or a 401/403 domain error (mapped by `handles_errors`)."""
    return deps.staff_auth().authorize(request.headers.get("authorization"), roles)
