"""Server-rendered donor pages (jinja2, autoescaped); loaded only by the HTML routes."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.pages.model import Page

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=2)
def _env(locale: str = "en") -> Environment:
    """One environment per locale (chalicelib/i18n.py), its `{% trans %}` and `_()` reading that
    locale's catalog; `<html lang>` is the `locale` global."""
    from chalicelib import i18n

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(money=money, locale=locale)
    return env


def money(cents: int) -> str:
    """$27 or $27.50, with thousands separators."""
    dollars, rest = divmod(int(cents), 100)
    return f"${dollars:,}" + (f".{rest:02d}" if rest else "")


def render_donate(page: Page, view: dict, stripe_js_url: str, preselect_cents: int | None,
                  preview: bool = False, committee_type: str = "candidate",
                  embed_origins: list[str] | None = None, locale: str = "en") -> str:
    """The donation page as `view` (the visitor's variant and ladder) shows it; the countdown
    starts from the server's `seconds_remaining`, never from the donor's clock. A `preview` (the
    console's editor) has no scripts: nothing to pay with, nothing to load. The best-efforts
    notice states the law for the committee's type. All in `locale` (chalicelib/i18n.py)."""
    from chalicelib import i18n
    from chalicelib.compliance.best_efforts import law_notice
    from chalicelib.followups.texts import DISCLOSURE_VERSION, disclosure

    goal = int(view["goal_cents"]) or 1
    percent = min(100, round(100 * int(view["raised_cents"]) / goal, 1))
    deadline = datetime.fromisoformat(str(view["deadline"]).replace("Z", "+00:00"))
    variant = view.get("variant") or {}
    return _env(locale).get_template("donate.html").render(
        page=page, view=view, percent=percent, stripe_js_url=stripe_js_url,
        preselect=preselect_cents or 0, deadline_text=i18n.moment(locale, deadline),
        remaining_text=remaining(int(view["seconds_remaining"])),
        variant_id=variant.get("id") or "",  # the control too: its conversions count
        preview=preview, best_efforts_law=law_notice(committee_type, locale),
        sms_disclosure=disclosure(str(view.get("paid_for_by") or page.title), locale=locale),
        sms_version=DISCLOSURE_VERSION,
        # Framed by another site (/embed/{slug}): the origins its script may tell of the gift.
        embed_origins=" ".join(embed_origins) if embed_origins else "",
    )


def remaining(seconds: int) -> str:
    """Time left as the countdown shows it: `3d 04:05:06`, or `04:05:06` under a day."""
    days, rest = divmod(max(seconds, 0), 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


def render_thanks(page: Page, view: dict, share_url: str | None = None,
                  invitations: list[dict] | None = None, outcome: str = "succeeded",
                  start_url: str | None = None, locale: str = "en") -> str:
    """The thank-you page in `locale`; `outcome` (`succeeded`, `processing`, `failed`) is what
    Stripe's redirect said of the payment. Its links to the page keep a language other than the
    page's own."""
    from chalicelib import i18n

    page_url = f"/donate/{page.slug}" + ("" if locale == page.locale else f"?lang={locale}")
    return _env(locale).get_template("thanks.html").render(
        page=page, view=view, share_url=share_url, invitations=invitations or [], outcome=outcome,
        start_url=start_url, page_url=page_url, moment=lambda when: i18n.moment(locale, when))


def render_express(page: Page, view: dict, token: str, card: object, preselect_cents: int,
                   step_up_cents: int, locale: str = "en") -> str:
    """The confirmation step of express giving (nothing is charged by opening it); the ZIP code
    field shows when the amount is above `step_up_cents` (the script shows it as it changes)."""
    return _env(locale).get_template("express.html").render(
        page=page, view=view, token=token, card=card, preselect=preselect_cents,
        step_up_cents=step_up_cents, needs_zip=preselect_cents > step_up_cents)
