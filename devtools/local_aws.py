"""moto's server, as `moto_server` runs it, with DynamoDB requests serialized and SES's
account quota served and enforced.

Real DynamoDB applies each transaction and conditional write atomically; moto's threaded server
does not lock, so two concurrent transactions can both pass a condition. One lock around
DynamoDB calls restores the isolation our exactly-once tests rely on (other services run
concurrently as before).

moto (5.2) has no SES v2 `GetAccount`, and its v1 `GetSendQuota` is fixed (1 message per
second, 200 a day) and never enforced. `LocalSes` answers `GetAccount` from a quota a test
sets (`POST /_local/ses/quota {"max_send_rate": 20, "max_24_hour_send": 50000}`; the default
is `DEFAULT_MAX_SEND_RATE`) and refuses a v2 `SendEmail` past that many in one second as SES
does (429 `TooManyRequestsException`, "Maximum sending rate exceeded."), counted per
calendar second. `GET /_local/ses`
shows the quota, each accepted send's time and the number refused.

`GET /_local/sns/sms` lists the texts moto's SNS accepted (`sns.publish(PhoneNumber=…)`), from
its backend, oldest first: `[{"message_id", "phone", "message"}]`.

    python -m devtools.local_aws --port 5000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

from devtools import moto_transactions


class SerializedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


DEFAULT_MAX_SEND_RATE = 100.0


class LocalSes:
    """WSGI middleware: SES v2's account quota (`GetAccount`) and its send rate, enforced."""

    ACCOUNT = "/v2/email/account"
    SEND = "/v2/email/outbound-emails"
    CONTROL = "/_local/ses"

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.reset()

    def reset(self, max_send_rate: float = DEFAULT_MAX_SEND_RATE, max_24_hour_send: float = 50_000.0) -> None:
        self.max_send_rate, self.max_24_hour_send = float(max_send_rate), float(max_24_hour_send)
        self.sent: list[float] = []
        self.refused = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == self.ACCOUNT and method == "GET":
            return self._json(start_response, 200, self._account())
        if path.startswith(self.CONTROL):
            if method == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                with self.lock:
                    self.reset(**{k: body[k] for k in ("max_send_rate", "max_24_hour_send") if k in body})
            with self.lock:
                return self._json(start_response, 200, {
                    "max_send_rate": self.max_send_rate, "sent": list(self.sent),
                    "refused": self.refused})
        if path == self.SEND and method == "POST":
            now = time.time()
            with self.lock:
                # Per calendar second: SES lets short bursts through, so a sender keeping to
                # the rate second by second is never refused.
                this_second = sum(1 for t in self.sent[-int(self.max_send_rate) - 1:] if int(t) == int(now))
                if this_second >= self.max_send_rate:
                    self.refused += 1
                    return self._json(start_response, 429, {"message": "Maximum sending rate exceeded."},
                                      [("x-amzn-ErrorType", "TooManyRequestsException")])
                self.sent.append(now)
        return self.app(environ, start_response)

    def _account(self) -> dict[str, Any]:
        day_ago = time.time() - 86_400
        return {"DedicatedIpAutoWarmupEnabled": False, "EnforcementStatus": "HEALTHY",
                "ProductionAccessEnabled": True, "SendingEnabled": True,
                "SendQuota": {"Max24HourSend": self.max_24_hour_send, "MaxSendRate": self.max_send_rate,
                              "SentLast24Hours": float(sum(1 for t in self.sent if t > day_ago))}}

    @staticmethod
    def _json(start_response: Callable[..., Any], status: int, body: Any,
              headers: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        data = json.dumps(body).encode()
        reason = {200: "OK", 429: "Too Many Requests"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(data))), *(headers or [])])
        return [data]


class LocalSms:
    """WSGI middleware: the texts moto's SNS backend recorded, for tests to read."""

    PATH = "/_local/sns/sms"

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == self.PATH and environ.get("REQUEST_METHOD") == "GET":
            from moto.sns.models import sns_backends

            sent = [{"message_id": message_id, "phone": phone, "message": message}
                    for _account, regions in sns_backends.items() for _region, backend in regions.items()
                    for message_id, (phone, message) in list(backend.sms_messages.items())]
            return LocalSes._json(start_response, 200, sent)
        return self.app(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    moto_transactions.install()  # transactions cost the items they touch, not whole tables
    app = LocalSms(LocalSes(SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))))
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
