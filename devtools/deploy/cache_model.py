"""A model of the CloudFront distribution in `make package`'s template, for replaying visitors.

Everything it applies is read from the generated template: which behavior a path matches (the
path patterns, in order), the cache policy of each (TTL bounds; the headers, cookies and query
strings in the cache key), and the CloudFront Functions' code, run under node
(devtools/deploy/edge/run_functions.js). Only AWS's own facts are written here: what the two
managed policies the template names do, and how CloudFront reads `Cache-Control`:

- `no-store`, `no-cache` or `private` with a minimum TTL of 0: not cached;
- else `s-maxage`, else `max-age`, clamped to the policy's [MinTTL, MaxTTL]; none: DefaultTTL;
- `stale-while-revalidate=N`: for N seconds after expiry the stale copy is served while one
  request refreshes it (modelled as refreshed at once);
- with Origin Shield (the template enables it) one regional cache stands in front of the origin,
  so one cache is modelled.
Requests are replayed one at a time on a simulated clock; the origin is any callable.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.deploy import edge

RUNNER = Path(__file__).resolve().parent / "edge" / "run_functions.js"
# What the managed policies the template may name do (AWS's documentation).
MANAGED_NO_CACHE = {edge.CACHING_DISABLED}
MANAGED_FORWARD_ALL = {edge.ALL_VIEWER_EXCEPT_HOST, edge.ALL_VIEWER_AND_CLOUDFRONT}

# (status, lower-cased headers, body) as the origin answers.
OriginAnswer = tuple[int, dict[str, str], str]
# (method, path, query, headers, body) -> the answer.
Origin = Callable[[str, str, dict[str, str], dict[str, str], str | None], OriginAnswer]


def path_matches(pattern: str, path: str) -> bool:
    """CloudFront's path patterns: `*` any run of characters (slashes too), `?` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, path) is not None


@dataclass(frozen=True)
class CachePolicy:
    min_ttl: int
    default_ttl: int
    max_ttl: int
    headers: tuple[str, ...] = ()
    cookies: str | tuple[str, ...] = "none"
    query: str | tuple[str, ...] = "none"

    @property
    def caches(self) -> bool:
        return self.max_ttl > 0

    def ttl(self, cache_control: str | None) -> tuple[float, float]:
        """(seconds fresh, seconds stale-while-revalidate) for an origin's Cache-Control."""
        directives: dict[str, str | None] = {}
        for part in (cache_control or "").split(","):
            name, _, value = part.strip().partition("=")
            if name:
                directives[name.lower()] = value or None
        swr = float(directives.get("stale-while-revalidate") or 0)
        if {"no-store", "no-cache", "private"} & directives.keys():
            return float(self.min_ttl), 0.0
        for name in ("s-maxage", "max-age"):
            if directives.get(name) is not None:
                return float(min(max(int(directives[name] or 0), self.min_ttl), self.max_ttl)), swr
        return float(self.default_ttl), swr


@dataclass(frozen=True)
class Behavior:
    pattern: str  # "*" for the default behavior
    methods: tuple[str, ...]
    policy: CachePolicy | None  # None: the managed CachingDisabled
    forwards_all: bool  # the managed AllViewer… origin request policies
    functions: Mapping[str, str] = field(default_factory=dict)  # event type -> function name


@dataclass
class Entry:
    answer: OriginAnswer
    stored_at: float
    fresh: float
    stale: float


@dataclass
class Served:
    """What the viewer got, and from where: `origin` (a miss or uncacheable), `hit`, `stale`."""

    status: int
    headers: dict[str, str]
    body: str
    source: str
    set_cookies: dict[str, str]


