"""A donor gives on a Spanish page end to end in Debian's chromium (issue 17): the form, the
script's own messages (a server error shown in Spanish beside its field), the gift, and the
thank-you page in Spanish, each axe-clean, `<html lang="es">` throughout."""

from __future__ import annotations

import pytest
import requests

from tests.catalog_kit import english_shown
from tests.e2e.axe import assert_accessible
from tests.e2e.test_donate_in_browser import browser, fill_card, fill_donor  # noqa: F401 - the fixture
from tests.helpers import ORGANIZER_KEY, page_body, staff

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]


def test_a_spanish_page_end_to_end(browser, live_server: str) -> None:  # noqa: F811
    body = page_body(locale="es", title="Rivera al Congreso", headline="Done antes de la medianoche",
                     body="Con la gente.")
    created = requests.post(f"{live_server}/api/admin/pages", json=body, headers=staff(ORGANIZER_KEY),
                            timeout=10)
    assert created.status_code == 201, created.text
    slug = body["slug"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-US")
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}")
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("legend", has_text="Elija una cantidad").is_visible()
    assert english_shown(page.content(), "es") == []
    assert_accessible(page, "the Spanish donation page")

    # A server-side error: the script shows the catalog's Spanish beside the field.
    page.get_by_role("button", name="$27", exact=True).click()
    fill_donor(page, "not-an-email")
    fill_card(page, "4242 4242 4242 4242")
    page.click("#submit")
    email_error = page.locator('[data-field="donor.email"]')
    email_error.filter(has_text="correo electrónico válida").wait_for(timeout=10_000)
    assert "Revise los campos" in page.locator("#form-error").inner_text()
    assert_accessible(page, "the Spanish donation page with errors")

    page.fill("#email", "jose.nunez@example.org")
    page.click("#submit")
    page.wait_for_url(f"**/donate/{slug}/thanks?**", timeout=15_000)
    assert page.get_attribute("html", "lang") == "es"
    assert "¡Gracias!" in page.locator("h1").inner_text()
    assert english_shown(page.content(), "es") == []
    assert_accessible(page, "the Spanish thank-you page")
    context.close()
