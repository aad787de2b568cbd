"""The donor side's languages (docs/i18n.md): English, the catalogs' source, and Spanish.

Catalogs are written with Babel at build time (`make messages`); at run time the committed
compiled `.mo` files are read with the standard library's `gettext`, lazily, once per container
and locale. Nothing here is imported at cold start.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import gettext as _gettext

Locale = Literal["en", "es"]
LOCALES: tuple[str, ...] = get_args(Locale)
DEFAULT = "en"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def pick(*candidates: object) -> str:
    """The first of `candidates` (a `?lang=`, then a page's or a person's locale) that is one of
    ours, else English. Anything else (a typo, `fr`) is ignored, never an error."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.lower() in LOCALES:
            return candidate.lower()
    return DEFAULT


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> _gettext.NullTranslations:
    """English is the msgids themselves; another locale reads its compiled catalog (the stdlib's
    gettext, imported here: nothing of it at cold start)."""
    import gettext as _gettext

    if locale == DEFAULT or locale not in LOCALES:
        return _gettext.NullTranslations()
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fp:
        return _gettext.GNUTranslations(fp)


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def N_(message: str) -> str:
    return message


MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))


def long_date(locale: str, day: date) -> str:
    """A day as a receipt states it: `January 2, 2027`, or `2 de enero de 2027`."""
    _ = translations(locale).gettext
    return _("{month} {day}, {year}").format(month=_(MONTHS[day.month - 1]), day=day.day, year=day.year)


def moment(locale: str, when: datetime) -> str:
    """A UTC instant as a donor page writes it: `December 3, 2026 at 5:00 PM UTC`, or
    `3 de diciembre de 2026, 17:00 UTC`."""
    _ = translations(locale).gettext
    utc = when.astimezone(timezone.utc)
    hour12 = utc.hour % 12 or 12
    time = _("{hour12}:{minute} {ampm}").format(hour12=hour12, hour24=f"{utc.hour:02d}",
                                                 minute=f"{utc.minute:02d}",
                                                 ampm="AM" if utc.hour < 12 else "PM")
    return _("{month} {day}, {year} at {time} UTC").format(
        month=_(MONTHS[utc.month - 1]), day=utc.day, year=utc.year, time=time)
