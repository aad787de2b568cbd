"""The edge, replayed: 10,000 visitor requests over 60 simulated seconds through a model of the
distribution `make package` generates (its behaviors, cache policies and CloudFront Functions,
run under node: devtools/deploy/cache_model.py), to the real app over the local stack.

It shows: the origin sees under 10 requests a second for one page; no visitor is ever served
another variant's page; `?t=` (a donor's own ladder) is never served from the cache; and the
page's beacon, which does reach the origin, still counts each visitor once."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.api import caching
from chalicelib.pages.experiments import bucket_of
from devtools.deploy.cache_model import Distribution, EdgeCache, path_matches
from tests.helpers import ORGANIZER_KEY, page_body, staff

pytestmark = pytest.mark.stack

REQUESTS = 10_000
SECONDS = 60
NEW_VISITOR_SHARE = 0.06
VARIANTS = [{"id": "urgent", "headline": "Hours left", "body": "Give now.", "ask_amounts_cents": [500, 1500]},
            {"id": "local", "headline": "Your neighbors are in", "body": "Join them."}]


def test_cloudfront_path_patterns() -> None:
    assert path_matches("/donate/*/thanks", "/donate/a-b/thanks")
    assert path_matches("/api/pages/*", "/api/pages/x/donations")  # `*` crosses slashes
    assert not path_matches("/donate/*", "/donated")
    assert path_matches("/a?c", "/abc") and not path_matches("/a?c", "/ac")


def test_the_template_never_caches_writes_tokens_or_staff_routes(template: dict[str, Any]) -> None:
    distribution = Distribution(template)
    try:
        for path in ("/api/pages/p/donations", "/api/pages/p/visits", "/donate/p/thanks", "/webhooks/stripe",
                     "/webhooks/ses", "/i/tok", "/u/tok", "/s/tok", "/c/tok", "/e/tok", "/express/p",
                     "/r/code", "/api/admin/pages", "/api/exports", "/api/exports/e1", "/admin/x", "/me",
                     "/api/express/donations", "/api/signups"):
            behavior = distribution.behavior_for(path)
            assert behavior.policy is None or not behavior.policy.caches, path
        for path in ("/donate/p", "/api/pages/p", "/api/pages/p/progress", "/assets/donate.js"):
            behavior = distribution.behavior_for(path)
            assert behavior.policy is not None and behavior.policy.caches, path
            assert behavior.policy.min_ttl == 0 and behavior.policy.cookies == "none", path
        assert distribution.origin_shield
    finally:
        distribution.close()


class AppOrigin:
    """API Gateway's stage in front of the app: the chalice test client, over the local stack."""

    def __init__(self, client: Any, stage_path: str) -> None:
        self.client = client
        self.stage_path = stage_path

    def __call__(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                 body: str | None) -> tuple[int, dict[str, str], str]:
        assert path.startswith(self.stage_path + "/"), path
        url = path[len(self.stage_path):] + (f"?{urlencode(query)}" if query else "")
        if body is not None:
            headers = {**headers, "content-type": "application/json"}
        response = getattr(self.client.http, method.lower())(url, headers=headers, body=body)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, text


def shown_variant(body: str) -> str | None:
    match = re.search(r'data-variant="([^"]*)"', body)
    if match:
        return match.group(1)
    return (json.loads(body).get("variant") or {}).get("id")


