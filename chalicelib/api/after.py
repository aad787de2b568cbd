"""After the event, from the link in the after-event email: "How was it?" (`/f/{token}`: the
GET shows five buttons, a POST records one) and, after a 4 or a 5, the offer to host one
(`POST /f/{token}/host`), which goes to the organizers' approval queue."""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.html import FORM, JSON, form_fields, html_errors, page
from chalicelib.api.http import STATUS, validated
from chalicelib.errors import DomainError

after = Blueprint(__name__)


def _feedback(token: str, status: int = 200, notice: str | None = None, proposed: bool = False,
              chosen: str | None = None) -> Response:
    service = deps.after()
    invitation, action = service.attendance(token)
    return page("feedback.html", status, action=action, invitation=invitation, notice=notice,
                 offer=service.offers_hosting(invitation) and not proposed, proposed=proposed,
                 chosen=chosen, form_action=f"/f/{token}")


@after.route("/f/{token}", methods=["GET"])
@html_errors
def feedback_page(token: str) -> Response:
    """Shows the five ratings (the one tapped in the email preselected); records nothing."""
    params: Mapping[str, str] = after.current_request.query_params or {}
    chosen = params.get("rating")
    return _feedback(token, chosen=chosen if chosen in ("1", "2", "3", "4", "5") else None)


@after.route("/f/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def rate(token: str) -> Response:
    from chalicelib.followups.input import RatingRequest

    form = form_fields(after.current_request)
    rating = validated(RatingRequest, {"rating": int(form["rating"])}
                       if form.get("rating", "").isdigit() else form)
    try:
        deps.after().rate(token, rating.rating)
    except DomainError as err:
        if err.kind == "conflict":
            return _feedback(token, STATUS[err.kind], err.message)
        raise
    return _feedback(token)


@after.route("/f/{token}/host", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def propose(token: str) -> Response:
    from chalicelib.followups.input import ProposalRequest

    proposal = validated(ProposalRequest, form_fields(after.current_request))
    try:
        deps.after().propose(token, proposal)
    except DomainError as err:
        if err.kind == "conflict":
            return _feedback(token, STATUS[err.kind], err.message)
        raise
    return _feedback(token, proposed=True)
