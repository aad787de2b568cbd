"""Issue 5 through chalice's test client on moto's server: deadlines and their history, a returning
donor's ladder, A/B variants and their results, the refcode report, and the page's weight."""

from __future__ import annotations

import json
import random
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.api import caching
from chalicelib.giving.model import donor_id_for
from chalicelib.pages.asks import personal_ladder
from chalicelib.pages.experiments import BUCKETS, assign, bucket_of
from chalicelib.storage.models import CounterShardModel, PageHistoryModel
from chalicelib.tokens import DONOR, Tokens
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, donation_body, page_body, staff, stripe_event

pytestmark = pytest.mark.stack
ORGANIZER = staff(ORGANIZER_KEY)
FINANCE = staff(FINANCE_KEY)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def soon(**delta: float) -> str:
    return iso(datetime.now(timezone.utc) + timedelta(**delta))


def committee() -> str:
    return "C" + "".join(random.choice("0123456789") for _ in range(8))


def pay(api, started: dict[str, Any]) -> None:
    event = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                         amount=started["amount_cents"], amount_received=started["amount_cents"],
                         metadata={"donation_id": started["donation_id"]})
    status, body = api.webhook(event)
    assert status == 200 and body["outcome"] == "applied", body


def get(api, path: str, cookie: str | None = None, **headers: str) -> tuple[int, Any, dict[str, str]]:
    sent = {**({"Cookie": cookie} if cookie else {}), **headers}
    response = api.client.http.get(path, headers=sent)
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    try:
        return response.status_code, json.loads(body), response.headers
    except ValueError:
        return response.status_code, body, response.headers


def visitor_cookie(headers: dict[str, str]) -> str:
    match = re.match(r"gs_vid=([A-Za-z0-9_-]+);", headers["Set-Cookie"])
    assert match, headers
    return match.group(1)


# --- deadlines and goals ----------------------------------------------------------------------
def test_deadline_and_goal_changes_are_audited_and_an_extension_is_said(api) -> None:
    page = api.create_page(deadline=soon(hours=2), goal_cents=100_000)
    slug = page["slug"]
    assert api.public(slug)["deadline_extended"] is False
    later = soon(hours=5)
    status, updated = api.call("PUT", f"/api/admin/pages/{slug}", {"deadline": later, "goal_cents": 150_000},
                               ORGANIZER)
    assert status == 200 and updated["deadline_extended"] is True and updated["version"] == 2
    public = api.public(slug)
    assert public["deadline_extended"] is True and public["deadline"].startswith(later[:19])
    assert api.call("PUT", f"/api/admin/pages/{slug}", {"headline": "Copy only"}, ORGANIZER)[0] == 200
    status, history = api.call("GET", f"/api/admin/pages/{slug}/history", headers=ORGANIZER)
    assert status == 200
    entries = history["history"]
    assert [e["action"] for e in entries] == ["created", "updated"]  # the copy change is no entry
    assert entries[0]["changes"]["goal_cents"] == {"from": None, "to": 100_000}
    change = entries[1]
    assert change["changes"]["goal_cents"] == {"from": 100_000, "to": 150_000}
    assert change["changes"]["deadline"]["to"].startswith(later[:19])
    assert change["deadline_extended"] is True and change["changed_by"] == "dev organizer"
    # Items are the page's versions: the copy change moved the page to version 3, no item 3.
    assert [int(i.version) for i in PageHistoryModel.query(slug)] == [1, 2]


def test_a_passed_deadline_cannot_be_moved_and_the_page_stays_closed(api) -> None:
    page = api.create_page(deadline="2020-01-01T00:00:00Z")
    slug = page["slug"]
    status, error = api.call("PUT", f"/api/admin/pages/{slug}", {"deadline": soon(days=3)}, ORGANIZER)
    assert status == 409 and error["error"]["code"] == "deadline_passed"
    status, error = api.call("PUT", f"/api/admin/pages/{slug}", {"deadlines": [soon(days=3)]}, ORGANIZER)
    assert status == 409 and error["error"]["code"] == "deadline_passed"
    assert api.public(slug)["status"] == "closed"
    status, error = api.call("POST", f"/api/pages/{slug}/donations", donation_body())
    assert status == 409 and error["error"]["code"] == "page_closed"
    status, history = api.call("GET", f"/api/admin/pages/{slug}/history", headers=ORGANIZER)
    assert [e["action"] for e in history["history"]] == ["created"]


