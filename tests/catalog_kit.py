"""The donor side's catalogs as tests read them (docs/i18n.md): Babel (a dev tool) parses the
.po; `english_shown` finds the catalog's English still on a page rendered in another language."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from chalicelib import i18n

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [locale for locale in i18n.LOCALES if locale != i18n.DEFAULT]


def po_path(locale: str) -> Path:
    return i18n.LOCALE_DIR / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fp:
        return read_po(fp, locale=locale)


class _Text(HTMLParser):
    """What a reader (or a screen reader) meets: text nodes, the attributes read aloud, and the
    values of a JSON script's messages (what the page's script shows); no code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.script: str | None = None  # inside a script: its type

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [v for k, v in attrs if k in ("aria-label", "title", "alt", "placeholder") and v]
        if tag in ("script", "style"):
            self.script = dict(attrs).get("type") or tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.script = None

    def handle_data(self, data: str) -> None:
        if self.script is None:
            self.parts.append(data)
        elif self.script == "application/json":
            self.parts += _strings(json.loads(data))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _pieces(msgid: str) -> list[str]:
    """The literal words of a msgid, between its placeholders and tags."""
    parts = re.split(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>", msgid)
    return [" ".join(p.split()) for p in parts if len(p.strip()) >= 4]


def english_shown(html: str, locale: str) -> list[str]:
    """Each catalog entry whose English shows on `html` (a page in `locale`), ignoring those whose
    translation is the English itself."""
    text = shown_text(html)
    found = []
    for message in catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            for piece in _pieces(msgid):
                if any(piece in s for s in strings):
                    continue
                if re.search(r"(?<!\w)" + re.escape(piece) + r"(?!\w)", text):
                    found.append(msgid)
    return found
