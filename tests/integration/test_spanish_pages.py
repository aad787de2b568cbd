"""Donor pages in Spanish (docs/i18n.md): a page's `locale`, set through the page API, and a
visitor's `?lang=` over it; `<html lang>` follows; nothing of the catalog's English shows."""

from __future__ import annotations

import pytest

from tests.catalog_kit import english_shown
from tests.helpers import ORGANIZER_KEY, page_body, staff

pytestmark = pytest.mark.stack
SPANISH = {"title": "Rivera al Congreso", "headline": "Done antes de la medianoche", "body": "Con la gente."}


@pytest.mark.parametrize("path", ["/donate/{slug}", "/embed/{slug}"])
def test_a_spanish_page_shows_no_english_from_the_catalog(api, path: str) -> None:
    page = api.create_page(locale="es", **SPANISH)
    assert page["locale"] == "es"
    status, html = api.call("GET", path.format(slug=page["slug"]))
    assert status == 200 and '<html lang="es">' in html
    assert "Elija una cantidad" in html and "La ley federal nos exige" in html
    assert "Pagado por" in html and "Responda STOP" in html
    assert english_shown(html, "es") == []


@pytest.mark.parametrize(("query", "heading"), [
    ("", "¡Gracias!"), ("&redirect_status=processing", "procesando"),
    ("&redirect_status=failed", "no se completó")])
def test_the_thank_you_page_in_spanish(api, query: str, heading: str) -> None:
    slug = api.create_page(**SPANISH)["slug"]
    status, html = api.call("GET", f"/donate/{slug}/thanks?lang=es{query}")
    assert status == 200 and '<html lang="es">' in html and heading in html
    assert english_shown(html, "es") == []
    if "failed" in query:  # its way back keeps the language
        assert f'href="/donate/{slug}?lang=es"' in html


def test_lang_overrides_the_page_and_anything_else_is_ignored(api) -> None:
    slug = api.create_page(**SPANISH)["slug"]
    status, html = api.call("GET", f"/donate/{slug}")
    assert status == 200 and '<html lang="en">' in html and "Choose an amount" in html
    status, html = api.call("GET", f"/donate/{slug}?lang=es")
    assert status == 200 and '<html lang="es">' in html and english_shown(html, "es") == []
    status, html = api.call("GET", f"/donate/{slug}?lang=fr")
    assert status == 200 and '<html lang="en">' in html
    spanish = api.create_page(locale="es", **SPANISH)["slug"]
    status, html = api.call("GET", f"/donate/{spanish}?lang=en")
    assert status == 200 and '<html lang="en">' in html and "Elija una cantidad" not in html


def test_the_locale_is_set_on_update_and_checked(api) -> None:
    slug = api.create_page()["slug"]
    status, page = api.call("PUT", f"/api/admin/pages/{slug}", {"locale": "es"}, staff(ORGANIZER_KEY))
    assert status == 200 and page["locale"] == "es"
    status, html = api.call("GET", f"/donate/{slug}")
    assert '<html lang="es">' in html
    status, body = api.call("POST", "/api/admin/pages", page_body(locale="fr"), staff(ORGANIZER_KEY))
    assert status == 400 and "locale" in body["error"]["fields"], body