def test_page_moves_on_to_its_next_deadline(api) -> None:
    later = soon(hours=3)
    page = api.create_page(deadline="2020-01-01T00:00:00Z", deadlines=[later])
    assert page["deadlines"][0].startswith(later[:19])
    public = api.public(page["slug"])
    assert public["status"] == "open" and public["deadline"].startswith(later[:19])
    assert public["deadline_extended"] is True and 3 * 3600 - 60 < public["seconds_remaining"] <= 3 * 3600
    assert "deadlines" not in public
    api.donate(page["slug"])  # intake follows the same deadline
    status, error = api.call("POST", "/api/admin/pages",
                             page_body(deadlines=["2019-01-01T00:00:00Z"]),
                             ORGANIZER)
    assert status == 400 and "deadlines" in error["error"]["fields"]


def test_history_of_an_unknown_page_is_404(api) -> None:
    status, error = api.call("GET", "/api/admin/pages/no-such-page/history", headers=ORGANIZER)
    assert status == 404 and error["error"]["code"] == "page_not_found"


# --- a returning donor's ladder ---------------------------------------------------------------
def donor_token(email: str, now: datetime | None = None) -> str:
    return deps.tokens().issue(DONOR, donor_id_for(email), now=now)


def test_a_donor_token_gets_a_ladder_from_their_highest_gift(api) -> None:
    slug = api.create_page(committee_id=committee(), ask_amounts_cents=[1000, 2500])["slug"]
    email = f"ladder.{uuid.uuid4().hex[:8]}@example.org"
    pay(api, api.donate(slug, amount_cents=2700, email=email))
    pay(api, api.donate(slug, amount_cents=5000, email=email))
    api.donate(slug, amount_cents=90_000, email=email)  # pending: not a contribution (yet)
    status, view, _ = get(api, f"/api/pages/{slug}?t={donor_token(email)}")
    assert status == 200 and view["ask_source"] == "personal"
    assert view["ask_amounts_cents"] == personal_ladder(5000) == [5000, 7500, 10_000, 15_000]
    # Without a token, or with a bad or expired one: the page's own ladder, and the page still loads.
    expired = donor_token(email, now=datetime.now(timezone.utc) - timedelta(days=61))
    other_secret = Tokens("another-secret-of-enough-length").issue(DONOR, donor_id_for(email))
    for query in ("", "?t=garbage", f"?t={expired}", f"?t={other_secret}"):
        status, view, _ = get(api, f"/api/pages/{slug}{query}")
        assert status == 200 and view["ask_amounts_cents"] == [1000, 2500] and view["ask_source"] == "page"
    # A token for someone who never gave: the page's ladder (capped by their limit).
    stranger = donor_token(f"nobody-{uuid.uuid4().hex}@example.org")
    status, view, _ = get(api, f"/api/pages/{slug}?t={stranger}")
    assert view["ask_amounts_cents"] == [1000, 2500] and view["ask_source"] == "personal"


def test_the_ladder_never_passes_the_remaining_limit(api) -> None:
    cid = committee()
    low = {"name": "Low", "type": "candidate", "limit_cents": 12_000, "time_zone": "America/Chicago"}
    assert api.call("PUT", f"/api/admin/committees/{cid}", low, staff(FINANCE_KEY))[0] == 200
    slug = api.create_page(committee_id=cid)["slug"]
    email = f"limit.{uuid.uuid4().hex[:8]}@example.org"
    pay(api, api.donate(slug, amount_cents=5000, email=email))
    # Highest $50 -> 50, 75, 100, 150; $70 remains of the $120 limit.
    _, view, _ = get(api, f"/api/pages/{slug}?t={donor_token(email)}")
    assert view["ask_amounts_cents"] == [5000, 7000]
    api.donate(slug, amount_cents=7000, email=email)  # a pending gift reserves the rest
    _, view, _ = get(api, f"/api/pages/{slug}?t={donor_token(email)}")
    assert view["ask_amounts_cents"] == []
    assert "the most federal law allows" in get(api, f"/donate/{slug}?t={donor_token(email)}")[1]


