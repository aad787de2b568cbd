"""The review queue: contributions with signals of prohibited money, for finance to judge."""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.errors import InvalidInput
from chalicelib.paging import DEFAULT_PAGE, MAX_PAGE

reviews = Blueprint(__name__)
FINANCE = ("finance",)


@reviews.route("/api/admin/reviews", methods=["GET"])
@handles_errors
def list_reviews() -> Response:
    from chalicelib.compliance.reviews import review_view

    require_staff(reviews.current_request, *FINANCE)
    params: Mapping[str, str] = reviews.current_request.query_params or {}
    raw = params.get("limit", str(DEFAULT_PAGE))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidInput("invalid_request", f"`limit` is a whole number from 1 to {MAX_PAGE}.",
                           fields={"limit": f"a whole number from 1 to {MAX_PAGE}"})
    found = deps.reviews().queue(int(raw), params.get("after") or None)
    return json_response({"reviews": [review_view(d) for d in found.items], "after": found.after})


@reviews.route("/api/admin/reviews/{donation_id}", methods=["POST"])
@handles_errors
def decide_review(donation_id: str) -> Response:
    from chalicelib.compliance.input import ReviewDecision
    from chalicelib.compliance.reviews import review_view

    staff = require_staff(reviews.current_request, *FINANCE)
    answer = validated(ReviewDecision, read_json(reviews.current_request))
    decided = deps.reviews().decide(donation_id, answer.decision, staff.name)
    return json_response(review_view(decided))
