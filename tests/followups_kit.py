"""Factories and drivers for follow-up tests: actions, draining the outbox (now or at a later
moment), and SNS messages signed with a locally generated certificate."""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.helpers import wait_for


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def fresh_zip() -> str:
    """A ZIP in a ZIP3 no other test is likely to use, so matching is predictable."""
    zip3 = random.choice([z for z in range(100, 1000) if z not in (627, 981)])  # the fixtures' own
    return f"{zip3}{random.randint(10, 99)}"


def action_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "phonebank", "title": f"Phone bank {uuid.uuid4().hex[:6]}",
        "description": "Call voters with us.", "starts_at": iso(now() + timedelta(days=5)),
        "ends_at": iso(now() + timedelta(days=5, hours=2)), "virtual": True,
    }
    body.update(overrides)
    return body


def give(api: Any, slug: str, email: str, cents: int = 2700, **top: Any) -> dict[str, Any]:
    """A successful contribution through the stack: intake (a fresh ZIP, so no other test's
    donor is near), then its signed `payment_intent.succeeded`."""
    from tests.helpers import donation_body, stripe_event

    body = donation_body(amount_cents=cents, email=email, **top)
    body["donor"]["address"]["zip"] = fresh_zip()
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    intent = started["client_secret"].split("_secret_")[0]
    event = stripe_event("payment_intent.succeeded", id=intent, amount=cents, amount_received=cents,
                         metadata={"donation_id": started["donation_id"]})
    assert api.webhook(event)[1]["outcome"] == "applied"
    return started


def outbox_item(message_id: str) -> Any:
    from chalicelib import deps

    return deps.outbox_store().get(message_id)


