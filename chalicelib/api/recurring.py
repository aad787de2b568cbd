"""A monthly gift's cancel link: `GET /c/{token}` shows the gift and a button, the button's
`POST` cancels it at once. Opening a link never acts (mail scanners open every link)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.html import html_errors, language, notice, page
from chalicelib.followups.compose import money

recurring = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"


@recurring.route("/c/{token}", methods=["GET"])
@html_errors
def cancel_page(token: str) -> Response:
    plan = deps.monthly_gifts().plan_for(token)
    locale = language(recurring.current_request, "en")  # the receipt's link names it
    return page("cancel.html", locale=locale, amount=money(plan.amount_cents),
                cancelled=plan.status == "canceled",
                form_action=f"/c/{token}" + ("" if locale == "en" else f"?lang={locale}"))


@recurring.route("/c/{token}", methods=["POST"], content_types=[FORM, "application/json"])
@html_errors
def cancel_monthly_gift(token: str) -> Response:
    from chalicelib.i18n import translations

    plan = deps.monthly_gifts().cancel(token)
    locale = language(recurring.current_request, "en")
    _ = translations(locale).gettext
    return notice(_("Your monthly gift is cancelled"),
                  _("Your {amount} monthly contribution will not be charged again. "
                    "Thank you for everything you have given.").format(amount=money(plan.amount_cents)),
                  locale=locale)
