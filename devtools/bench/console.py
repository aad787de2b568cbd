"""7. Console pages: every staff console page is one request (its CSS and scripts are inline),
and its HTML with any same-origin CSS or script it references stays under 60 KB.

Measured in-process through `chalice.test.Client` against the local stack, signed in as the dev
organizer and finance keys, with a page, a paid gift and an export to show."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

from devtools.bench.common import (
    FINANCE_KEY,
    ORGANIZER_KEY,
    Figure,
    Section,
    donation_body,
    new_page,
    signed,
    succeeded_event,
)

GOAL_BYTES = 60 * 1024
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# What a page would fetch besides its HTML (none today: everything is inline).
_ASSETS = re.compile(r'<(?:script[^>]+src|link[^>]+href)="([^"]+)"')


class _Browser:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: dict[str, str] | None = None) -> Any:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if fields is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = getattr(self.client.http, method)(
            path, headers=headers, body=urllib.parse.urlencode(fields) if fields is not None else None)
        cookies = response.headers.get("Set-Cookie") or []
        for value in cookies if isinstance(cookies, list) else [cookies]:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response

    def sign_in(self, key: str) -> None:
        login = self.request("get", "/admin/login").body.decode()
        self.request("post", "/admin/login", {"key": key, "csrf": _CSRF.search(login)[1]})


def _size(browser: _Browser, path: str) -> tuple[int, int, int]:
    """(status, bytes of the HTML plus its same-origin assets, requests it takes)."""
    response = browser.request("get", path)
    html = response.body if isinstance(response.body, bytes) else response.body.encode()
    total, requests = len(html), 1
    for asset in _ASSETS.findall(html.decode()):
        if asset.startswith("/"):
            total += len(browser.request("get", asset).body)
            requests += 1
    return response.status_code, total, requests


def run() -> Section:
    from chalice.test import Client

    from app import app
    from devtools.bench.common import donor_headers
    from tests.helpers import run_queues

    slug = new_page("console")
    with Client(app, stage_name="dev") as client:
        started = client.http.post(f"/api/pages/{slug}/donations", headers=donor_headers(),
                                   body=json.dumps(donation_body(2700)))
        body, headers = signed(succeeded_event(json.loads(started.body), slug))
        client.http.post("/webhooks/stripe", headers=headers, body=body)
        organizer, finance, anonymous = _Browser(client), _Browser(client), _Browser(client)
        organizer.sign_in(ORGANIZER_KEY)
        finance.sign_in(FINANCE_KEY)
        exports = finance.request("get", "/admin/exports").body.decode()
        made = finance.request("post", "/admin/exports", {
            "kind": "contributions_csv", "from": "2026-01-01", "to": "2026-12-31",
            "csrf": _CSRF.search(exports)[1]})
        run_queues()
        donation_id = json.loads(started.body)["donation_id"]
        pages = {
            "/admin/login": anonymous,
            "/admin/": organizer, "/admin/pages/new": organizer, f"/admin/pages/{slug}": organizer,
            f"/admin/pages/{slug}/results": organizer, f"/admin/reports/refcodes?page={slug}": organizer,
            "/admin/actions": organizer, "/admin/recruiters": organizer,
            "/admin/preview?title=T&headline=H&asks=10&goal=100&deadline=2099-01-01T00:00"
            "&election=P2026&committee_id=C00123456": organizer,
            "/admin/donations?q=" + donation_id: finance, f"/admin/donations/{donation_id}": finance,
            "/admin/exports": finance, made.headers["Location"]: finance, "/admin/payouts": finance,
            "/admin/filings": finance, "/admin/notices": finance,
        }
        rows = []
        for path, browser in pages.items():
            status, total, requests = _size(browser, path)
            rows.append((path.split("?")[0], status, total, requests))
    worst = max(rows, key=lambda r: r[2])
    ok = all(r[1] == 200 and r[2] < GOAL_BYTES and r[3] == 1 for r in rows)
    section = Section("7. Console pages", [
        Figure("largest console page, HTML with its CSS and scripts",
               f"{worst[2] / 1024:.1f} KB (`{worst[0]}`), {len(rows)} pages, each 1 request",
               "< 60 KB, 1 request", ok),
    ])
    table = ["| page | status | bytes (HTML + CSS + scripts) | requests |", "|---|---:|---:|---:|"]
    table += [f"| `{p}` | {s} | {b:,} | {r} |" for p, s, b, r in rows]
    section.notes.append("Every console page signed in as the dev keys, in-process; CSS and "
                         "scripts are inline, so the HTML is the whole page (charts are inline SVG).")
    section.notes.append("\n".join(table))
    return section
