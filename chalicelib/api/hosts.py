"""A host's link: the roster, one-tap check-in and walk-ins (`/h/{token}` for the phone in the
host's hand, `/api/host/{token}/…` for the same acts as JSON). The link is the credential:
signed, naming the action and its current host; the GET reads only."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.html import FORM, JSON, form_fields, html_errors, page
from chalicelib.api.http import STATUS, handles_errors, json_response, read_json, validated
from chalicelib.errors import DomainError, InvalidInput

hosts = Blueprint(__name__)


def _desk(token: str, status: int = 200, notice: str | None = None, ok: str | None = None) -> Response:
    action, roster = deps.hosting().roster(token)
    counts = {s: sum(1 for e in roster if e.status == s) for s in ("attended", "no_show", "waitlisted")}
    expected = sum(1 for e in roster if e.status in ("yes", "confirmed"))
    return page("host.html", status, action=action, roster=roster, notice=notice, ok=ok,
                 counts=counts, expected=expected, form_action=f"/h/{token}")


@hosts.route("/h/{token}", methods=["GET"])
@html_errors
def host_page(token: str) -> Response:
    return _desk(token)


@hosts.route("/h/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def host_form(token: str) -> Response:
    """The page's buttons: `op=checkin` with `invitation_id`, or `op=walkin` with the fields."""
    from chalicelib.followups.input import CheckInRequest, WalkInRequest

    form = form_fields(hosts.current_request)
    op = form.pop("op", None)
    try:
        if op == "checkin":
            request = validated(CheckInRequest, form)
            deps.hosting().check_in(token, request.invitation_id)
            return _desk(token, ok="Checked in.")
        if op == "walkin":
            form["consent"] = form.get("consent") == "yes"  # type: ignore[assignment]
            walk_in = validated(WalkInRequest, form)
            deps.hosting().walk_in(token, walk_in)
            return _desk(token, ok=f"Welcome, {walk_in.first_name}: checked in.")
    except DomainError as err:
        if err.kind in ("invalid", "conflict", "not_found") and err.code != "action_not_found":
            detail = "; ".join(f"{k}: {v}" for k, v in err.fields.items())
            return _desk(token, STATUS[err.kind], err.message + (f" ({detail})" if detail else ""))
        raise
    raise InvalidInput("invalid_request", "Check someone in or add a walk-in.",
                       fields={"op": "checkin or walkin"})


@hosts.route("/api/host/{token}/checkin", methods=["POST"], content_types=[JSON])
@handles_errors
def check_in(token: str) -> Response:
    from chalicelib.followups.input import CheckInRequest

    request = validated(CheckInRequest, read_json(hosts.current_request))
    invitation = deps.hosting().check_in(token, request.invitation_id)
    return json_response({"invitation_id": invitation.invitation_id, "status": invitation.status})


@hosts.route("/api/host/{token}/walkins", methods=["POST"], content_types=[JSON])
@handles_errors
def walk_in(token: str) -> Response:
    from chalicelib.followups.input import WalkInRequest

    request = validated(WalkInRequest, read_json(hosts.current_request))
    invitation = deps.hosting().walk_in(token, request)
    return json_response({"invitation_id": invitation.invitation_id, "person_id": invitation.person_id,
                          "status": invitation.status}, 201)
