"""The donor portal: `POST /api/portal/link` (always 202), and `/me`: the sign-in button of an
emailed link, then the donor's own giving in a portal session (cookie `gs_portal` on `/me`).

Every POST under /me carries a CSRF token: the session's once signed in, before that a
double-submit token (the `gs_me_login` cookie, on /me too, and the same value in the form).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib import deps, logs
from chalicelib.api.console.web import cookies, login_token, secure
from chalicelib.api.donations import client_ip
from chalicelib.api.html import FORM, form_fields, html_errors, notice, page
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.portal import input as input_
from chalicelib.portal.input import PortalLinkRequest
from chalicelib.sessions.model import Session
from chalicelib.sessions.service import csrf_ok

portal = Blueprint(__name__)

LOGIN_COOKIE = "gs_me_login"
PATH = "/me"


@portal.route("/api/portal/link", methods=["POST"])
@handles_errors
def ask_for_link() -> Response:
    """Email a link to the donor's portal if the address gave; 202 whether or not it did."""
    body = validated(PortalLinkRequest, read_json(portal.current_request))
    queued = deps.portal().request_link(body.email, client_ip(portal.current_request))
    logs.info("portal link asked", queued=queued)
    return json_response({"status": "accepted"}, 202)


def _request() -> Request:
    current = portal.current_request
    assert current is not None
    return current


def _login_token(req: Request) -> tuple[str, dict[str, str | list[str]]]:
    return login_token(req, LOGIN_COOKIE, PATH)


def _session(req: Request) -> Session | None:
    return deps.portal().current(cookies(req).get(deps.portal_sessions().kind.cookie))


def _expired_form() -> Response:
    return notice("This form has expired", "Reload the page and send the form again.", 403)


def _redirect(location: str, headers: dict[str, str | list[str]] | None = None) -> Response:
    return Response(body="", status_code=303,
                    headers={"Location": location, "Cache-Control": "no-store", **(headers or {})})


def signed_in(view: Callable[..., Response]) -> Callable[..., Response]:
    """A portal view for the session's donor: no session goes back to /me; a POST must carry
    the session's CSRF token (403 page, nothing written)."""

    @functools.wraps(view)
    @html_errors
    def wrapper(**kwargs: Any) -> Response:
        req = _request()
        session = _session(req)
        if session is None:
            return _redirect(PATH)
        if req.method == "POST" and not csrf_ok(session.csrf_token, form_fields(req).get("csrf")):
            return _expired_form()
        return view(session, **kwargs)

    return wrapper


@portal.route("/me", methods=["GET"])
@html_errors
def me() -> Response:
    """With `?t=`: the emailed link's sign-in button (nothing used up). Signed in: the donor's
    giving. Otherwise: the form to ask for a link."""
    req = _request()
    query = dict(req.query_params or {})
    if "t" in query:
        holder = deps.portal().link_holder(query["t"])  # 400 tampered, 410 expired
        token, headers = _login_token(req)
        return page("portal/link.html", headers=headers, name=holder.snapshot.first_name,
                    link=query["t"], csrf=token)
    session = _session(req)
    if session is None:
        token, headers = _login_token(req)
        return page("portal/ask.html", headers=headers, csrf=token, sent=query.get("sent") == "1")
    view = deps.portal().view(session.subject)
    return page("portal/me.html", v=view, csrf=session.csrf_token, done=query.get("done"),
                raise_offers=_raise_offers(session.subject, view.contributions))


def _raise_offers(donor_id: str, contributions: list[Any]) -> list[dict[str, object]]:
    """Their own page, or a link to start one, under the pages they gave on; never fails /me."""
    try:
        slugs = [c.page_slug for c in contributions if c.status == "succeeded" and not c.channel]
        return deps.supporters().offers(donor_id, slugs)
    except Exception as exc:
        logs.warning("supporter offers unavailable", error=type(exc).__name__)
        return []


def before_session(view: Callable[[Request, dict[str, str]], Response]) -> Callable[[], Response]:
    """A form before there is a session: its POST carries the `gs_me_login` cookie's token."""

    @functools.wraps(view)
    @html_errors
    def wrapper() -> Response:
        req = _request()
        data = form_fields(req)
        if not csrf_ok(cookies(req).get(LOGIN_COOKIE, ""), data.get("csrf")):
            return _expired_form()
        return view(req, data)

    return wrapper


@portal.route("/me/link", methods=["POST"], content_types=[FORM])
@before_session
def ask_for_link_form(req: Request, data: dict[str, str]) -> Response:
    deps.portal().request_link(data.get("email", ""), client_ip(req))
    return _redirect(f"{PATH}?sent=1")  # the same answer whether or not the address gave


@portal.route("/me/signin", methods=["POST"], content_types=[FORM])
@before_session
def sign_in(req: Request, data: dict[str, str]) -> Response:
    started = deps.portal().with_link(data.get("t", ""))
    logs.info("portal sign-in")
    https = secure(req)
    clear = f"{LOGIN_COOKIE}=; Path={PATH}; Max-Age=0; HttpOnly; SameSite=Strict"
    clear += "; Secure" if https else ""
    return _redirect(PATH, {"Set-Cookie": [deps.portal_sessions().kind.set_cookie(started.session_id, https),
                                           clear]})


@portal.route("/me/logout", methods=["POST"], content_types=[FORM])
@signed_in
def sign_out(session: Session) -> Response:
    deps.portal().sign_out(session)
    return _redirect(PATH, {"Set-Cookie": deps.portal_sessions().kind.clear_cookie(secure(_request()))})


