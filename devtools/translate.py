"""Fill a catalog's empty entries from a dict of translations (a help for whoever writes a
batch of them, docs/i18n.md): `python -m devtools.translate es file.py`, where file.py defines
`ES = {msgid: msgstr or (singular, plural)}`. Babel (requirements-dev.txt) reads and writes the .po."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "chalicelib" / "locale"


def fill(locale: str, translations: dict[str, str | tuple[str, str]]) -> list[str]:
    """Sets each entry of `translations` (clearing its fuzzy flag); returns the msgids still
    untranslated."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in translations:
            message.string = translations[key]
            message.flags.discard("fuzzy")
    with path.open("wb") as fp:
        write_po(fp, catalog, width=0, omit_header=False, ignore_obsolete=True)
    return [str(m.id) for m in catalog
            if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]


if __name__ == "__main__":
    locale, source = sys.argv[1], sys.argv[2]
    missing = fill(locale, runpy.run_path(source)[locale.upper()])
    print("\n".join(missing) or "every entry translated")