def drain_until(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Run the app's outbox drain until `predicate()` holds."""
    from chalicelib import deps

    def step() -> Any:
        deps.dispatcher().drain(limit=500)
        return predicate()

    return wait_for(step, timeout=timeout, interval=0.05)


def delivered(message_id: str) -> Callable[[], Any]:
    def check() -> Any:
        item = outbox_item(message_id)
        return item if item is not None and item.status != "pending" else None

    return check


def service_at(moment: datetime, mailer: Any = None) -> Any:
    """The app's follow-up delivery, living at `moment` (tokens, caps and due times agree)."""
    from chalicelib import deps
    from chalicelib.followups.delivery import DeliveryService
    from chalicelib.tokens import Tokens

    real = deps.delivery()
    clock = lambda: moment  # noqa: E731
    return DeliveryService(real.store, mailer or real.mailer, Tokens(deps.settings().token_secret, clock),
                           real.donations, real.pages, real.config, clock, texter=real.texter)


def audience_at(moment: datetime) -> Any:
    """The app's signups and RSVPs, living at `moment`."""
    from chalicelib import deps
    from chalicelib.followups.audience import AudienceService
    from chalicelib.tokens import Tokens

    real = deps.audience()
    clock = lambda: moment  # noqa: E731
    return AudienceService(real.store, Tokens(deps.settings().token_secret, clock), real.donations,
                           real.pages, real.config, clock)


def drain_at(moment: datetime, mailer: Any = None) -> Any:
    """Drain the outbox as if it were `moment` (e.g. two days on, for reminders)."""
    from chalicelib import deps
    from chalicelib.followups.hosting import HostService
    from chalicelib.followups.texting import TextService
    from chalicelib.outbox.dispatcher import Dispatcher

    service = service_at(moment, mailer)
    hosting = HostService(service.store, service.tokens, service.config, service.clock)
    real = deps.texting()
    texting = TextService(service, real.sender_name, real.committee_name)
    handlers = {**deps.outbox_handlers(), **service.handlers(), **hosting.handlers(), **texting.handlers()}
    return Dispatcher(deps.outbox_store(), handlers, lambda: moment).drain(limit=1000)


# --- SNS: a local "SNS" with its own signing certificate ------------------------------------------
SNS_TOPIC = "arn:aws:sns:us-east-1:123456789012:ses"


class LocalSns:
    """A stand-in for SNS's certificate host: serves a self-signed certificate over local HTTP
    and signs messages as SNS does. `fetch` is the verifier's fetch seam: it sends any URL (any
    host, as an attacker's would be) to this server over a real connection, through the
    verifier's own redirect-refusing `fetch_https`, and records each URL asked for."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        from chalicelib.notify import sns as verifier

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now() - timedelta(days=1)).not_valid_after(now() + timedelta(days=30))
                .sign(self.key, hashes.SHA256()))
        self.pem = cert.public_bytes(serialization.Encoding.PEM)
        self.fetched: list[str] = []  # every URL the verifier asked the seam for
        self.visited: list[str] = []  # every path the server answered
        self._fetch_https = verifier.fetch_https
        sns = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sns.visited.append(self.path)
                if self.path.startswith("/redirect/"):  # to the real certificate, one hop away
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/redirect"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = {"/missing/": 404, "/broken/": 500}.get(self.path[:self.path.find("/", 1) + 1], 200)
                body = sns.pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fetch(self, url: str) -> bytes:
        import urllib.parse

        self.fetched.append(url)
        parts = urllib.parse.urlsplit(url)
        return bytes(self._fetch_https(self.origin + parts.path + (f"?{parts.query}" if parts.query else "")))

    @staticmethod
    def cert_url(topic: str = SNS_TOPIC, path: str = "/SimpleNotificationService-test.pem") -> str:
        """Where SNS serves the certificate for `topic`: its own regional endpoint."""
        from chalicelib.notify.sns import sns_host

        return f"https://{sns_host(topic)}{path}"

    def message(self, kind: str, message: str, topic: str = SNS_TOPIC, version: str = "2",
                cert_url: str | None = None, sent: datetime | None = None,
                **extra: Any) -> dict[str, Any]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        from chalicelib.notify.sns import string_to_sign

        body: dict[str, Any] = {
            "Type": kind, "MessageId": str(uuid.uuid4()), "TopicArn": topic, "Message": message,
            "Timestamp": iso(sent or now()), "SignatureVersion": version,
            "SigningCertURL": cert_url or self.cert_url(topic), **extra,
        }
        if kind != "Notification":
            body.setdefault("Token", uuid.uuid4().hex)
            body.setdefault("SubscribeURL", self.cert_url(topic, "/?Action=ConfirmSubscription&Token=x"))
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # SNS version 1 signs SHA1
        body["Signature"] = base64.b64encode(
            self.key.sign(string_to_sign(body), padding.PKCS1v15(), digest)).decode()
        return body


@contextmanager
def signing_sns(monkeypatch: Any, **env: str) -> Iterator[LocalSns]:
    """A `LocalSns` reached through the verifier's fetch seam, with `env` (the topics) set."""
    sns = LocalSns()
    monkeypatch.setattr("chalicelib.notify.sns.fetch_https", sns.fetch)
    with environment(**env):
        yield sns
    sns.close()


def bounce(address: str, bounce_type: str = "Permanent") -> str:
    return json.dumps({"notificationType": "Bounce", "mail": {"messageId": "m-1"},
                       "bounce": {"bounceType": bounce_type,
                                  "bouncedRecipients": [{"emailAddress": address}]}})


def complaint(address: str) -> str:
    return json.dumps({"notificationType": "Complaint", "mail": {"messageId": "m-2"},
                       "complaint": {"complainedRecipients": [{"emailAddress": address}]}})


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Run with extra environment, rebuilding the app's services before and after."""
    import os

    from chalicelib import deps

    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    deps.reset()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        deps.reset()


# --- people invited to an action, without a donation each -----------------------------------------
def invite(action_id: str, count: int, prefix: str = "guest") -> list[tuple[str, str]]:
    """`count` subscribed people invited to `action_id` (as a thank-you would): each one's email
    and the RSVP link token their invitation carries."""
    from chalicelib import deps, tokens
    from chalicelib.followups.model import Invitation, Person, invitation_id_for
    from chalicelib.giving.model import donor_id_for

    store = deps.followup_store()
    invited = []
    for _ in range(count):
        email = f"{prefix}.{uuid.uuid4().hex[:10]}@example.org"
        person_id = donor_id_for(email)
        store.upsert_donor(Person(person_id, email, first_name="Sam", zip="05601", state="VT"),
                           subscribe=True, now=now())
        invitation_id = invitation_id_for(person_id, action_id)
        store.record_invitations([Invitation(invitation_id, person_id, action_id, "invited", now(),
                                             f"test#{action_id}")])
        invited.append((email, deps.tokens().issue(tokens.RSVP, invitation_id)))
    return invited
