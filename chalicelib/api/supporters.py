"""Supporters who raise (issue 16): a donor's signed link to start their own page under a
campaign page (`/support/{token}`, and `POST /api/supporters` for the same as JSON), and the
organizers' leaderboard and approval of those pages. The GET reads only."""

from __future__ import annotations

import re
from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.html import FORM, JSON, form_fields, html_errors, page
from chalicelib.api.http import STATUS, handles_errors, json_response, read_json, validated
from chalicelib.errors import DomainError, InvalidInput
from chalicelib.paging import DEFAULT_PAGE, MAX_PAGE

supporters = Blueprint(__name__)
ORGANIZERS = ("organizer",)
_DOLLARS = re.compile(r"^\$?\s*(\d{1,7})(?:\.(\d{2}))?$")


def _started(page_view: dict[str, object]) -> dict[str, object]:
    supporter = page_view["supporter"]
    assert isinstance(supporter, dict)
    return {"slug": page_view["slug"], "url": f"/donate/{page_view['slug']}", "status": supporter["status"],
            "goal_cents": page_view["goal_cents"], "parent_slug": supporter["parent_slug"]}


def _form(token: str, status: int = 200, notice: str | None = None,
          values: Mapping[str, str] | None = None, started: dict[str, object] | None = None) -> Response:
    _donor, campaign = deps.supporters().campaign_for(token)
    return page("support.html", status, campaign=campaign, notice=notice, values=values or {},
                started=started, form_action=f"/support/{token}")


@supporters.route("/support/{token}", methods=["GET"])
@html_errors
def start_form(token: str) -> Response:
    """The form to start one's page: handle, goal, name, note. Writes nothing."""
    return _form(token)


@supporters.route("/support/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def start_page_form(token: str) -> Response:
    """The form's post: the goal in dollars (`goal`), the rest as in the JSON API."""
    form = form_fields(supporters.current_request)
    goal = _DOLLARS.fullmatch((form.get("goal") or "").replace(",", "").strip())
    data: dict[str, object] = {"handle": (form.get("handle") or "").strip().lower(),
                               "display_name": form.get("display_name") or "",
                               "note": form.get("note") or "",
                               "goal_cents": int(goal[1]) * 100 + int(goal[2] or 0) if goal else None}
    try:
        started = deps.supporters().start(token, data).admin_view()
    except DomainError as err:
        if err.kind in ("invalid", "conflict") and err.code != "bad_token":
            detail = "; ".join(f"{k}: {v}" for k, v in err.fields.items())
            return _form(token, STATUS[err.kind], err.message + (f" ({detail})" if detail else ""), form)
        raise
    return _form(token, 201, started=_started(started))


@supporters.route("/api/supporters", methods=["POST"], content_types=[JSON])
@handles_errors
def start_page() -> Response:
    """`{"token", "handle", "goal_cents", "display_name", "note"?}` → 201 `{"slug", "url",
    "status" (live or pending), "goal_cents", "parent_slug"}`."""
    from chalicelib.pages.input import SupporterPageRequest

    request = validated(SupporterPageRequest, read_json(supporters.current_request))
    body = request.model_dump()
    return json_response(_started(deps.supporters().start(body.pop("token"), body).admin_view()), 201)


@supporters.route("/api/admin/pages/{slug}/supporters", methods=["GET"])
@handles_errors
def leaderboard(slug: str) -> Response:
    """`?limit=&after=&status=`: the campaign page's supporters' pages, most raised first."""
    require_staff(supporters.current_request, *ORGANIZERS)
    params: Mapping[str, str] = supporters.current_request.query_params or {}
    limit_text = params.get("limit") or str(DEFAULT_PAGE)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise InvalidInput("invalid_request", "Ask for 1 to 100 at a time.",
                           fields={"limit": f"1-{MAX_PAGE}"})
    return json_response(deps.supporters().leaderboard(slug, int(limit_text), params.get("after") or None,
                                                       params.get("status") or None))


@supporters.route("/api/admin/pages/{slug}/approve", methods=["POST"])
@handles_errors
def approve(slug: str) -> Response:
    """A pending supporter page goes live (once; 409 `not_pending` after)."""
    staff = require_staff(supporters.current_request, *ORGANIZERS)
    return json_response(deps.supporters().decide(slug, True, staff.name).admin_view())


@supporters.route("/api/admin/pages/{slug}/decline", methods=["POST"])
@handles_errors
def decline(slug: str) -> Response:
    """A pending supporter page is declined (once): it never goes live."""
    staff = require_staff(supporters.current_request, *ORGANIZERS)
    return json_response(deps.supporters().decide(slug, False, staff.name).admin_view())
