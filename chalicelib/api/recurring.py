"""The one-step cancel link of a monthly gift: `/c/{token}` cancels it at once."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.http import handles_errors

recurring = Blueprint(__name__)


@recurring.route("/c/{token}", methods=["GET", "POST"])
@handles_errors
def cancel_monthly_gift(token: str) -> Response:
    from chalicelib.giving.recurring import cancel_plan
    from chalicelib.tokens import CANCEL_PLAN

    subscription_id = deps.tokens().read(token, CANCEL_PLAN)
    service = deps.giving_service()
    plan = cancel_plan(service.store, deps.stripe_gateway(), subscription_id,  # type: ignore[arg-type]
                       lambda: datetime.now(timezone.utc))
    amount = f"${plan.amount_cents / 100:,.2f}"
    body = (f"<!doctype html><html lang=en><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>Monthly gift cancelled</title><main style='max-width:34rem;margin:2rem auto;"
            f"font-family:system-ui,sans-serif'><h1>Your monthly gift is cancelled</h1>"
            f"<p role=status>Your {escape(amount)} monthly contribution will not be charged again. "
            f"Thank you for everything you have given.</p></main></html>")
    return Response(body=body, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