@portal.route("/me/data.json", methods=["GET"])
@signed_in
def download(session: Session) -> Response:
    """The donor's data as a JSON file (a read: nothing changes)."""
    body = json.dumps(deps.portal().export(session.subject), indent=2)
    return Response(body=body, status_code=200, headers={
        "Content-Type": "application/json", "Cache-Control": "no-store",
        "Content-Disposition": 'attachment; filename="my-giving.json"', "X-Content-Type-Options": "nosniff"})


@portal.route("/me/receipts/{donation_id}/resend", methods=["POST"], content_types=[FORM])
@signed_in
def resend_receipt(session: Session, donation_id: str) -> Response:
    deps.portal().resend_receipt(session.subject, donation_id)
    return _redirect(f"{PATH}?done=receipt")


@portal.route("/me/express/revoke", methods=["POST"], content_types=[FORM])
@signed_in
def revoke_express(session: Session) -> Response:
    deps.portal().revoke_express(session.subject)
    return _redirect(f"{PATH}?done=express")


@portal.route("/me/consents/invitations", methods=["POST"], content_types=[FORM])
@signed_in
def set_invitations(session: Session) -> Response:
    """`given=yes` gives the invitations consent, anything else withdraws it."""
    given = form_fields(_request()).get("given") == "yes"
    deps.portal().set_invitations(session.subject, given)
    return _redirect(f"{PATH}?done=consent")


@portal.route("/me/consents/sharing", methods=["POST"], content_types=[FORM])
@signed_in
def set_sharing(session: Session) -> Response:
    """`given=yes` lets the campaign share the donor's contact with allied campaigns, anything
    else withdraws it."""
    given = form_fields(_request()).get("given") == "yes"
    deps.portal().set_sharing(session.subject, given)
    return _redirect(f"{PATH}?done=consent")


@portal.route("/me/consents/texts/stop", methods=["POST"], content_types=[FORM])
@signed_in
def stop_texts(session: Session) -> Response:
    """Withdraw the texts consent (turned on again only by START or a gift's texts box)."""
    deps.portal().stop_texts(session.subject)
    return _redirect(f"{PATH}?done=consent")


# --- monthly gifts the donor controls (giving/monthly.py) ---------------------------------
@portal.route("/me/monthly/{subscription_id}/amount", methods=["POST"], content_types=[FORM])
@signed_in
def change_amount(session: Session, subscription_id: str) -> Response:
    """A new monthly amount (dollars), within what the law still allows for the election the
    next renewal counts toward; applied at Stripe from the next renewal."""
    cents = input_.amount_cents(form_fields(_request()).get("amount", ""))
    deps.monthly_controls().change_amount(session.subject, subscription_id, cents)
    return _redirect(f"{PATH}?done=amount")


@portal.route("/me/monthly/{subscription_id}/day", methods=["POST"], content_types=[FORM])
@signed_in
def change_day(session: Session, subscription_id: str) -> Response:
    day = input_.charge_day(form_fields(_request()).get("day", ""))
    deps.monthly_controls().change_day(session.subject, subscription_id, day)
    return _redirect(f"{PATH}?done=day")


@portal.route("/me/monthly/{subscription_id}/pause", methods=["POST"], content_types=[FORM])
@signed_in
def pause_plan(session: Session, subscription_id: str) -> Response:
    deps.monthly_controls().pause(session.subject, subscription_id)
    return _redirect(f"{PATH}?done=pause")


@portal.route("/me/monthly/{subscription_id}/resume", methods=["POST"], content_types=[FORM])
@signed_in
def resume_plan(session: Session, subscription_id: str) -> Response:
    deps.monthly_controls().resume(session.subject, subscription_id)
    return _redirect(f"{PATH}?done=resume")


@portal.route("/me/monthly/{subscription_id}/end", methods=["POST"], content_types=[FORM])
@signed_in
def set_end(session: Session, subscription_id: str) -> Response:
    day = input_.end_day(form_fields(_request()).get("ends_on", ""))
    deps.monthly_controls().set_end(session.subject, subscription_id, day)
    return _redirect(f"{PATH}?done=end")


@portal.route("/me/card", methods=["POST"], content_types=[FORM])
@signed_in
def new_card(session: Session) -> Response:
    """A SetupIntent for the donor's monthly gifts and the page whose Payment Element confirms it."""
    from chalicelib.config import settings

    # One of the donor's gifts names the Stripe customer whose gifts the card goes on (none:
    # the newest gift's); anyone else's id is only ignored.
    gift = form_fields(_request()).get("subscription") or None
    setup = deps.portal().card_setup(session.subject, gift)
    if setup is None:
        return notice("No monthly gift to change", "You have no monthly gift running.", 409)
    (_, secret), count, total = setup
    return page("portal/card.html", csrf=session.csrf_token, client_secret=secret, count=count, total=total,
                publishable_key=settings().stripe_publishable_key, stripe_js_url=settings().stripe_js_url)


@portal.route("/me/card/apply", methods=["POST"], content_types=[FORM])
@signed_in
def apply_card(session: Session) -> Response:
    """The confirmed SetupIntent's card goes on the customer and every running monthly gift."""
    deps.portal().replace_card(session.subject, form_fields(_request()).get("setup_intent", ""))
    return _redirect(f"{PATH}?done=card")
