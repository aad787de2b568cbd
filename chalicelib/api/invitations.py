"""Public follow-up routes: the links in messages (invitation and RSVP, unsubscribe, signup
confirmation), share links, signups (the API and the `/join/{slug}` page), and SES's bounce and
complaint notifications.

Tokens are checked before anything is read or written: a tampered token is 400, an expired one
410, and neither changes anything. HTML pages answer with a page, the JSON API with the error
body; both call the same service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import deps, logs
from chalicelib.api.donations import client_ip
from chalicelib.api.html import FORM, JSON, form_fields, html_errors, language, notice, page
from chalicelib.api.http import STATUS, handles_errors, json_response, read_json, validated
from chalicelib.errors import DomainError, InvalidInput

invitations = Blueprint(__name__)
RESPONSES = ("yes", "no", "confirm", "cancel")

# RFC 8058 one-click unsubscribe POSTs a form (urlencoded or multipart); SNS posts text/plain.
ANY_BODY = [JSON, FORM, "multipart/form-data", "text/plain"]
# --- invitations and RSVPs ----------------------------------------------------------------------
def _invitation_page(token: str, status: int = 200, message: str | None = None) -> Response:
    from datetime import datetime, timezone

    invitation, action, position = deps.audience().invitation(token)
    locale = language(invitations.current_request, "en")  # the email's or text's link names it
    return page("invitation.html", status, locale=locale, action=action, invitation=invitation,
                notice=message, position=position, open=action.is_upcoming(datetime.now(timezone.utc)),
                form_action=f"/i/{token}" + ("" if locale == "en" else f"?lang={locale}"))


@invitations.route("/i/{token}", methods=["GET"])
@html_errors
def invitation_page(token: str) -> Response:
    """The invitation and the answers it allows now (yes/no, confirm/cancel); reads only."""
    return _invitation_page(token)


@invitations.route("/i/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def invitation_answer(token: str) -> Response:
    form = form_fields(invitations.current_request)
    response = form.get("response")
    if response not in RESPONSES:
        raise InvalidInput("invalid_request", "Answer yes, no, confirm or cancel.",
                           fields={"response": "yes, no, confirm or cancel"})
    try:
        deps.audience().rsvp(token, response, share_contact=form.get("share_contact") == "yes")
    except DomainError as err:
        if err.kind == "conflict":
            return _invitation_page(token, STATUS[err.kind], err.message)
        raise
    return _invitation_page(token)


@invitations.route("/api/invitations/{token}/rsvp", methods=["POST"], content_types=[JSON, FORM])
@handles_errors
def rsvp(token: str) -> Response:
    """`yes` (a full action waitlists: 200 `waitlisted` with `position`), `no`, `confirm`,
    `cancel` (the seat goes to the first waiting, in the same write)."""
    from chalicelib.followups.input import RsvpRequest

    request = invitations.current_request
    body = form_fields(request) if (request.headers.get("content-type") or "").startswith(FORM) \
        else read_json(request)
    answer = validated(RsvpRequest, body)
    invitation, action, position = deps.audience().rsvp(token, answer.response,
                                                         share_contact=answer.share_contact)
    view: dict[str, Any] = {
        "invitation_id": invitation.invitation_id, "status": invitation.status,
        "action": {k: v for k, v in action.view().items()
                   if k not in ("pages", "created_at", "updated_at", "active", "waiting", "host")},
    }
    if position is not None:
        view["position"] = position
    return json_response(view)


# --- unsubscribe ---------------------------------------------------------------------------------
@invitations.route("/u/{token}", methods=["GET"])
@html_errors
def unsubscribe_page(token: str) -> Response:
    """What the link will do, and a button: opening it changes nothing (scanners open links)."""
    deps.audience().check_unsubscribe(token)
    locale = language(invitations.current_request, "en")  # the email's link names it
    return page("unsubscribe.html", locale=locale,
                form_action=f"/u/{token}" + ("" if locale == "en" else f"?lang={locale}"))


@invitations.route("/u/{token}", methods=["POST"], content_types=ANY_BODY)
@html_errors
def unsubscribe_form(token: str) -> Response:
    from chalicelib.i18n import translations

    deps.audience().unsubscribe(token, "unsubscribe_page")
    locale = language(invitations.current_request, "en")
    _ = translations(locale).gettext
    return notice(_("You are unsubscribed from invitations"),
                  _("You will get no more invitations or reminders from us. Receipts for your gifts "
                    "still come. Thank you for all you have done."), locale=locale)


@invitations.route("/api/unsubscribe/{token}", methods=["POST"], content_types=ANY_BODY)
@handles_errors
def unsubscribe(token: str) -> Response:
    deps.audience().unsubscribe(token, "one_click")
    return json_response({"unsubscribed": True})


# --- share links ---------------------------------------------------------------------------------
@invitations.route("/r/{code}", methods=["GET"])
@html_errors
def share_link(code: str) -> Response:
    target = deps.audience().share_target(code)
    return Response(body="", status_code=302, headers={
        "Location": deps.audience().link(target), "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer"})


# --- signups -------------------------------------------------------------------------------------
@invitations.route("/api/signups", methods=["POST"])
@handles_errors
def signup() -> Response:
    from chalicelib.followups.input import SignupRequest

    request = invitations.current_request
    data = validated(SignupRequest, read_json(request))
    queued = deps.audience().signup(data, client_ip(request))
    logs.info("signup", confirmation_queued=queued)
    # The same answer whether or not the address is known or a confirmation went out.
    return json_response({"status": "accepted"}, 202)


# --- the signup page: /api/signups as a form, for people who have not given ------------------------
JOIN_FIELDS = ("first_name", "email", "zip", "phone", "refcode")


def _join_page(slug: str, status: int = 200, values: dict[str, str] | None = None,
               errors: dict[str, str] | None = None) -> Response:
    from chalicelib.followups.texts import disclosure

    found, paid_for_by = deps.page_service().sponsor(slug)
    return page("join.html", status, page=found, paid_for_by=paid_for_by, form_action=f"/join/{slug}",
                sms_disclosure=disclosure(paid_for_by), values=values or {}, errors=errors or {})


# What the form says of a field the signup refused (the API's messages name patterns).
JOIN_ERRORS = {"first_name": "Give your first name, in 100 characters or fewer.",
               "email": "Give your email address, like name@example.org.",
               "zip": "Give a 5-digit ZIP code.",
               "phone": "Give a phone number, like (312) 555-0142.",
               "refcode": "This link's referral code is not valid."}


def _join_error(field: str, why: str) -> str:
    if field == "phone" and "sms_opt_in" in why:
        return "To get texts, give a mobile number that can receive them (or untick the texts box)."
    return JOIN_ERRORS.get(field, why)


@invitations.route("/join/{slug}", methods=["GET"])
@html_errors
def join_page(slug: str) -> Response:
    """The signup form of a page (`?refcode=` carried to the signup); reads only."""
    params: Mapping[str, str] = invitations.current_request.query_params or {}
    refcode = params.get("refcode")
    return _join_page(slug, values={"refcode": refcode} if refcode else None)


@invitations.route("/join/{slug}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def join(slug: str) -> Response:
    """Sign up from the page's form: what `POST /api/signups` does (the same service, the same
    202-style answer whether or not the address is known); bad input answers the form again,
    with each field's error, and writes nothing."""
    from chalicelib.followups.input import SignupRequest

    request = invitations.current_request
    deps.page_service().sponsor(slug)  # an unknown page is a 404 page before anything is read
    values = form_fields(request)
    body: dict[str, Any] = {k: values[k] for k in JOIN_FIELDS if values.get(k, "").strip()}
    body.update(page=slug, sms_opt_in=values.get("sms_opt_in") == "yes")
    errors: dict[str, str] = {}
    try:
        data = validated(SignupRequest, body)
    except InvalidInput as err:
        errors = {name: _join_error(name, why) for name, why in (
            (k.split(".")[0], v) for k, v in err.fields.items())}
    if values.get("invitations") != "yes":
        errors["invitations"] = "Tick this box to get invitations."
    if errors:  # every field's error at once
        return _join_page(slug, 400, values, errors)
    queued = deps.audience().signup(data, client_ip(request))
    logs.info("signup", confirmation_queued=queued, form="join")
    return notice("Check your inbox", "If this address is new to us, an email is on its way: open "
                  "its link to confirm, and the invitations start.")


