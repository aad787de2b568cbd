"""The donor side's message catalogs (docs/i18n.md): complete, compiled, and in step with the
strings the templates and code mark."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from gettext import GNUTranslations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo

from chalicelib import i18n
from tests.catalog_kit import ROOT, TRANSLATED, catalog, english_shown


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_entry_is_translated_and_none_is_fuzzy(locale: str) -> None:
    problems = []
    for message in catalog(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
    assert not problems, f"translate these in {locale}'s .po (then `make messages`): {problems}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_committed_mo_is_the_compiled_po(locale: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(locale))
    compiled.seek(0)
    with open(i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo", "rb") as fp:
        committed = GNUTranslations(fp)
    assert committed._catalog == GNUTranslations(compiled)._catalog, "run `make messages`"  # type: ignore[attr-defined]


def test_the_catalogs_hold_every_marked_string() -> None:
    with (ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    marked = {m[2] if isinstance(m[2], str) else m[2][0]
              for m in extract_from_dir(str(ROOT), method_map, options_map)}
    assert marked, "nothing extracted: babel.cfg reads no file"
    for locale in TRANSLATED:
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
        assert marked <= ids, f"not in {locale}'s catalog, run `make messages`: {sorted(marked - ids)}"


def test_a_locale_is_ours_or_english() -> None:
    assert i18n.pick("ES", "en") == "es"
    assert i18n.pick("fr", None, "es") == "es"
    assert i18n.pick(None, "") == "en"


def test_an_instant_in_each_language() -> None:
    when = datetime(2026, 12, 3, 17, 5, tzinfo=timezone.utc)
    assert i18n.moment("en", when) == "December 3, 2026 at 5:05 PM UTC"
    assert i18n.moment("es", when) == "3 de diciembre de 2026, 17:05 UTC"
    assert i18n.long_date("en", when.date()) == "December 3, 2026"
    assert i18n.long_date("es", when.date()) == "3 de diciembre de 2026"


def test_the_check_finds_english_left_on_a_spanish_page() -> None:
    assert english_shown("<p>Choose an amount</p><p>Elija una cantidad</p>", "es") == ["Choose an amount"]
    assert english_shown('<div aria-label="Suggested amounts"></div>', "es") == ["Suggested amounts"]
    assert english_shown("<p>Elija una cantidad</p>", "es") == []
