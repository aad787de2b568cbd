"""Emails (HTML and plain text) and the token pages, rendered with jinja2 (autoescaped HTML).

Imported only when a message is delivered or a token page is shown, never on the webhook path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from chalicelib.followups.model import Action, OutgoingEmail
from chalicelib.i18n import N_

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KIND_NAMES = {"event": N_("Event"), "phonebank": N_("Phone bank"), "canvass": N_("Canvass"),
              "host": N_("Host a gathering"), "share": N_("Share"), "custom": N_("Take action")}


def money(cents: int) -> str:
    dollars, rest = divmod(int(cents), 100)
    return f"${dollars:,}" + (f".{rest:02d}" if rest else "")


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).strftime("%A, %B %-d at %-I:%M %p UTC")


def where(action: Action) -> str:
    if action.virtual:
        return N_("Online")
    if action.location:
        return f"{action.location.city}, {action.location.state}"
    return ""


@lru_cache(maxsize=6)
def _env(kind: str, locale: str = "en") -> Environment:
    """`text` (emails' plain part: not escaped, nothing there is HTML), `html` (emails), `page`
    (token pages, which extend the donor pages' base.html and its optional blocks); each with
    `locale`'s catalog for `{% trans %}` and `_()` (chalicelib/i18n.py, docs/i18n.md)."""
    from chalicelib import i18n

    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=False if kind == "text" else select_autoescape(["html"], default=True),
                      undefined=ChainableUndefined if kind == "page" else StrictUndefined,
                      trim_blocks=kind == "text", lstrip_blocks=kind == "text",
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    _ = i18n.translations(locale).gettext
    env.globals.update(
        money=money, locale=locale,
        when=when if locale == i18n.DEFAULT else lambda moment: moment and i18n.moment(locale, moment),
        where=lambda action: _(where(action)) if action.virtual else where(action),
        kind_name=lambda kind: _(KIND_NAMES[kind]) if kind in KIND_NAMES else None)
    return env


@dataclass(frozen=True)
class InvitationLink:
    """One invitation as a message shows it."""

    action: Action
    url: str


def compose(template: str, subject: str, *, to: str, message_id: str, unsubscribe_url: str,
            locale: str = "en", **context: Any) -> OutgoingEmail:
    """`email/{template}.html` and `.txt` rendered with the same context, in `locale`."""
    context = {**context, "subject": subject, "unsubscribe_url": unsubscribe_url}
    html = _env("html", locale).get_template(f"email/{template}.html").render(**context)
    text = _env("text", locale).get_template(f"email/{template}.txt").render(**context)
    return OutgoingEmail(to=to, subject=subject, html=html, text=text,
                         unsubscribe_url=unsubscribe_url, message_id=message_id)


def render_email(template: str, **context: Any) -> tuple[str, str]:
    """`email/{template}.html` and `.txt` for a transactional message (no list, no unsubscribe)."""
    html = _env("html").get_template(f"email/{template}.html").render(**context)
    text = _env("text").get_template(f"email/{template}.txt").render(**context)
    return html, text


def render_page(template: str, locale: str = "en", **context: Any) -> str:
    """A token page (`/i/…`, `/u/…`, `/c/…`) in the donation pages' look, in `locale`."""
    return _env("page", locale).get_template(template).render(**context)