def test_amount_is_echoed_as_the_preselected_amount(api) -> None:
    slug = api.create_page()["slug"]
    assert get(api, f"/api/pages/{slug}?amount=2700")[1]["preselected_amount_cents"] == 2700
    for bad in ("abc", "50", "-100", "1e5"):
        assert get(api, f"/api/pages/{slug}?amount={bad}")[1]["preselected_amount_cents"] is None
    status, html, _ = get(api, f"/donate/{slug}?amount=2700")
    assert status == 200 and 'value="27.00"' in html and 'aria-pressed="true">$27<' in html


# --- A/B variants ---------------------------------------------------------------------------
VARIANTS = [{"id": "urgent", "headline": "Hours left", "body": "Give now.", "ask_amounts_cents": [500, 1500]},
            {"id": "local", "headline": "Your neighbors are in", "body": "Join them."}]


def test_a_visitor_gets_one_variant_and_a_cookie(api) -> None:
    page = api.create_page(variants=VARIANTS)
    slug = page["slug"]
    status, view, headers = get(api, f"/api/pages/{slug}")
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert "Secure" not in cookie  # plain http here
    assert headers["Cache-Control"] == "no-store"  # it carries a cookie: nobody keeps it
    visitor = visitor_cookie(headers)
    arms = ["control", "urgent", "local"]
    experiment = deps.page_service().get(slug).experiment
    expected = assign(bucket_of(visitor), slug, experiment, arms)
    assert view["variant"]["id"] == expected
    if expected == "urgent":
        assert view["ask_amounts_cents"] == [500, 1500] and view["headline"] == "Hours left"
    for _ in range(3):
        status, again, headers = get(api, f"/api/pages/{slug}", cookie=f"other=1; gs_vid={visitor}")
        assert again["variant"]["id"] == expected and "Set-Cookie" not in headers
        assert headers["Cache-Control"] == "private, no-cache" and headers["Vary"] == "Cookie"
    status, html, _ = get(api, f"/donate/{slug}", cookie=f"gs_vid={visitor}")
    headlines = {"control": page["headline"], "urgent": "Hours left", "local": "Your neighbors are in"}
    headline = headlines[expected]
    assert f"<h1>{headline}</h1>" in html
    assert f'data-variant="{expected}"' in html  # the form sends it: the control's gifts count too
    assert "Secure" in get(api, f"/api/pages/{slug}", **{"X-Forwarded-Proto": "https"})[2]["Set-Cookie"]


def test_behind_the_edge_a_page_is_one_per_bucket_and_sets_no_cookie(api) -> None:
    slug = api.create_page(variants=VARIANTS)["slug"]
    experiment = deps.page_service().get(slug).experiment
    seen = {}
    for bucket in range(BUCKETS):
        for cookie in (None, "gs_vid=someone-else-entirely-1234"):  # the edge forwards no cookie
            status, view, headers = get(api, f"/api/pages/{slug}", cookie, **{"X-Gs-Bucket": str(bucket)})
            assert status == 200 and "Set-Cookie" not in headers
            assert headers["Cache-Control"] == caching.SHARED
            assert "stale-while-revalidate" in headers["Cache-Control"]
            seen.setdefault(bucket, set()).add(view["variant"]["id"])
        status, html, headers = get(api, f"/donate/{slug}", **{"X-Gs-Bucket": str(bucket)})
        assert headers["Cache-Control"] == caching.SHARED and "Set-Cookie" not in headers
        assert f'data-variant="{assign(bucket, slug, experiment, ["control", "urgent", "local"])}"' in html
    assert all(len(arms) == 1 for arms in seen.values())  # one copy per bucket, whoever asks
    assert {a for arms in seen.values() for a in arms} == {"control", "urgent", "local"}
    # A donor's own ladder is personal: never cacheable, even through the edge.
    _, _, headers = get(api, f"/api/pages/{slug}?t=anything", **{"X-Gs-Bucket": "3"})
    assert headers["Cache-Control"] == "no-store"
    # A bucket the edge could not have sent is ignored (the visitor's own cookie decides).
    _, _, headers = get(api, f"/api/pages/{slug}", **{"X-Gs-Bucket": str(BUCKETS)})
    assert headers["Cache-Control"] == "no-store" and "gs_vid=" in headers["Set-Cookie"]


