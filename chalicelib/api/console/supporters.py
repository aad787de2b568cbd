"""Organizers' console pages for supporters who raise (issue 16): a campaign page's leaderboard
of supporters' pages, with the Approve and Decline buttons of the pending ones."""

from __future__ import annotations

from urllib.parse import quote

from chalice.app import Response

from chalicelib import deps, logs
from chalicelib.api.console.web import (
    FORM,
    ORGANIZERS,
    console,
    params,
    redirect,
    render,
    request,
    staff_page,
)
from chalicelib.staff.signin import SignedIn

PAGE_SIZE = 25


@console.route("/admin/pages/{slug}/supporters", methods=["GET"])
@staff_page(ORGANIZERS)
def supporters(signed: SignedIn, slug: str) -> Response:
    query = params(request())
    status = query.get("status") or None
    board = deps.supporters().leaderboard(slug, PAGE_SIZE, query.get("after") or None, status)
    filter_part = f"&status={quote(status)}" if status else ""
    return render("console/supporters.html", signed, board=board, slug=slug, shown=status,
                  decided=query.get("decided"),
                  next_url=(f"/admin/pages/{slug}/supporters?after={board['after']}{filter_part}"
                            if board["after"] else None))


def _decide(signed: SignedIn, slug: str, approve: bool) -> Response:
    page = deps.supporters().decide(slug, approve, signed.staff.name)
    assert page.supporter is not None
    logs.info("supporter page decided", slug=slug, status=page.supporter.status, via="console")
    return redirect(f"/admin/pages/{page.supporter.parent_slug}/supporters?decided={quote(slug)}")


@console.route("/admin/pages/{slug}/approve", methods=["POST"], content_types=[FORM])
@staff_page(ORGANIZERS)
def approve(signed: SignedIn, slug: str) -> Response:
    return _decide(signed, slug, True)


@console.route("/admin/pages/{slug}/decline", methods=["POST"], content_types=[FORM])
@staff_page(ORGANIZERS)
def decline(signed: SignedIn, slug: str) -> Response:
    return _decide(signed, slug, False)