@pytest.mark.timeout(900)  # ~2 minutes here: a thousand beacons are real writes to moto
def test_ten_thousand_visitors_over_a_minute(template: dict[str, Any], client, capsys) -> None:
    from chalicelib import deps
    from chalicelib.tokens import DONOR

    status = client.http.post("/api/admin/pages", headers={**staff(ORGANIZER_KEY),
                                                            "Content-Type": "application/json"},
                              body=json.dumps(body := page_body(variants=VARIANTS))).status_code
    assert status == 201
    slug = str(body["slug"])
    service = deps.page_service()
    page = service.get(slug)
    tokens = [deps.tokens().issue(DONOR, f"donor-{n}") for n in range(3)]
    distribution = Distribution(template)
    edge = EdgeCache(distribution, AppOrigin(client, distribution.origin_path))
    rng = random.Random(20261103)
    visitors: list[str] = []
    seen_variants: dict[str, set[str]] = defaultdict(set)
    remembered: set[tuple[str, str, str]] = set()  # the page script's localStorage, per visitor
    beacon_visitors: set[str] = set()
    refcode_visitors: set[str] = set()
    served = Counter()
    token_requests = 0
    try:
        for n in range(REQUESTS):
            now = n * SECONDS / REQUESTS
            if not visitors or rng.random() < NEW_VISITOR_SHARE:
                visitor, kind = None, "page"  # a new visitor arrives at the page
            else:
                visitor = rng.choice(visitors)
                kind = rng.choices(["page", "progress", "data", "asset"], [60, 25, 7, 8])[0]
            cookies = {"gs_vid": visitor} if visitor else {}
            query: dict[str, str] = {}
            roll = rng.random()
            if kind in ("page", "data"):
                if roll < 0.12:
                    query["refcode"] = "email-nov"
                elif roll < 0.15:
                    query["amount"] = "2700"
                elif roll < 0.16:
                    query["t"] = rng.choice(tokens)
            path = {"page": f"/donate/{slug}", "data": f"/api/pages/{slug}",
                    "progress": f"/api/pages/{slug}/progress", "asset": "/assets/donate.js"}[kind]
            answer = edge.request(now, "GET", path, query, cookies)
            assert answer.status == 200, (path, answer.status, answer.body[:200])
            served[answer.source] += 1
            if visitor is None:
                visitor = answer.set_cookies["gs_vid"]  # set by the viewer-response function
                visitors.append(visitor)
            else:
                assert "gs_vid" not in answer.set_cookies
            if "t" in query:
                token_requests += 1
                assert answer.source == "origin" and answer.headers["cache-control"] == caching.NO_STORE
            if kind in ("page", "data"):
                variant = shown_variant(answer.body)
                expected = service.arm_for(page, bucket_of(visitor), datetime.now(timezone.utc))
                assert expected is not None and variant == expected.id, (visitor, variant, expected)
                seen_variants[visitor].add(variant)
                if answer.source != "origin":  # a shared copy: browsers are told to keep it private
                    assert answer.headers["cache-control"].startswith("private")
            if kind == "page":  # the page's script sends its beacon unless it already has
                marker = (visitor, variant, query.get("refcode", ""))
                if marker not in remembered:
                    refcode = {"refcode": query["refcode"]} if "refcode" in query else {}
                    counted = edge.request(now, "POST", f"/api/pages/{slug}/visits", {}, {"gs_vid": visitor},
                                           json.dumps(refcode))
                    assert counted.status == 200 and counted.source == "origin"
                    assert json.loads(counted.body)["variant_id"] == variant
                    remembered.add(marker)
                    beacon_visitors.add(visitor)
                    if refcode:
                        refcode_visitors.add(visitor)
            if n % 500 == 0:
                capsys.readouterr()  # the app's log lines, not kept
    finally:
        distribution.close()

    assert all(len(v) == 1 for v in seen_variants.values())  # nobody ever saw two variants
    assert len({v for vs in seen_variants.values() for v in vs}) == 3

    page_paths = {f"/donate/{slug}", f"/api/pages/{slug}", f"/api/pages/{slug}/progress", "/assets/donate.js"}
    page_origin = [t for t, method, p in edge.origin_log if method == "GET" and p in page_paths]
    beacons = [t for t, method, p in edge.origin_log if method == "POST"]
    per_window = Counter(int(t // 10) for t in page_origin)
    worst_window_rate = max(per_window.values()) / 10
    mean_rate = len(page_origin) / SECONDS
    with capsys.disabled():
        print(f"\nedge replay: {REQUESTS} requests, {len(visitors)} visitors, served {dict(served)}; "
              f"origin GETs for the page {len(page_origin)} ({mean_rate:.1f}/s mean, "
              f"{worst_window_rate:.1f}/s worst 10 s, {token_requests} of them `?t=`); "
              f"beacons {len(beacons)} ({len(beacons) / SECONDS:.1f}/s, POST, never cacheable)")
    assert mean_rate < 10 and worst_window_rate < 10
    assert served["hit"] + served["stale"] > 0.9 * REQUESTS

    # The beacon still counts each visitor once: the A/B results and the refcode visitors.
    results = service.results(slug)
    assert sum(v["visitors"] for v in results["variants"]) == len(beacon_visitors)
    assert service.visits is not None
    refcodes = deps.report_service().visits.refcode_visitors([(slug, "email-nov")])
    assert refcodes[(slug, "email-nov")] == len(refcode_visitors)