class Functions:
    """The template's CloudFront Functions, run under node in one long-lived process."""

    def __init__(self, codes: Mapping[str, str]) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is needed to run the CloudFront Functions")
        self.process = subprocess.Popen([node, str(RUNNER)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        for name, code in codes.items():
            self._ask({"load": name, "code": code})

    def _ask(self, message: dict[str, Any]) -> Any:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"CloudFront Function failed: {answer['error']}")
        return answer.get("result")

    def call(self, name: str, event: dict[str, Any]) -> Any:
        return self._ask({"call": name, "event": event})

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)


class Distribution:
    """The template's `EdgeDistribution` with its behaviors, policies and functions."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        resources = template["Resources"]
        config = resources["EdgeDistribution"]["Properties"]["DistributionConfig"]
        [origin] = config["Origins"]
        self.origin_path = origin.get("OriginPath", "")
        self.origin_shield = bool(origin.get("OriginShield", {}).get("Enabled"))
        codes: dict[str, str] = {}

        def behavior(spec: Mapping[str, Any]) -> Behavior:
            policy_ref = spec["CachePolicyId"]
            policy = None
            if isinstance(policy_ref, dict):
                cfg = resources[policy_ref["Ref"]]["Properties"]["CachePolicyConfig"]
                key = cfg["ParametersInCacheKeyAndForwardedToOrigin"]
                policy = CachePolicy(
                    cfg["MinTTL"], cfg["DefaultTTL"], cfg["MaxTTL"],
                    tuple(h.lower() for h in key["HeadersConfig"].get("Headers", [])),
                    _listing(key["CookiesConfig"], "CookieBehavior", "Cookies"),
                    _listing(key["QueryStringsConfig"], "QueryStringBehavior", "QueryStrings"))
            elif policy_ref not in MANAGED_NO_CACHE:
                raise ValueError(f"unknown managed cache policy {policy_ref}")
            forwarding = spec.get("OriginRequestPolicyId")
            if forwarding is not None and forwarding not in MANAGED_FORWARD_ALL:
                raise ValueError(f"unknown origin request policy {forwarding}")
            functions = {}
            for association in spec.get("FunctionAssociations", []):
                name = association["FunctionARN"]["Fn::GetAtt"][0]
                codes[name] = resources[name]["Properties"]["FunctionCode"]
                functions[association["EventType"]] = name
            return Behavior(spec.get("PathPattern", "*"), tuple(spec["AllowedMethods"]), policy,
                            forwarding is not None, functions)

        self.behaviors = [behavior(b) for b in config.get("CacheBehaviors", [])]
        self.default = behavior(config["DefaultCacheBehavior"])
        self.functions = Functions(codes)

    def behavior_for(self, path: str) -> Behavior:
        return next((b for b in self.behaviors if path_matches(b.pattern, path)), self.default)

    def close(self) -> None:
        self.functions.close()


def _listing(config: Mapping[str, Any], behavior_key: str, list_key: str) -> str | tuple[str, ...]:
    behavior = config[behavior_key]
    return tuple(config.get(list_key, [])) if behavior == "whitelist" else behavior


class EdgeCache:
    """Replays viewer requests through the distribution to `origin`, counting what reaches it."""

    def __init__(self, distribution: Distribution, origin: Origin) -> None:
        self.distribution = distribution
        self.origin = origin
        self.entries: dict[tuple[Any, ...], Entry] = {}
        self.origin_log: list[tuple[float, str, str]] = []  # (time, method, path)

    def request(self, now: float, method: str, path: str, query: Mapping[str, str] | None = None,
                cookies: Mapping[str, str] | None = None, body: str | None = None) -> Served:
        behavior = self.distribution.behavior_for(path)
        if method not in behavior.methods:
            return Served(403, {}, "", "edge", {})
        request_id = uuid.uuid4().hex
        event: dict[str, Any] = {
            "version": "1.0",
            "context": {"eventType": "viewer-request", "requestId": request_id},
            "viewer": {"ip": "198.51.100.7"},
            "request": {"method": method, "uri": path,
                        "querystring": {k: {"value": v} for k, v in (query or {}).items()},
                        "headers": {"host": {"value": "edge.example"}},
                        "cookies": {k: {"value": v} for k, v in (cookies or {}).items()}},
        }
        viewer_request = dict(event["request"])
        if "viewer-request" in behavior.functions:
            event["request"] = self.distribution.functions.call(behavior.functions["viewer-request"], event)
        request = event["request"]
        headers = {k: v["value"] for k, v in request["headers"].items()}
        qs = {k: v["value"] for k, v in request["querystring"].items()}
        jar = {k: v["value"] for k, v in request["cookies"].items()}
        policy = behavior.policy
        cacheable = policy is not None and policy.caches and method in ("GET", "HEAD")
        key = self._key(policy, path, headers, qs, jar) if policy is not None else None
        source = "origin"
        entry = self.entries.get(key) if cacheable else None  # type: ignore[arg-type]
        if entry is not None and now < entry.stored_at + entry.fresh:
            answer, source = entry.answer, "hit"
        elif entry is not None and now < entry.stored_at + entry.fresh + entry.stale:
            answer, source = entry.answer, "stale"
            self._fetch(now, method, path, policy, behavior, headers, qs, jar, key, cacheable, body)
        else:
            answer = self._fetch(now, method, path, policy, behavior, headers, qs, jar, key, cacheable, body)
        status, response_headers, body = answer
        response: dict[str, Any] = {"statusCode": status,
                    "headers": {k: {"value": v} for k, v in response_headers.items() if k != "set-cookie"},
                    "cookies": {}}
        if "set-cookie" in response_headers:  # an origin cookie, as CloudFront parses it
            name, _, rest = response_headers["set-cookie"].partition("=")
            value, _, attributes = rest.partition(";")
            response["cookies"][name] = {"value": value, "attributes": attributes.strip()}
        if "viewer-response" in behavior.functions:
            response_event = {**event, "context": {"eventType": "viewer-response", "requestId": request_id},
                              "request": viewer_request, "response": response}
            response = self.distribution.functions.call(behavior.functions["viewer-response"], response_event)
        return Served(response["statusCode"], {k: v["value"] for k, v in response["headers"].items()},
                      body, source, {k: v["value"] for k, v in response.get("cookies", {}).items()})

    @staticmethod
    def _key(policy: CachePolicy, path: str, headers: Mapping[str, str], query: Mapping[str, str],
             cookies: Mapping[str, str]) -> tuple[Any, ...]:
        def pick(spec: str | tuple[str, ...], values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
            if spec == "none":
                return ()
            if spec == "all":
                return tuple(sorted(values.items()))
            return tuple(sorted((k, v) for k, v in values.items() if k in spec))
        return (path, pick(policy.headers, headers), pick(policy.query, query), pick(policy.cookies, cookies))

    def _fetch(self, now: float, method: str, path: str, policy: CachePolicy | None, behavior: Behavior,
               headers: Mapping[str, str], query: Mapping[str, str], cookies: Mapping[str, str],
               key: tuple[Any, ...] | None, cacheable: bool, body: str | None) -> OriginAnswer:
        if behavior.forwards_all:  # everything the viewer sent, except Host
            sent_headers = {k: v for k, v in headers.items() if k != "host"}
            sent_query, sent_cookies = dict(query), dict(cookies)
        else:  # what is in the cache key, and nothing else
            assert policy is not None and key is not None
            sent_headers, sent_query, sent_cookies = dict(key[1]), dict(key[2]), dict(key[3])
        if sent_cookies:
            sent_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in sent_cookies.items())
        self.origin_log.append((now, method, path))
        answer = self.origin(method, self.distribution.origin_path + path, sent_query, sent_headers, body)
        if cacheable and policy is not None and key is not None:
            fresh, stale = policy.ttl(answer[1].get("cache-control"))
            if fresh > 0:
                self.entries[key] = Entry(answer, now, fresh, stale)
            else:
                self.entries.pop(key, None)
        return answer
