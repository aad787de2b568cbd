"""The staff console over real connections (moto's server, the Stripe stand-in): sign-in by key
and by emailed link, sessions and CSRF, the page editor and preview, exports, the donation
lookup with movements, and PII only for finance."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.console_kit import Console, staff_key, text
from tests.followups_kit import drain_until
from tests.helpers import FINANCE_KEY, committee_body, donation_body, run_queues, staff, stripe_event
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack
LINK = re.compile(r"https?://[^/\s]+(/admin/login/link\?t=[A-Za-z0-9_.=-]+)")


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory):
    with mirrored(tmp_path_factory.mktemp("console-mail")) as folder:
        yield folder


def organizer(client: Any) -> Console:
    c = Console(client)
    assert c.sign_in_with_key(staff_key("organizer")).status_code == 303
    return c


def finance(client: Any) -> Console:
    c = Console(client)
    assert c.sign_in_with_key(staff_key("finance")).status_code == 303
    return c


def page_form(slug: str, **changes: str) -> dict[str, str]:
    fields = {"slug": slug, "title": "Rivera for Congress", "headline": "Chip in <b>now</b>",
              "body": "People-powered.", "asks": "10 27 50", "goal": "10,000",
              "deadline": "2099-11-03T04:59", "deadlines": "", "election": "P2026",
              "committee_id": "C00123456"}
    fields.update(changes)
    return fields


def session_items() -> int:
    from chalicelib.storage.models import WebSessionModel

    return WebSessionModel.count()


def test_sign_in_with_a_key_sets_a_strict_http_only_cookie_and_a_bad_key_does_not(client) -> None:
    c = Console(client)
    assert c.get("/admin/pages/new").headers["Location"] == "/admin/login?next=/admin/pages/new"
    before = session_items()
    refused = c.post("/admin/login", {"key": "gsk_not_a_key"}, csrf=c.csrf("/admin/login"))
    assert refused.status_code == 401 and "unknown or revoked" in text(refused)
    assert session_items() == before
    done = c.post("/admin/login", {"key": staff_key("organizer"), "next": "/admin/pages/new"},
                  csrf=c.csrf("/admin/login"))
    assert done.status_code == 303 and done.headers["Location"] == "/admin/pages/new"
    cookie = next(v for v in done.headers["Set-Cookie"] if v.startswith("gs_console="))
    assert {"HttpOnly", "SameSite=Strict", "Path=/admin"} <= {p.strip() for p in cookie.split(";")}
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS (X-Forwarded-Proto) it is Secure
    assert session_items() == before + 1
    assert c.get("/admin/pages/new").status_code == 200


def test_a_foreign_next_is_ignored(client) -> None:
    c = Console(client)
    done = c.post("/admin/login", {"key": staff_key("finance"), "next": "//evil.example/admin"},
                  csrf=c.csrf("/admin/login"))
    assert done.headers["Location"] == "/admin/donations"  # finance's first page


def test_the_login_form_needs_its_csrf_token(client) -> None:
    c = Console(client)
    c.get("/admin/login")  # the cookie is set; the token is not sent
    refused = c.post("/admin/login", {"key": staff_key("organizer")})
    assert refused.status_code == 403 and "gs_console" not in c.cookies


def test_sign_in_by_emailed_link_once(client, mailbox: Path) -> None:
    address = f"dana.{uuid.uuid4().hex[:8]}@example.org"
    staff_key("finance", email=address)
    c = Console(client)
    asked = c.post("/admin/login/email", {"email": address}, csrf=c.csrf("/admin/login"))
    assert asked.status_code == 303 and asked.headers["Location"] == "/admin/login?sent=1"
    unknown = c.post("/admin/login/email", {"email": "nobody@example.org"}, csrf=c.csrf("/admin/login"))
    assert unknown.headers["Location"] == asked.headers["Location"]  # says nothing about who exists
    again = c.post("/admin/login/email", {"email": address}, csrf=c.csrf("/admin/login"))
    assert again.status_code == 303
    (message,) = drain_until(lambda: sent_to(mailbox, address))  # one email a minute at most
    assert "List-Unsubscribe" not in message  # transactional
    link = LINK.search(text_of(message))[1]
    before = session_items()
    shown = c.get(link)  # a GET shows a button and uses nothing up
    assert shown.status_code == 200 and "Sign in as finance" in text(shown)
    assert session_items() == before
    token = link.split("t=", 1)[1]
    signed_in = c.post("/admin/login/link", {"t": token}, csrf=c.csrf(link))
    assert signed_in.status_code == 303 and "gs_console" in c.cookies
    assert c.get("/admin/exports").status_code == 200
    other = Console(client)
    reused = other.post("/admin/login/link", {"t": token}, csrf=other.csrf("/admin/login"))
    assert reused.status_code == 410 and "gs_console" not in other.cookies
    tampered = other.get(link[:-3] + "AAA")
    assert tampered.status_code == 400


def test_an_expired_link_is_410_and_signs_nobody_in(client) -> None:
    from datetime import datetime, timedelta, timezone

    from chalicelib import deps
    from chalicelib.staff.auth import hash_key

    key = staff_key("organizer")
    asked = datetime.now(timezone.utc) - timedelta(minutes=16)
    token = deps.tokens().issue("signin", hash_key(key), now=asked)
    c = Console(client)
    assert c.get(f"/admin/login/link?t={token}").status_code == 410
    assert c.post("/admin/login/link", {"t": token}, csrf=c.csrf("/admin/login")).status_code == 410
    assert "gs_console" not in c.cookies


def test_a_post_without_the_session_csrf_token_writes_nothing(client) -> None:
    from chalicelib import deps
    from chalicelib.errors import NotFound

    c = organizer(client)
    slug = "csrf-" + uuid.uuid4().hex[:8]
    refused = c.post("/admin/pages", page_form(slug))
    assert refused.status_code == 403
    refused = c.post("/admin/pages", page_form(slug), csrf="forged")
    assert refused.status_code == 403
    with pytest.raises(NotFound):
        deps.page_service().get(slug)


def test_create_a_page_edit_it_and_see_its_history_and_preview(client) -> None:
    from chalicelib import deps

    c = organizer(client)
    slug = "console-" + uuid.uuid4().hex[:8]
    bad = c.submit("/admin/pages/new", "/admin/pages", page_form(slug, asks="ten", goal="lots"))
    assert bad.status_code == 400 and 'id="asks-error"' in text(bad) and 'id="goal-error"' in text(bad)
    assert "ten" in text(bad)  # what was typed is kept
    created = c.submit("/admin/pages/new", "/admin/pages", page_form(slug))
    assert created.status_code == 303 and created.headers["Location"] == f"/admin/pages/{slug}?saved=created"
    page = deps.page_service().get(slug)
    assert page.ask_amounts_cents == [1000, 2700, 5000] and page.goal_cents == 1_000_000
    assert page.headline == "Chip in <b>now</b>"
    editor = text(c.get(f"/admin/pages/{slug}"))
    assert "Chip in &lt;b&gt;now&lt;/b&gt;" in editor and "<b>now</b>" not in editor  # escaped
    moved = c.submit(f"/admin/pages/{slug}", f"/admin/pages/{slug}",
                     page_form(slug, deadline="2099-11-10T04:59", goal="20000"))
    assert moved.status_code == 303
    page = deps.page_service().get(slug)
    assert page.goal_cents == 2_000_000 and page.deadline_extended
    editor = text(c.get(f"/admin/pages/{slug}"))
    # C00123456 has no calendar yet: its times are New York's (EST in November).
    assert "2099-11-03T09:59:00Z → 2099-11-10T09:59:00Z" in editor and "extended" in editor
    preview = c.get("/admin/preview?title=Draft&headline=Unsaved+headline&asks=5+10&goal=100"
                    "&deadline=2099-01-01T00:00&election=P2026&committee_id=C00123456")
    assert preview.status_code == 200 and "Unsaved headline" in text(preview)
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert c.get("/admin/preview?asks=x").status_code == 200  # a notice, not an error


def test_the_editor_speaks_the_committees_time_and_offers_its_elections(client, api) -> None:
    from chalicelib import deps

    committee_id = "C" + str(uuid.uuid4().int)[:8]
    status, _ = api.call("PUT", f"/api/admin/committees/{committee_id}",
                         committee_body(time_zone="America/Chicago"), staff(FINANCE_KEY))
    assert status == 200
    c = organizer(client)
    slug = "zone-" + uuid.uuid4().hex[:8]
    fields = page_form(slug, committee_id=committee_id, election="G2026", deadline="2099-11-03T23:59")
    unknown = c.submit("/admin/pages/new", "/admin/pages", {**fields, "elections": "G2026 E9999"})
    assert unknown.status_code == 400 and 'id="elections-error"' in text(unknown)
    created = c.submit("/admin/pages/new", "/admin/pages", {**fields, "elections": "P2026 G2026"})
    assert created.status_code == 303
    page = deps.page_service().get(slug)
    assert page.deadline.isoformat() == "2099-11-04T05:59:00+00:00"  # 23:59 in Chicago (CST)
    assert page.elections == ["P2026", "G2026"]
    editor = text(c.get(f"/admin/pages/{slug}"))
    assert 'value="2099-11-03T23:59"' in editor and "Deadline (America/Chicago)" in editor
    assert "This committee's calendar: P2026 (2026-06-02), G2026 (2026-11-03)." in editor
    assert 'name="elections" value="P2026 G2026"' in editor


def test_the_dashboard_counts_a_gift(client, api) -> None:
    c = organizer(client)
    slug = "dash-" + uuid.uuid4().hex[:8]
    assert c.submit("/admin/pages/new", "/admin/pages", page_form(slug)).status_code == 303
    for visitor in ("visitor-" + uuid.uuid4().hex for _ in range(4)):
        for _ in range(2):  # a reload counts nothing more
            status, _ = api.call("POST", f"/api/pages/{slug}/visits", {}, {"Cookie": f"gs_vid={visitor}"})
            assert status == 200
    give(api, slug, 2700)
    # The page may be on a later page of the dashboard if many tests made pages: follow it.
    dashboard = _find(c, text(c.get("/admin/")), slug)
    assert f'data-raised="{slug}">$27<' in dashboard
    card = dashboard[dashboard.index(f'id="page-{slug}"'):]
    card = card[:card.index("</section>")]
    assert "<dt>Visitors today</dt><dd>4</dd>" in card and "<dt>Conversion today</dt><dd>25.0 %</dd>" in card


def _find(c: Console, html: str, slug: str) -> str:
    while f'data-raised="{slug}"' not in html:
        more = re.search(r'href="(/admin\?after=[^"]+)"', html)
        assert more, "page not on the dashboard"
        html = text(c.get(more[1].replace("&amp;", "&")))
    return html


def give(api, slug: str, cents: int, **donor: Any) -> dict[str, Any]:
    body = donation_body(amount_cents=cents)
    body["donor"].update(donor)
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    intent = started["client_secret"].split("_secret_")[0]
    status, _ = api.webhook(stripe_event("payment_intent.succeeded", id=intent, amount=cents,
                                         amount_received=cents,
                                         metadata={"donation_id": started["donation_id"]}))
    assert status == 200
    return {**started, "email": body["donor"]["email"], "last_name": body["donor"]["last_name"]}


def test_finance_finds_a_donation_by_email_name_and_id_with_its_movements(client, api) -> None:
    c = organizer(client)
    slug = "find-" + uuid.uuid4().hex[:8]
    assert c.submit("/admin/pages/new", "/admin/pages", page_form(slug)).status_code == 303
    gift = give(api, slug, 5000, first_name="Dana", last_name="Quixote" + uuid.uuid4().hex[:6])
    f = finance(client)
    by_email = text(f.get(f"/admin/donations?q={gift['email']}"))
    assert gift["donation_id"] in by_email
    by_name = text(f.get(f"/admin/donations?q=dana+{gift['last_name'].lower()}"))
    assert gift["email"] in by_name
    donor_link = re.search(r'href="(/admin/donors/[^"]+)"', by_name)[1]
    assert gift["donation_id"] in text(f.get(donor_link))
    detail = text(f.get(f"/admin/donations/{gift['donation_id']}"))
    assert "contribution" in detail and "$50" in detail and "not paid out yet" in detail
    assert f.get("/admin/donations/don_" + "0" * 32).status_code == 404
    # Donor PII is finance's (and admin's) only: the organizer gets a 403 page.
    assert c.get(f"/admin/donations?q={gift['email']}").status_code == 403
    assert c.get(f"/admin/donations/{gift['donation_id']}").status_code == 403


def test_start_an_export_follow_it_and_download_it(client, local_stack) -> None:
    import requests

    f = finance(client)
    bad = f.submit("/admin/exports", "/admin/exports", {"kind": "fec_schedule_a", "from": "2026-01-01",
                                                        "to": "2026-01-31"})
    assert bad.status_code == 400 and "committee" in text(bad).lower()
    started = f.submit("/admin/exports", "/admin/exports", {"kind": "contributions_csv",
                                                            "from": "2026-01-01", "to": "2026-01-31"})
    assert started.status_code == 303
    path = started.headers["Location"]
    assert "<progress" in text(f.get(path))
    run_queues()
    page = text(f.get(path))
    assert "ready" in page and 'id="download"' in page
    download = f.get(path + "/download")
    assert download.status_code == 302
    csv = requests.get(download.headers["Location"], timeout=10)
    assert csv.status_code == 200 and csv.text.splitlines()[0].count(",") > 3  # the CSV's header
    assert path.rsplit("/", 1)[1] in text(f.get("/admin/exports"))


def test_sign_out_and_revoking_the_key_end_sessions(client) -> None:
    from chalicelib import deps
    from chalicelib.staff.auth import hash_key

    c = Console(client)
    key = staff_key("organizer")
    c.sign_in_with_key(key)
    cookie = c.cookies["gs_console"]
    out = c.submit("/admin/", "/admin/logout", {})
    assert out.status_code == 303 and "Max-Age=0" in out.headers["Set-Cookie"]
    c.cookies["gs_console"] = cookie  # the old cookie no longer opens anything
    assert c.get("/admin/").status_code == 303
    second = Console(client)
    second.sign_in_with_key(key)
    assert second.get("/admin/").status_code == 200
    assert deps.signin().revoke(key_hash=hash_key(key)) == 1
    assert second.get("/admin/").status_code == 303


def test_a_revoked_key_loses_its_session_at_once(client) -> None:
    from datetime import datetime, timezone

    from chalicelib.staff.auth import hash_key
    from chalicelib.storage.staff_keys import StaffKeyRepository

    c = Console(client)
    key = staff_key("finance")
    c.sign_in_with_key(key)
    assert c.get("/admin/payouts").status_code == 200
    StaffKeyRepository().revoke(hash_key(key), datetime.now(timezone.utc))  # sessions still stored
    assert c.get("/admin/payouts").status_code == 303


def test_a_forged_list_cursor_is_a_400_page(client) -> None:
    c = organizer(client)
    assert c.get("/admin/?after=bm90LWpzb24").status_code == 400
    assert c.get("/admin/actions?after=eyJ4Ijp7IlMiOiIxIn19").status_code == 400
