"""Organizers' approval queue: actions supporters offered to host (issue 16), oldest first, each
approved or declined with a form post. The same service and rules as
`GET /api/admin/actions?status=proposed` and `POST /api/admin/actions/{id}/approve|decline`."""

from __future__ import annotations

from urllib.parse import quote

from chalice.app import Response

from chalicelib import deps, logs
from chalicelib.api.console.web import (
    FORM,
    ORGANIZERS,
    console,
    field,
    form,
    params,
    redirect,
    render,
    request,
    staff_page,
)
from chalicelib.staff.signin import SignedIn

PAGE_SIZE = 20
DECISIONS = {"approve": "approved", "decline": "declined"}


@console.route("/admin/proposals", methods=["GET"])
@staff_page(ORGANIZERS)
def proposals(signed: SignedIn) -> Response:
    query = params(request())
    listed = deps.actions().proposals_page(PAGE_SIZE, query.get("after") or None)
    decided = query.get("decided")
    return render("console/proposals.html", signed, proposals=listed.items,
                  decided=deps.actions().action(decided) if decided else None,
                  next_url=f"/admin/proposals?after={listed.after}" if listed.after else None)


@console.route("/admin/proposals/{action_id}", methods=["POST"], content_types=[FORM])
@staff_page(ORGANIZERS)
def decide_proposal(signed: SignedIn, action_id: str) -> Response:
    from chalicelib.errors import InvalidInput

    decision = field(form(request()), "decision")
    if decision not in DECISIONS:
        raise InvalidInput("invalid_request", "Approve or decline: nothing else.",
                           fields={"decision": "approve or decline"})
    decided = deps.actions().review(action_id, DECISIONS[decision])
    logs.info("proposal reviewed", action_id=decided.action_id, decision=decided.review, via="console")
    return redirect(f"/admin/proposals?decided={quote(decided.action_id)}")
