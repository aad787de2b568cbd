"""Build the OpenAPI 3.1 document of the whole API into `chalicelib/api/openapi.json`.

    python -m devtools.openapi          # rewrite the committed document (`make openapi`)
    python -m devtools.openapi --check  # exit 1 if it is out of date (the test suite checks too)

Paths and methods come from the app's own route table (`app.routes`), request bodies from the
pydantic models the routes validate with (`model_json_schema`), and what each route means, who
may call it and what it answers from the table below. A route missing from the table is still
listed, with its view's docstring, so the document never omits a route; describe it here.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devtools.stack import ROOT

DOCUMENT = ROOT / "chalicelib" / "api" / "openapi.json"

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
HTML = "text/html"


@dataclass(frozen=True)
class Op:
    summary: str
    tag: str
    ok: int = 200
    ok_body: dict[str, Any] | None = None  # schema of the 2xx JSON body (None: an object)
    html: bool = False  # the 2xx answer is an HTML page
    # A JSON download for a signed-in browser; signed out, a 303 to the page (which a client
    # following redirects reads as that HTML page).
    download: bool = False
    errors: str = JSON  # the media type of error answers (JSON error body, or an HTML page)
    roles: tuple[str, ...] = ()  # staff roles (besides admin); empty: no staff key needed
    body: str | None = None  # the pydantic model of the JSON request body
    form: dict[str, Any] | None = None  # schema of a urlencoded form body
    raw_body: bool = False  # a body read as-is (signed webhooks), any JSON
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: tuple[int, ...] = ()  # other answers, besides the 2xx and 400/404/413/503
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)


OBJECT: dict[str, Any] = {"type": "object"}
RSVP_FORM: dict[str, Any] = {"type": "object", "properties": {
    "response": {"type": "string", "enum": ["yes", "no", "confirm", "cancel"]},
    "share_contact": {"type": "string", "enum": ["yes"]}}}
JOIN_FORM: dict[str, Any] = {"type": "object", "properties": {
    **{name: {"type": "string", "maxLength": n} for name, n in (
        ("first_name", 100), ("email", 254), ("zip", 10), ("phone", 30), ("refcode", 64))},
    "invitations": {"type": "string", "enum": ["yes"]},
    "sms_opt_in": {"type": "string", "enum": ["yes"]}}}
SLUG = {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"}
TOKEN = {"type": "string", "description": "a signed link token (base64url payload and HMAC)"}
CENTS_QUERY = {"type": "string", "description": "an amount in integer cents to preselect"}
DAY = {"type": "string", "description": "a UTC day, YYYY-MM-DD"}
STARTED = {
    "type": "object", "required": ["donation_id", "status", "amount_cents"],
    "properties": {"donation_id": {"type": "string"}, "status": {"type": "string"},
                   "amount_cents": {"type": "integer"}, "client_secret": {"type": "string"},
                   "publishable_key": {"type": "string"}},
}
WEBHOOK_ANSWER = {
    "type": "object", "required": ["received"],
    "properties": {"received": {"type": "boolean"}, "outcome": {"type": "string"}},
}

ROUTES: dict[tuple[str, str], Op] = {
    ("GET", "/api/health"): Op("Readiness: the API answers and its storage is reachable", "public",
                               ok_body={"type": "object", "properties": {"ok": {"type": "boolean"}}}),
    ("GET", "/api/openapi.json"): Op("This document", "public"),
    ("GET", "/api/pages/{slug}"): Op(
        "A donation page with live totals, as this visitor sees it (A/B variant, a returning "
        "donor's ladder with `t`, `amount` preselected)", "public",
        query={"amount": CENTS_QUERY, "t": TOKEN}),
    ("GET", "/api/pages/{slug}/progress"): Op(
        "The thermometer and the clock (raised, count, goal, seconds left, status), the same for "
        "every visitor (cached for seconds at the edge)", "public"),
    ("POST", "/api/pages/{slug}/visits"): Op(
        "The page's beacon: counts the visitor of the `gs_vid` cookie once for their variant's "
        "impression and once per refcode (never cached; nothing counted without the cookie)",
        "public", body="VisitBeacon"),
    ("POST", "/api/pages/{slug}/donations"): Op(
        "Start a donation: a pending contribution and its PaymentIntent (limits and velocity "
        "checked first; the same idempotency_key returns the same donation)", "public",
        ok=201, ok_body=STARTED, body="DonationRequest", status=(409, 422, 429)),
    ("POST", "/api/express/donations"): Op(
        "Express giving: charge the donor's saved card once per link, after they confirmed the "
        "amount (the page's own committee and election; the ZIP code on file above the step-up "
        "amount; a few a day)", "public",
        ok=201, ok_body=STARTED, body="ExpressRequest", status=(403, 409, 410, 422, 429)),
    ("POST", "/api/express/revoke"): Op(
        "Revoke every express link of the donor an express or donor token names", "public",
        body="RevokeRequest", status=(410,),
        ok_body={"type": "object", "properties": {"revoked": {"type": "boolean"},
                                                  "revoked_at": {"type": "string"}}}),
    ("POST", "/api/portal/link"): Op(
        "Email a single-use link to the donor's portal (`/me`) if the address gave; the same 202 "
        "whether or not it did (at most one email per donor every PORTAL_LINK_GAP_SECONDS)",
        "public", ok=202, body="PortalLinkRequest", status=(429,),
        ok_body={"type": "object", "properties": {"status": {"type": "string", "enum": ["accepted"]}}}),
    ("GET", "/me"): Op("The donor portal (HTML): with `t`, the emailed link's sign-in button (uses "
                       "nothing up); signed in, the donor's own giving; else the form to ask for a link",
                       "portal", html=True, errors=HTML, status=(410,), query={"t": TOKEN}),
    ("POST", "/me/link"): Op("Ask for a portal link from the page (a form post; CSRF double-submit)",
                             "portal", ok=303, errors=HTML, status=(403, 429),
                             form={"type": "object", "properties": {"email": {"type": "string"}}}),
    ("POST", "/me/signin"): Op("Use the emailed link up and start a portal session (cookie `gs_portal`)",
                               "portal", ok=303, errors=HTML, status=(403, 410),
                               form={"type": "object", "properties": {"t": TOKEN}}),
    ("POST", "/me/logout"): Op("End the portal session", "portal", ok=303, errors=HTML, status=(403,),
                               form=OBJECT),
    ("GET", "/me/data.json"): Op("The donor's data as a JSON download (signed in; else 303 to /me)",
                                 "portal", download=True, errors=HTML, status=(303,)),
    ("POST", "/me/receipts/{donation_id}/resend"): Op(
        "Email the receipt of one of the donor's own contributions again (through the outbox)",
        "portal", ok=303, errors=HTML, status=(403,), form=OBJECT),
    ("POST", "/me/consents/invitations"): Op(
        "Give (`given=yes`) or withdraw the invitations consent from the portal", "portal", ok=303,
        errors=HTML, status=(403,),
        form={"type": "object", "properties": {"given": {"type": "string", "enum": ["yes", "no"]}}}),
    ("POST", "/me/consents/sharing"): Op(
        "Give (`given=yes`) or withdraw the consent to share the donor's contact with allied campaigns",
        "portal", ok=303, errors=HTML, status=(403,),
        form={"type": "object", "properties": {"given": {"type": "string", "enum": ["yes", "no"]}}}),
    ("POST", "/me/consents/texts/stop"): Op(
        "Withdraw the texts consent from the portal, as a STOP reply does (nothing when not given; "
        "turned on again only by START or a gift's texts box)", "portal", ok=303, errors=HTML,
        status=(403,), form=OBJECT),
    ("POST", "/me/express/revoke"): Op("Stop every express link sent to the donor so far", "portal",
                                       ok=303, errors=HTML, status=(403,), form=OBJECT),
    ("POST", "/me/monthly/{subscription_id}/amount"): Op(
        "A new amount (dollars) for one of the donor's monthly gifts, within what the law still allows "
        "for the election the next renewal counts toward (400 above it, nothing changed; 404 not theirs)",
        "portal", ok=303, errors=HTML, status=(400, 403, 404, 409),
        form={"type": "object", "properties": {"amount": {"type": "string"}}}),
    ("POST", "/me/monthly/{subscription_id}/day"): Op(
        "A new charge day (1-28): the next charge moves to it, nothing extra is charged",
        "portal", ok=303, errors=HTML, status=(400, 403, 404, 409),
        form={"type": "object", "properties": {"day": {"type": "string"}}}),
    ("POST", "/me/card"): Op(
        "A SetupIntent for a new card on every running monthly gift, and the page whose Payment "
        "Element confirms it (409 with no running gift); `subscription`, one of the donor's gifts, "
        "names the Stripe customer whose gifts it is for (default: the newest gift's)", "portal",
        ok=200, html=True, errors=HTML, status=(403, 409),
        form={"type": "object", "properties": {"subscription": {"type": "string"}}}),
    ("POST", "/me/card/apply"): Op(
        "Put the confirmed SetupIntent's card on the customer and every running monthly gift",
        "portal", ok=303, errors=HTML, status=(400, 403),
        form={"type": "object", "properties": {"setup_intent": {"type": "string"}}}),
    ("POST", "/me/monthly/{subscription_id}/pause"): Op(
        "Pause a monthly gift (Stripe's pause_collection, void)", "portal", ok=303, errors=HTML,
        status=(403, 404, 409), form=OBJECT),
    ("POST", "/me/monthly/{subscription_id}/resume"): Op(
        "Resume a paused monthly gift", "portal", ok=303, errors=HTML, status=(403, 404, 409), form=OBJECT),
    ("POST", "/me/monthly/{subscription_id}/end"): Op(
        "An end date (YYYY-MM-DD, after today, not after the committee's recurring_ends_at)",
        "portal", ok=303, errors=HTML, status=(400, 403, 404, 409),
        form={"type": "object", "properties": {"ends_on": {"type": "string"}}}),
    ("POST", "/webhooks/stripe"): Op(
        "Stripe's signed events, applied exactly once (no call back to Stripe); a 5xx asks Stripe "
        "to deliver again", "webhooks", ok_body=WEBHOOK_ANSWER, raw_body=True),
    ("POST", "/webhooks/ses"): Op(
        "SES bounces and complaints through SNS (signature checked against SNS's certificate)",
        "webhooks", ok_body=WEBHOOK_ANSWER, raw_body=True, status=(403,)),
    ("POST", "/webhooks/sms"): Op(
        "Inbound texts (STOP, HELP, START) through SNS, signature checked as SES's; each SNS "
        "MessageId acted on once", "webhooks", ok_body=WEBHOOK_ANSWER, raw_body=True, status=(403,)),
    ("POST", "/api/signups"): Op(
        "Sign up to take part; the same answer whether or not the address is known (a few an "
        "hour per IP and per /24 or IPv6 /64)", "public",
        ok=202, body="SignupRequest", status=(429,)),
    ("GET", "/join/{slug}"): Op("A page's signup form for people who have not given (HTML): name, "
                                "email, ZIP, phone, the texts box and its disclosure, the invitations "
                                "consent; reads only", "pages", html=True, errors=HTML,
                                query={"refcode": {"type": "string"}}),
    ("POST", "/join/{slug}"): Op(
        "Sign up from the form (what POST /api/signups does; bad input answers the form with its "
        "errors and writes nothing)", "pages", html=True, errors=HTML, status=(429,), form=JOIN_FORM),
    ("POST", "/api/signups/confirm/{token}"): Op("Confirm a signup (double opt-in)", "public",
                                                  raw_body=True, status=(410,)),
    ("POST", "/api/invitations/{token}/rsvp"): Op(
        "Answer an invitation: yes (a full action waitlists), no, confirm or cancel", "public",
        body="RsvpRequest", status=(409, 410), form=RSVP_FORM),
    ("POST", "/api/host/{token}/checkin"): Op(
        "The host checks someone in (`attended`)", "public", body="CheckInRequest", status=(409, 410)),
    ("POST", "/api/host/{token}/walkins"): Op(
        "The host adds someone who came without an invitation", "public", ok=201,
        body="WalkInRequest", status=(410,)),
    ("POST", "/api/unsubscribe/{token}"): Op(
        "One-click unsubscribe (RFC 8058 `List-Unsubscribe-Post` target; any body)", "public",
        raw_body=True, status=(410,)),
    ("GET", "/donate/{slug}"): Op("The donation page (HTML); its script sends `refcode` with its "
                                  "beacon", "pages", html=True, errors=HTML,
                                  query={"amount": CENTS_QUERY, "t": TOKEN, "refcode": {"type": "string"}}),
    ("GET", "/embed/{slug}"): Op("The donation form for another site's frame (HTML), framed only by "
                                 "the page's `embed_origins` (docs/embed.md)", "pages", html=True,
                                 errors=HTML,
                                 query={"amount": CENTS_QUERY, "t": TOKEN, "refcode": {"type": "string"}}),
    ("GET", "/donate/{slug}/thanks"): Op("The thank-you page (HTML); Stripe's redirect adds "
                                         "`payment_intent` and `redirect_status`", "pages", html=True,
                                         errors=HTML,
                                         query={"donation_id": {"type": "string"},
                                                "redirect_status": {"type": "string"},
                                                "payment_intent": {"type": "string"},
                                                "payment_intent_client_secret": {"type": "string"}}),
    ("GET", "/express/{slug}"): Op("Express giving's confirmation step (HTML); charges nothing",
                                   "pages", html=True, errors=HTML, status=(403, 410),
                                   query={"t": TOKEN, "amount": CENTS_QUERY}),
    ("GET", "/assets/{name}"): Op("The pages' scripts", "pages", html=True,
                                  path_params={"name": {"type": "string",
                                                        "enum": ["donate.js", "thanks.js", "express.js"]}}),
    ("GET", "/c/{token}"): Op("A monthly gift and a button to cancel it (the link in every "
                              "receipt; opening it changes nothing)", "pages", html=True,
                              errors=HTML, status=(410,)),
    ("POST", "/c/{token}"): Op("Cancel a monthly gift at once (the page's button)", "pages",
                               html=True, errors=HTML, status=(410,), form=OBJECT),
    ("GET", "/redesignation/{token}"): Op(
        "The part of an excessive gift presumed to be for the next election, and a button to have it "
        "refunded instead (the notice's link; opening it changes nothing)", "pages", html=True,
        errors=HTML, status=(409, 410)),
    ("POST", "/redesignation/{token}"): Op(
        "Refund the redesignated part instead (the page's button; once, however often posted)",
        "pages", html=True, errors=HTML, status=(409, 410), form=OBJECT),
    ("GET", "/reattribution/{token}"): Op(
        "The donor's form to reattribute part of a held excess to another holder of the card "
        "account (the notice's link; opening it changes nothing)", "pages", html=True,
        errors=HTML, status=(409, 410)),
    ("POST", "/reattribution/{token}"): Op(
        "Name the other card holder and the amount (at most what is held); emails them their "
        "own link, once; nothing moves yet", "pages", html=True, errors=HTML, status=(409, 410),
        form={"type": "object", "properties": {
            "first_name": {"type": "string", "maxLength": 200},
            "last_name": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "maxLength": 254},
            "amount": {"type": "string", "maxLength": 12}}}),
    ("GET", "/reattribution/confirm/{token}"): Op(
        "The other card holder's form to confirm their part with their own details (their "
        "link; opening it changes nothing)", "pages", html=True, errors=HTML, status=(410,)),
    ("POST", "/reattribution/confirm/{token}"): Op(
        "Confirm: the amount moves from the donor's aggregate to theirs within their limit "
        "(422 past it), once however often posted", "pages", html=True, errors=HTML,
        status=(409, 410, 422), form={"type": "object", "properties": {
            k: {"type": "string", "maxLength": 254} for k in (
                "first_name", "last_name", "email", "line1", "line2", "city", "state", "zip",
                "employer", "occupation", "us_citizen_or_permanent_resident", "own_funds",
                "not_federal_contractor", "personal_card")}}),
    ("GET", "/e/{token}"): Op("The best-efforts form: a donor adds employer and occupation (HTML); "
                              "records nothing", "pages", html=True, errors=HTML, status=(410,)),
    ("POST", "/e/{token}"): Op("Record a best-efforts answer from its page (a form post)", "pages",
                               html=True, errors=HTML, status=(410,),
                               form={"type": "object", "properties": {
                                   "employer": {"type": "string", "maxLength": 200},
                                   "occupation": {"type": "string", "maxLength": 200}}}),
    ("POST", "/api/employment/{token}"): Op(
        "A donor's employer and occupation (JSON), from the best-efforts link", "public",
        status=(410,), raw_body=True),
    ("GET", "/i/{token}"): Op("An invitation, with the answers its state allows (HTML)", "pages",
                              html=True, errors=HTML, status=(410,)),
    ("POST", "/i/{token}"): Op("Answer an invitation from its page (a form post)", "pages",
                               html=True, errors=HTML, status=(409, 410), form=RSVP_FORM),
    ("GET", "/f/{token}"): Op("How was it? Five ratings, one tap each (HTML); records nothing",
                              "pages", html=True, errors=HTML, status=(410,),
                              query={"rating": {"type": "string", "enum": ["1", "2", "3", "4", "5"]}}),
    ("POST", "/f/{token}"): Op("Record an attendee's rating from its page (a form post)", "pages",
                               html=True, errors=HTML, status=(409, 410), form={
                                   "type": "object", "properties": {"rating": {
                                       "type": "string", "enum": ["1", "2", "3", "4", "5"]}}}),
    ("POST", "/f/{token}/host"): Op("Offer to host one (after a 4 or 5): a proposed action",
                                    "pages", html=True, errors=HTML, status=(409, 410), form={
                                        "type": "object", "properties": {
                                            "title": {"type": "string"},
                                            "description": {"type": "string"}}}),
    ("GET", "/support/{token}"): Op("A donor's form to start their own page under a campaign page "
                                    "(HTML; opening it writes nothing)", "pages", html=True,
                                    errors=HTML, status=(409, 410)),
    ("POST", "/support/{token}"): Op(
        "Start one's own page from the form (`goal` in dollars); 201 with the page's address",
        "pages", ok=201, html=True, errors=HTML, status=(409, 410), form={
            "type": "object", "properties": {k: {"type": "string"} for k in (
                "display_name", "handle", "goal", "note")}}),
    ("POST", "/api/supporters"): Op(
        "Start one's own page under a campaign page with a start link's token: live at once where "
        "the campaign allows it, else pending an organizer's approval", "public", ok=201,
        body="SupporterPageRequest", status=(409, 410)),
    ("GET", "/h/{token}"): Op("The host's page: roster, check-in, walk-ins (HTML)", "pages",
                              html=True, errors=HTML, status=(410,)),
    ("POST", "/h/{token}"): Op("Check in or add a walk-in from the host's page (a form post)",
                               "pages", html=True, errors=HTML, status=(409, 410), form={
                                   "type": "object", "properties": {
                                       "op": {"type": "string", "enum": ["checkin", "walkin"]},
                                       "invitation_id": {"type": "string"}}}),
    ("GET", "/u/{token}"): Op("What unsubscribing does, and its button (HTML; opening it "
                              "changes nothing)", "pages", html=True, errors=HTML, status=(410,)),
    ("POST", "/u/{token}"): Op("Unsubscribe from the page's button (a form post)", "pages",
                               html=True, errors=HTML, status=(410,), raw_body=True),
    ("GET", "/r/{code}"): Op("A supporter's share link: 302 to their page with their refcode",
                             "pages", ok=302, errors=HTML),
    ("GET", "/s/{token}"): Op("A signup's confirmation page, with a button (HTML)", "pages", html=True,
                              errors=HTML, status=(410,)),
    ("POST", "/s/{token}"): Op("Confirm a signup from its page (a form post)", "pages", html=True,
                               errors=HTML, status=(410,), form=OBJECT),
    # Staff.
    ("POST", "/api/admin/pages"): Op("Create a donation page", "staff", ok=201, body="PageCreate",
                                     roles=("organizer",), status=(409,)),
    ("GET", "/api/admin/pages"): Op("List pages", "staff", roles=("organizer",)),
    ("GET", "/api/admin/pages/{slug}"): Op("One page", "staff", roles=("organizer",)),
    ("PUT", "/api/admin/pages/{slug}"): Op("Update the given fields of a page", "staff",
                                           body="PageUpdate", roles=("organizer",), status=(409,)),
    ("GET", "/api/admin/pages/{slug}/history"): Op("Changes to a page's deadline and goal", "staff",
                                                   roles=("organizer",)),
    ("GET", "/api/admin/pages/{slug}/results"): Op("A page's A/B test results", "staff",
                                                   roles=("organizer",)),
    ("GET", "/api/admin/pages/{slug}/supporters"): Op(
        "The leaderboard of a campaign page's supporter pages, most raised first", "staff",
        roles=("organizer",), query={"limit": {"type": "string"}, "after": {"type": "string"},
                                     "status": {"type": "string", "enum": ["pending", "live", "declined"]}}),
    ("POST", "/api/admin/pages/{slug}/approve"): Op(
        "Approve a pending supporter page: it goes live", "staff", roles=("organizer",), status=(409,)),
    ("POST", "/api/admin/pages/{slug}/decline"): Op(
        "Decline a pending supporter page: it never goes live", "staff", roles=("organizer",),
        status=(409,)),
    ("GET", "/api/admin/donations/{donation_id}"): Op(
        "One donation; the donor's contact details for finance only", "staff",
        roles=("organizer", "finance")),
    ("POST", "/api/admin/contributions"): Op(
        "Enter a check, cash, a wire, an in-kind or an earmarked (conduit) gift received: "
        "recorded succeeded at once "
        "(designation, limit, aggregates and ledger as online; cash over $100 per person per "
        "election and anonymous cash over $50 are 422 with the rule; the same idempotency_key "
        "returns the same donation)",
        "staff", ok=201, body="OfflineContribution", roles=("finance",), status=(409, 422)),
    ("POST", "/api/admin/contributions/import"): Op(
        "Import a CSV file of offline contributions (header in docs/reports.md, at most "
        "IMPORT_MAX_ROWS rows): every row checked with the single entry's rules and the limits "
        "across the file, each error with its line; dry_run (default true) writes nothing; "
        "dry_run=false records each row once (idempotent per row), 422 while any row has errors",
        "staff", raw_body=True, roles=("finance",), status=(422,),
        query={"dry_run": {"type": "string", "enum": ["true", "false"]}}),
    ("PUT", "/api/admin/deposits/{batch}"): Op(
        "Declare (or correct) a bank deposit's total from its slip; answers the deposit with "
        "reconciled true only when its entries add up to it to the cent", "staff",
        body="DepositDeclaration", roles=("finance",),
        path_params={"batch": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}}),
    ("GET", "/api/admin/deposits/{batch}"): Op(
        "A deposit: the gifts entered with its deposit_batch, their total, the declared total "
        "and reconciled", "staff", roles=("finance",),
        path_params={"batch": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}}),
    ("PUT", "/api/admin/committees/{committee_id}"): Op(
        "Set a committee's type and limits", "staff", body="CommitteeInput", roles=("finance",),
        path_params={"committee_id": {"type": "string", "pattern": "^C[0-9]{8}$"}}),
    ("GET", "/api/admin/committees/{committee_id}"): Op("One committee", "staff", roles=("finance",)),
    ("GET", "/api/admin/committees"): Op("List committees", "staff", roles=("finance",)),
    ("POST", "/api/exports"): Op("Request an export (runs off the request path)", "staff", ok=202,
                                 body="ExportRequest", roles=("finance",)),
    ("GET", "/api/exports/{export_id}"): Op("An export's status and download links", "staff",
                                            roles=("finance",)),
    ("POST", "/api/admin/actions"): Op("Create an action (event, phonebank, canvass…)", "staff",
                                       ok=201, body="ActionCreate", roles=("organizer",)),
    ("GET", "/api/admin/actions"): Op(
        "List actions (`status=proposed`: supporters' offers waiting for approval)", "staff",
        roles=("organizer",), query={"status": {"type": "string", "enum": [
            "proposed", "declined", "active", "closed"]}}),
    ("POST", "/api/admin/actions/{action_id}/approve"): Op(
        "Approve a supporter's proposed action (it opens; they get their host link)", "staff",
        roles=("organizer",), status=(409,)),
    ("POST", "/api/admin/actions/{action_id}/decline"): Op(
        "Decline a supporter's proposed action (they are told)", "staff", roles=("organizer",),
        status=(409,)),
    ("GET", "/api/admin/actions/{action_id}"): Op("An action with its invitations and RSVPs", "staff",
                                                  roles=("organizer",)),
    ("PUT", "/api/admin/actions/{action_id}"): Op("Update the given fields of an action", "staff",
                                                  body="ActionUpdate", roles=("organizer",),
                                                  status=(409,)),
    ("GET", "/api/admin/donors/{donor_id}"): Op(
        "A donor's participation; contact details for finance only", "staff",
        roles=("organizer", "finance")),
    ("GET", "/api/admin/reports/refcodes"): Op(
        "Per refcode: donations, amount, visitors, conversion", "staff", roles=("organizer", "finance"),
        query={"page": SLUG, "committee_id": {"type": "string", "pattern": "^C[0-9]{8}$"},
               "from": DAY, "to": DAY}),
    ("GET", "/api/admin/reports/participation"): Op(
        "The participation funnel of an action (distinct people invited, RSVP yes, confirmed, "
        "attended, hosted or raised), or of a page and refcode's donors in a range of UTC days "
        "(donors first; docs/participation.md)", "staff", roles=("organizer", "finance"),
        query={"action_id": {"type": "string"}, "page_slug": SLUG, "refcode": {"type": "string"},
               "from": DAY, "to": DAY}, status=(404,)),
    ("GET", "/api/admin/payouts"): Op(
        "Stripe payouts, newest first, with what reconciliation found", "staff", roles=("finance",),
        query={"limit": {"type": "integer", "minimum": 1, "maximum": 500}}),
    ("GET", "/api/admin/payouts/{payout_id}"): Op(
        "One payout: sums by type and the transactions that did not match", "staff",
        roles=("finance",)),
    ("POST", "/api/admin/reports"): Op(
        "Build a report to the FEC (Form 3 or 3X) for a period of the committee's filing calendar, "
        "off the request path; asking again rebuilds a draft", "staff", ok=202,
        body="ReportRequest", roles=("finance",), status=(409,),
        ok_body={"type": "object", "properties": {"report_id": {"type": "string"},
                                                  "status": {"type": "string"}}}),
    ("GET", "/api/admin/reports"): Op(
        "A committee's reports and amendments, newest first (status, form, counts of "
        "errors and warnings)", "staff", roles=("finance",),
        query={"committee_id": {"type": "string", "pattern": "^C[0-9]{8}$"}}),
    ("GET", "/api/admin/reports/{report_id}"): Op(
        "A report: status (building, draft, final, failed), form, every summary line of columns A "
        "and B in dollars, rows per schedule line, errors and warnings", "staff", roles=("finance",)),
    ("POST", "/api/admin/reports/{report_id}/finalize"): Op(
        "Sign and freeze a draft as reviewed (409 while errors remain)", "staff",
        body="FinalizeRequest", roles=("finance",), status=(409,)),
    ("GET", "/api/admin/reports/{report_id}/file"): Op(
        "Presigned links to a final report's .fec and JSON Lines files", "staff",
        roles=("finance",), status=(409,),
        ok_body={"type": "object", "properties": {"fec_url": {"type": "string"},
                                                  "jsonl_url": {"type": "string"},
                                                  "expires_at": {"type": "string"}}}),
    ("POST", "/api/admin/reports/{report_id}/amend"): Op(
        "Amend a final report (F3A/F3XA naming the original filing's FEC id), built off the "
        "request path with the same transaction ids", "staff", ok=202, body="AmendRequest",
        roles=("finance",), status=(409,)),
    ("GET", "/api/admin/notices"): Op(
        "48-hour notices (Form 6), newest day first: the contributions of one local day for one "
        "election, when each is due and when it was filed", "staff", roles=("finance",),
        query={"committee_id": {"type": "string", "pattern": "^C[0-9]{8}$"}}),
    ("GET", "/api/admin/notices/{notice_id}/file"): Op(
        "A presigned link to the notice's .fec file (F6 and one F65 per contribution)", "staff",
        roles=("finance",), status=(409,),
        ok_body={"type": "object", "properties": {"fec_url": {"type": "string"},
                                                  "expires_at": {"type": "string"}}}),
    ("POST", "/api/admin/notices/{notice_id}/filed"): Op(
        "Record that the notice was filed with the FEC (once)", "staff", roles=("finance",),
        raw_body=True, status=(409,)),
    ("GET", "/api/admin/reviews"): Op(
        "Contributions with signals of prohibited money, waiting for a decision (oldest first, "
        "paged by `after`)", "staff", roles=("finance",),
        query={"limit": {"type": "string", "description": "1 to 100 (default 20)"},
               "after": {"type": "string", "description": "the `after` of the previous page"}}),
    ("POST", "/api/admin/reviews/{donation_id}"): Op(
        "Decide a review: accept the contribution, or refund what is left of it (once, through "
        "the outbox)", "staff", body="ReviewDecision", roles=("finance",), status=(409,)),
}

ERROR = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "stable, machine-readable"},
            "message": {"type": "string", "description": "for people"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "the offending fields (dotted paths) and what is wrong"},
        },
    }},
}
STATUS_TEXT = {
    400: "Malformed or invalid", 401: "No or unknown staff key", 403: "Wrong role",
    303: "Not signed in: to the page", 404: "Not found", 409: "Conflict", 410: "Expired link",
    413: "Body over 64 KB", 415: "Not a form post",
    422: "Refused by a rule (e.g. over the contribution limit, card declined)",
    429: "Rate limited (Retry-After)", 503: "Try again (storage or the payment provider)",
}


def request_models() -> dict[str, Any]:
    """The pydantic models routes validate request bodies with, by name."""
    from chalicelib.compliance.input import CommitteeInput, ReviewDecision
    from chalicelib.exports.input import ExportRequest
    from chalicelib.fec_reports.input import AmendRequest, FinalizeRequest, ReportRequest
    from chalicelib.followups.input import (
        ActionCreate,
        ActionUpdate,
        CheckInRequest,
        RsvpRequest,
        SignupRequest,
        WalkInRequest,
    )
    from chalicelib.giving.express import ExpressRequest, RevokeRequest
    from chalicelib.giving.intake import DonationRequest
    from chalicelib.giving.offline import DepositDeclaration, OfflineContribution
    from chalicelib.pages.input import PageCreate, PageUpdate, SupporterPageRequest, VisitBeacon
    from chalicelib.portal.input import PortalLinkRequest

    models = (DonationRequest, ExpressRequest, RevokeRequest, PageCreate, PageUpdate, CommitteeInput,
              ExportRequest, ActionCreate, ActionUpdate, RsvpRequest, SignupRequest, VisitBeacon,
              ReportRequest, FinalizeRequest, AmendRequest, ReviewDecision, CheckInRequest,
              WalkInRequest, PortalLinkRequest, OfflineContribution, DepositDeclaration,
              SupporterPageRequest)
    return {m.__name__: m for m in models}


def _schemas() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    models = request_models()
    _, top = models_json_schema([(m, "validation") for m in models.values()],
                                ref_template="#/components/schemas/{model}")
    return {**dict(sorted(top.get("$defs", {}).items())), "Error": ERROR}


def _describe(method: str, view: Any) -> Op:
    """A route nobody described yet: listed from its view, so the document omits nothing."""
    doc = (view.__doc__ or view.__name__).strip().split("\n\n")[0]
    return Op(" ".join(doc.split()), "undescribed", raw_body=method in ("POST", "PUT"))


def _operation(method: str, path: str, op: Op, operation_id: str,
               content_types: list[str]) -> dict[str, Any]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": op.path_params.get(name, {"type": "string", "minLength": 1})}
              for name in _path_params(path)]
    params += [{"name": name, "in": "query", "required": False, "schema": schema}
               for name, schema in op.query.items()]
    operation: dict[str, Any] = {"operationId": operation_id, "summary": op.summary, "tags": [op.tag]}
    if params:
        operation["parameters"] = params
    if op.roles:
        operation["security"] = [{"staffKey": []}]
        operation["x-roles"] = [*op.roles, "admin"]
    body = _request_body(op, content_types)
    if body:
        operation["requestBody"] = body
    responses: dict[str, Any] = {str(op.ok): _ok(op)}
    statuses = {400, 404, 413, 503, *op.status}
    if op.form is not None and not op.body and not op.raw_body:
        statuses.add(415)  # a form route refuses any other media type before its view runs
    if op.roles:
        statuses |= {401, 403}
    for status in sorted(statuses):
        if status == 303:
            responses["303"] = {"description": STATUS_TEXT[303],
                                "headers": {"Location": {"schema": {"type": "string"}}}}
            continue
        media = op.errors
        responses[str(status)] = {"description": STATUS_TEXT[status],
                                  "content": {media: {"schema": {"$ref": "#/components/schemas/Error"}}
                                              if media == JSON else {"schema": {"type": "string"}}}}
    operation["responses"] = responses
    return operation


def _ok(op: Op) -> dict[str, Any]:
    if op.ok in (302, 303):  # a redirect (303: see the result of a form's POST), no body to read
        return {"description": "Redirect", "headers": {"Location": {"schema": {"type": "string"}}}}
    if op.download:
        return {"description": "A download (JSON), or the page after the redirect", "content": {
            JSON: {"schema": OBJECT}, "text/html": {"schema": {"type": "string"}}}}
    if op.html:
        return {"description": "A page or script", "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/javascript": {"schema": {"type": "string"}}}}
    return {"description": "OK", "content": {JSON: {"schema": op.ok_body or OBJECT}}}


def _request_body(op: Op, content_types: list[str]) -> dict[str, Any] | None:
    content: dict[str, Any] = {}
    if op.body:
        content[JSON] = {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
    if op.form is not None and FORM in content_types:
        content[FORM] = {"schema": op.form}
    if op.raw_body and not content:
        for media in content_types:
            content[media] = {"schema": OBJECT if media == JSON else {"type": "string"}}
    if not content:
        return None
    return {"required": bool(op.body), "content": content}


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


# The staff console (`/admin/…`) is a browser UI of forms and pages, not an API: its routes are
# covered by the role matrix and its own tests (docs/console.md), not by this document.
CONSOLE = re.compile(r"^/admin(/|$)")


def api_routes(app: Any) -> dict[str, Any]:
    """The app's routes that make up the API (every route but the console's)."""
    return {path: methods for path, methods in app.routes.items() if not CONSOLE.match(path)}


def build(app: Any = None) -> dict[str, Any]:
    """The document for `app` (the project's app by default)."""
    if app is None:
        from app import app
    paths: dict[str, dict[str, Any]] = {}
    views = Counter(e.view_name for methods in api_routes(app).values() for e in methods.values())
    for path, methods in sorted(api_routes(app).items()):
        for method, entry in sorted(methods.items()):
            op = ROUTES.get((method, path)) or _describe(method, entry.view_function)
            operation_id = entry.view_name if views[entry.view_name] == 1 else \
                f"{entry.view_name}_{method.lower()}"
            paths.setdefault(path, {})[method.lower()] = _operation(
                method, path, op, operation_id, entry.content_types)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Groundswell",
            "version": "1",
            "description": (
                "Small-donor fundraising: donation pages, intake, Stripe's webhook, follow-ups and "
                "staff routes. Money is integer cents; times are UTC ISO 8601. Every JSON error is "
                '`{"error": {"code", "message", "fields"?}}`; HTML pages and token links answer '
                "errors with an HTML page and the same status. Deployed, every path sits below "
                "the API Gateway stage (`/api`). Generated by `make openapi` (devtools/openapi.py); "
                "do not edit by hand."),
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"staffKey": {
                "type": "http", "scheme": "bearer",
                "description": "A staff key (`python -m chalicelib.cli create-key`); the role is "
                               "checked on every route (`x-roles`)."}},
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args()
    text = render(build())
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            sys.exit(f"{DOCUMENT.relative_to(ROOT)} is out of date: run `make openapi`")
        print(f"{DOCUMENT.relative_to(ROOT)} is up to date")
        return
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)} ({len(document_paths(text))} paths)")


def document_paths(text: str) -> list[str]:
    return list(json.loads(text)["paths"])


if __name__ == "__main__":
    main()
