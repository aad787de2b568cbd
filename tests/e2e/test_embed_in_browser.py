"""The embeddable form in Debian's chromium: a parent page served from a second local origin
(`http://localhost:<port>`, a tiny http.server) frames `/embed/{slug}` from the API's origin
(`http://127.0.0.1:<port>`), receives its height and, after a gift, its completion message; the
same parent page served from an origin the page does not list gets no form (frame-ancestors)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import stack
from tests.e2e.test_donate_in_browser import browser, fill_card, fill_donor  # noqa: F401 - the fixture
from tests.e2e.test_page_features_in_browser import create_page

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]

PARENT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Allies</title></head>
<body><h1>Our allies' site</h1>
<iframe id="gs" title="Donate" src="{src}" allow="payment *" style="width:100%;border:0"></iframe>
<script>
  window.received = [];
  window.addEventListener("message", function (event) {{
    if (event.origin !== "{api}") return;
    window.received.push(event.data);
    var frame = document.getElementById("gs");
    if (event.data.type === "groundswell:height") frame.style.height = event.data.height + "px";
  }});
</script></body></html>"""


@pytest.fixture()
def parent_site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A static site on another port (so another origin); the test writes its page."""
    port = stack.free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, port
    finally:
        server.shutdown()
        server.server_close()


def test_the_form_works_in_an_allowed_frame_and_is_refused_elsewhere(browser, live_server: str,  # noqa: F811
                                                                     parent_site) -> None:
    root, port = parent_site
    slug = create_page(live_server, embed_origins=[f"http://localhost:{port}"])
    (root / "parent.html").write_text(PARENT.format(src=f"{live_server}/embed/{slug}", api=live_server))
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"http://localhost:{port}/parent.html")
    frame = page.frame_locator("#gs")
    frame.locator("#donate").wait_for(timeout=10_000)
    page.wait_for_function("window.received.some(m => m.type === 'groundswell:height' && m.height > 500)",
                           timeout=10_000)
    frame.get_by_role("button", name="$27", exact=True).click()
    inner = next(f for f in page.frames if f.url.startswith(f"{live_server}/embed/"))
    fill_donor(inner, "framed.donor@example.org")
    fill_card(inner, "4242 4242 4242 4242")
    inner.click("#submit")
    page.wait_for_function("window.received.some(m => m.type === 'groundswell:donation')", timeout=15_000)
    (done,) = page.evaluate("window.received.filter(m => m.type === 'groundswell:donation')")
    assert done["status"] == "succeeded" and done["amount_cents"] == 2700
    assert done["donation_id"].startswith("don_")
    assert "Thank you" in inner.locator("#embed-done").inner_text()

    # The same parent from an origin the page does not list: the browser refuses the frame.
    other = f"http://127.0.0.1:{port}/parent.html"  # same files, another origin
    refused = context.new_page()
    refused.goto(other)
    refused.wait_for_timeout(1_500)
    (child,) = refused.frames[1:]  # the iframe is there, its document is the browser's refusal
    assert child.locator("#donate").count() == 0 and not child.url.startswith(live_server + "/embed/")
    assert refused.evaluate("window.received.length") == 0
    context.close()