@invitations.route("/s/{token}", methods=["GET"])
@html_errors
def confirm_page(token: str) -> Response:
    from chalicelib import tokens

    deps.tokens().read(token, tokens.CONFIRM)  # refuse a bad link before showing a button
    return page("confirm.html", form_action=f"/s/{token}")


@invitations.route("/s/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def confirm_form(token: str) -> Response:
    deps.audience().confirm_signup(token)
    return notice("You are in!", "Watch your inbox for invitations to take part near you.")


@invitations.route("/api/signups/confirm/{token}", methods=["POST"], content_types=ANY_BODY)
@handles_errors
def confirm_signup(token: str) -> Response:
    person = deps.audience().confirm_signup(token)
    return json_response({"confirmed": True, "subscribed": person.invitable})


# --- SES feedback over SNS -----------------------------------------------------------------------
def sns_body(raw: str | bytes | None) -> Any:
    """An SNS POST's JSON body, before its signature is checked (400 when it is not JSON)."""
    try:
        return json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_json", "The request body is not valid JSON.") from None


@invitations.route("/webhooks/ses", methods=["POST"], content_types=ANY_BODY)
@handles_errors
def ses_webhook() -> Response:
    verified = deps.sns_verifier().verify(sns_body(invitations.current_request.raw_body))
    kind = verified["Type"]
    if kind == "SubscriptionConfirmation":
        deps.sns_verifier().confirm_subscription(verified)
        logs.info("sns subscription confirmed", topic=verified.get("TopicArn"))
        return json_response({"received": True, "outcome": "subscribed"})
    if kind != "Notification":
        return json_response({"received": True, "outcome": "ignored"})
    try:
        notification = json.loads(verified["Message"])
    except (ValueError, TypeError):
        return json_response({"received": True, "outcome": "ignored"})
    alarm = deps.audience().record_alarm(notification)  # the alarms topic, if subscribed
    if alarm is not None:
        return json_response({"received": True, "outcome": alarm})
    suppressed = deps.audience().record_feedback(notification)
    return json_response({"received": True, "outcome": "recorded", "suppressed": suppressed})
