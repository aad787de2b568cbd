"""Event objects, Stripe-style webhook signatures and the background delivery worker."""

from __future__ import annotations

import copy
import hashlib
import heapq
import hmac
import itertools
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_API_VERSION = "2026-10-28.endive"  # what stripe-python 16.1.0 sends
_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return a Stripe-looking id such as ``pi_3Pq...``."""
    return f"{prefix}_{''.join(secrets.choice(_ALNUM) for _ in range(length))}"


@dataclass(frozen=True)
class RequestContext:
    """What an event records about the API request that caused it."""

    request_id: str
    idempotency_key: str | None = None
    api_version: str = DEFAULT_API_VERSION


def build_event(
    type: str,
    obj: dict[str, Any],
    ctx: RequestContext | None,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build an ``event`` object holding a snapshot of ``obj``."""
    data: dict[str, Any] = {"object": copy.deepcopy(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": ctx.api_version if ctx else DEFAULT_API_VERSION,
        "created": int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {
            "id": ctx.request_id if ctx else None,
            "idempotency_key": ctx.idempotency_key if ctx else None,
        },
        "type": type,
    }


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Return a ``Stripe-Signature`` header value for ``payload`` exactly as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode(), hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


@dataclass
class Delivery:
    """Delivery state of one event to the webhook endpoint."""

    event: dict[str, Any]
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered: bool = False
    gave_up: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "event_id": self.event["id"],
            "type": self.event["type"],
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "delivered": self.delivered,
            "gave_up": self.gave_up,
        }


@dataclass
class WebhookTarget:
    """Where events go; replaceable at runtime through ``/_standin/webhook``."""

    url: str | None = None
    secret: str = "whsec_local_dev"


class Deliverer:
    """POSTs signed events from worker threads, retrying with exponential backoff.

    A heap of (due time, seq, delivery) lets retries wait without holding a worker.
    """

    def __init__(
        self,
        target: WebhookTarget,
        *,
        retry_base_seconds: float = 1.0,
        max_attempts: int = 8,
        workers: int = 4,
        timeout: float = 10.0,
        post: Callable[[str, bytes, dict[str, str], float], int] | None = None,
    ) -> None:
        self.target = target
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._post = post or _http_post
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._deliveries: list[Delivery] = []
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._run, name=f"standin-webhook-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def enqueue(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for delivery if a webhook URL is configured."""
        with self._cond:
            if not self.target.url:
                return
            event["pending_webhooks"] = 1
            delivery = Delivery(event)
            self._deliveries.append(delivery)
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), delivery))
            self._cond.notify()

    def configure(self, url: str | None, secret: str | None = None) -> None:
        """Replace the webhook URL (None disables delivery) and optionally the signing secret."""
        with self._cond:
            self.target.url = url
            if secret:
                self.target.secret = secret

    def deliveries(self) -> list[dict[str, Any]]:
        """Summaries of every delivery, oldest first."""
        with self._cond:
            return [d.summary() for d in self._deliveries]

    def stop(self) -> None:
        """Stop the workers (pending retries are dropped)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, delivery = heapq.heappop(self._heap)
                url, secret = self.target.url, self.target.secret
            self._attempt(delivery, url, secret)

    def _attempt(self, delivery: Delivery, url: str | None, secret: str) -> None:
        status: int | None = None
        error: str | None = None
        if url:
            body = json.dumps(delivery.event, separators=(",", ":"), ensure_ascii=False)
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(body, secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            }
            try:
                status = self._post(url, body.encode("utf-8"), headers, self.timeout)
            except Exception as exc:  # any failure to reach the endpoint counts as a failed attempt
                error = f"{type(exc).__name__}: {exc}"
        else:
            error = "no webhook url configured"
        with self._cond:
            delivery.attempts += 1
            delivery.last_status, delivery.last_error = status, error
            if status is not None and 200 <= status < 300:
                delivery.delivered = True
                delivery.event["pending_webhooks"] = 0
            elif url and delivery.attempts < self.max_attempts:
                delay = self.retry_base_seconds * 2 ** (delivery.attempts - 1)
                heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), delivery))
                self._cond.notify()
            else:
                delivery.gave_up = True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # Stripe treats a redirect as a failed delivery


# No proxies: the endpoint is normally on localhost and a stray http_proxy must not intercept it.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code