def test_a_page_without_variants_has_none(api) -> None:
    slug = api.create_page()["slug"]
    _, view, headers = get(api, f"/api/pages/{slug}")
    assert view["variant"] is None and "gs_vid=" in headers["Set-Cookie"]


def impressions(slug: str) -> dict[str, int]:
    status_by_arm: dict[str, int] = {}
    for item in CounterShardModel.scan(CounterShardModel.counter_id.startswith(f"variant#{slug}#")):
        arm = item.counter_id.split("#")[2]
        status_by_arm[arm] = status_by_arm.get(arm, 0) + int(item.impressions or 0)
    return status_by_arm


def beacon(api, slug: str, visitor: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {"Cookie": f"gs_vid={visitor}"} if visitor else {}
    return api.call("POST", f"/api/pages/{slug}/visits", body if body is not None else {}, headers)


def test_loading_a_page_counts_nothing_its_beacon_counts_each_visitor_once(api) -> None:
    slug = api.create_page(variants=VARIANTS)["slug"]
    visitors = ["visitor-" + uuid.uuid4().hex for _ in range(12)]
    for visitor in visitors:
        get(api, f"/api/pages/{slug}", cookie=f"gs_vid={visitor}")
        get(api, f"/donate/{slug}?refcode=email-june", cookie=f"gs_vid={visitor}")
    assert impressions(slug) == {}  # no GET writes anything
    experiment = deps.page_service().get(slug).experiment
    for visitor in visitors:
        for again in range(2):
            status, counted = beacon(api, slug, visitor)
            assert status == 200 and counted["impression"] is (again == 0)
            assert counted["variant_id"] == assign(bucket_of(visitor), slug, experiment,
                                                   ["control", "urgent", "local"])
    # One visitor's beacon sent many times at once: still one impression.
    from chalice.test import Client

    from app import app

    late = "visitor-" + uuid.uuid4().hex

    def send(_: int) -> bool:
        with Client(app, stage_name="dev") as own:
            reply = own.http.post(f"/api/pages/{slug}/visits", body="{}",
                                  headers={"Cookie": f"gs_vid={late}", "Content-Type": "application/json"})
            assert reply.status_code == 200
            return bool(json.loads(reply.body)["impression"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sum(pool.map(send, range(12))) == 1
    assert sum(impressions(slug).values()) == 13
    # No cookie, nothing counted; a malformed refcode is refused and writes nothing.
    assert beacon(api, slug, None) == (200, {"variant_id": None, "impression": False, "refcode": False})
    status, error = beacon(api, slug, "visitor-" + uuid.uuid4().hex, {"refcode": "<b>x</b>"})
    assert status == 400 and "refcode" in error["error"]["fields"]
    assert beacon(api, "no-such-page", visitors[0])[0] == 404
    assert sum(impressions(slug).values()) == 13
    status, results = api.call("GET", f"/api/admin/pages/{slug}/results", headers=ORGANIZER)
    assert status == 200 and [v["id"] for v in results["variants"]] == ["control", "urgent", "local"]
    assert sum(v["visitors"] for v in results["variants"]) == 13
    # A donation made under a variant converts it once it is paid.
    visitor = visitors[1]
    arm = get(api, f"/api/pages/{slug}", cookie=f"gs_vid={visitor}")[1]["variant"]["id"]
    pay(api, api.donate(slug, amount_cents=2700, variant_id=arm))
    results = api.call("GET", f"/api/admin/pages/{slug}/results", headers=ORGANIZER)[1]
    row = next(v for v in results["variants"] if v["id"] == arm)
    assert (row["donations"], row["amount_cents"], row["average_gift_cents"]) == (1, 2700, 2700)
    assert results["winner"] is None


def set_counts(slug: str, counts: dict[str, tuple[int, int]]) -> None:
    """Counters as if `visitors, donations` had happened per arm (spread over two shards)."""
    for arm, (seen, given) in counts.items():
        for shard, share in ((0, seen // 2), (1, seen - seen // 2)):
            gifts = given // 2 if shard == 0 else given - given // 2
            CounterShardModel(f"variant#{slug}#{arm}#{shard}", impressions=share, conversions=gifts,
                              amount_cents=gifts * 2500).save()


def test_results_name_no_winner_below_the_minimum_sample(api) -> None:
    slug = api.create_page(variants=VARIANTS[:1])["slug"]
    set_counts(slug, {"control": (999, 20), "urgent": (999, 90)})
    results = api.call("GET", f"/api/admin/pages/{slug}/results", headers=ORGANIZER)[1]
    urgent = results["variants"][1]
    assert urgent["probability_beats_control"] > 0.999 and results["min_sample"] == 1000
    assert results["winner"] is None  # far ahead, but below the minimum sample
    set_counts(slug, {"control": (1000, 20), "urgent": (1000, 90)})
    results = api.call("GET", f"/api/admin/pages/{slug}/results", headers=ORGANIZER)[1]
    assert results["winner"] == "urgent"
    assert results["variants"][0]["probability_beats_control"] is None
    assert results["variants"][1]["conversion_rate"] == 0.09
    set_counts(slug, {"control": (1000, 40), "urgent": (1000, 45)})
    assert api.call("GET", f"/api/admin/pages/{slug}/results", headers=ORGANIZER)[1]["winner"] is None


def test_thompson_sampling_moves_new_visitors_to_the_better_variant(api) -> None:
    slug = api.create_page(variants=VARIANTS[:1], auto_allocate=True)["slug"]
    set_counts(slug, {"control": (2000, 20), "urgent": (2000, 200)})
    seen = [get(api, f"/api/pages/{slug}", **{"X-Gs-Bucket": str(b)})[1]["variant"]["id"]
            for b in range(BUCKETS)]
    assert seen.count("urgent") >= BUCKETS - 1
    visitor = f"thompson-{uuid.uuid4().hex}"
    shown = get(api, f"/api/pages/{slug}", cookie=f"gs_vid={visitor}")[1]["variant"]["id"]
    assert beacon(api, slug, visitor)[1]["variant_id"] == shown  # counted for what it showed


def test_organizers_validate_variants(api) -> None:
    for variants in ([{"id": "control", "headline": "x"}], [VARIANTS[1], VARIANTS[1]],
                     [{"id": "bad id", "headline": "x"}]):
        status, error = api.call("POST", "/api/admin/pages",
                                 page_body(variants=variants), ORGANIZER)
        assert status == 400 and any(k.startswith("variants") for k in error["error"]["fields"]), error
    slug = api.create_page()["slug"]
    status, page = api.call("PUT", f"/api/admin/pages/{slug}", {"variants": VARIANTS}, ORGANIZER)
    assert status == 200 and [v["id"] for v in page["variants"]] == ["urgent", "local"]
    status, page = api.call("PUT", f"/api/admin/pages/{slug}", {"variants": []}, ORGANIZER)
    assert status == 200 and page["variants"] == []


# --- refcodes ---------------------------------------------------------------------------------
def test_refcode_report(api) -> None:
    cid = committee()
    slug = api.create_page(committee_id=cid)["slug"]
    for n in range(4):
        visitor = f"ref-{n}-{uuid.uuid4().hex}"
        for _ in range(2):  # a reload is the same visitor
            get(api, f"/donate/{slug}?refcode=email-june", cookie=f"gs_vid={visitor}")
            assert beacon(api, slug, visitor, {"refcode": "email-june"})[0] == 200
    beacon(api, slug, f"ref-fb-{uuid.uuid4().hex}", {"refcode": "fb"})
    returning = f"returning.{uuid.uuid4().hex[:8]}@example.org"
    pay(api, api.donate(slug, amount_cents=1000, email=returning))  # before, without a refcode
    pay(api, api.donate(slug, amount_cents=2700, email=returning, refcode="email-june"))
    pay(api, api.donate(slug, amount_cents=5000, refcode="email-june"))
    api.donate(slug, amount_cents=9900, refcode="email-june")  # never paid: not in the report
    today = datetime.now(timezone.utc).date().isoformat()
    for key in (ORGANIZER_KEY, FINANCE_KEY):
        status, report = api.call("GET", f"/api/admin/reports/refcodes?page={slug}&from={today}&to={today}",
                                  headers=staff(key))
        assert status == 200, report
    rows = {r["refcode"]: r for r in report["refcodes"]}
    assert rows["email-june"] == {
        "refcode": "email-june", "donations": 2, "amount_cents": 7700, "gross_cents": 7700,
        "average_gift_cents": 3850, "visitors": 4, "conversion_rate": 0.5, "donors": 2,
        "new_donors": 1, "returning_donors": 1}
    assert rows[None]["donations"] == 1 and rows[None]["new_donors"] == 1
    assert "fb" not in rows  # visits, but no donations in the range
    assert report["totals"]["donations"] == 3 and report["from"] == today
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    report = api.call("GET", f"/api/admin/reports/refcodes?page={slug}&from={yesterday}&to={yesterday}",
                      headers=ORGANIZER)[1]
    assert report["refcodes"] == []
    # Every page of the committee: the same rows here (one page), plus the other page's.
    other = api.create_page(committee_id=cid)["slug"]
    pay(api, api.donate(other, amount_cents=1500, refcode="email-june"))
    report = api.call("GET", f"/api/admin/reports/refcodes?committee_id={cid}", headers=FINANCE)[1]
    row = next(r for r in report["refcodes"] if r["refcode"] == "email-june")
    assert (row["donations"], row["amount_cents"], row["visitors"]) == (3, 9200, 4)
    assert api.call("GET", f"/api/admin/reports/refcodes?page={slug}&from=nope", headers=ORGANIZER)[0] == 400
    status, error = api.call("GET", "/api/admin/reports/refcodes", headers=ORGANIZER)
    assert status == 400 and "page" in error["error"]["fields"]
    assert api.call("GET", "/api/admin/reports/refcodes?page=no-such-page", headers=ORGANIZER)[0] == 404


# --- the page itself --------------------------------------------------------------------------
def test_donation_page_is_small_and_honest(api) -> None:
    slug = api.create_page(deadline=soon(hours=30))["slug"]
    status, html, headers = get(api, f"/donate/{slug}")
    assert status == 200 and "gs_vid=" in headers["Set-Cookie"]
    script = api.client.http.get("/assets/donate.js").body
    weight = len(html.encode()) + len(script)
    assert weight < 30 * 1024, weight
    assert 'role="timer"' in html and re.search(r'data-seconds="10[0-9]{4}"', html)
    assert re.search(r'id="recurring" name="recurring">', html)  # unchecked
    assert re.search(r'id="save_payment_method" name="save_payment_method">', html)
    assert "not tax deductible" in html and "Paid for by" in html
    closed = api.create_page(deadline="2020-01-01T00:00:00Z")["slug"]
    html = get(api, f"/donate/{closed}")[1]
    assert "no longer takes donations" in html and 'id="donate"' not in html


def test_thank_you_page_shows_the_share_link(api) -> None:
    from chalicelib.followups.planning import share_refcode

    slug = api.create_page()["slug"]
    email = f"sharer.{uuid.uuid4().hex[:8]}@example.org"
    started = api.donate(slug, email=email)
    status, html, _ = get(api, f"/donate/{slug}/thanks?donation_id={started['donation_id']}")
    code = share_refcode(deps.tokens().share_code(donor_id_for(email)))
    assert status == 200 and f"/donate/{slug}?refcode={code}" in html
    # Another page's donation, or none: the plain link.
    other = api.create_page()["slug"]
    html = get(api, f"/donate/{other}/thanks?donation_id={started['donation_id']}")[1]
    assert "refcode=" not in html and f'href="/donate/{other}"' in html
