"""The donor portal in Debian's chromium: from the emailed link's button to the donor's own
giving, each page axe-clean at desktop and phone widths; the link works once."""

from __future__ import annotations

import pytest

from tests.e2e.axe import assert_accessible
from tests.e2e.test_donate_in_browser import browser  # noqa: F401 - the fixture
from tests.e2e.test_donor_pages_accessible import _page, _paid

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]


def test_the_portal_from_its_link_is_usable_and_accessible(browser, live_server: str, local_stack) -> None:  # noqa: F811
    from chalicelib import deps, tokens

    slug = _page(live_server)
    gift = _paid(live_server, local_stack["stripe_url"], slug)
    for width in (1280, 360):
        link = f"{live_server}/me?t={deps.tokens().issue(tokens.PORTAL, gift['donor_id'])}"
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server}/me")
        assert_accessible(page, f"ask for a link at {width} px")
        page.goto(link)
        assert_accessible(page, f"the link's button at {width} px")
        page.get_by_role("button", name="Open my giving").click()
        page.get_by_role("heading", name="Contributions and receipts").wait_for()
        assert gift["donation_id"] in page.content() and "$27" in page.inner_text("main")
        assert_accessible(page, f"the portal at {width} px")
        page.get_by_role("button", name="Email the receipt again for $27", exact=False).click()
        page.get_by_role("status").filter(has_text="receipt is on its way").wait_for()
        page.goto(link)  # used: the button's POST is refused
        page.get_by_role("button", name="Open my giving").click()
        assert "was used already" in page.inner_text("main")
        context.close()
