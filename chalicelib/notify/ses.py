"""Email through Amazon SES v2 (`sesv2.send_email`, raw MIME so every header is ours).

Every message carries `List-Unsubscribe` (an HTTPS one-click URL) and `List-Unsubscribe-Post`
(RFC 8058), a plain-text and an HTML part. With `MAIL_MIRROR_DIR` set (`make run` sets
`.local/outbox/`), each sent message is also written there as an `.eml` file to read.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from chalicelib import logs, metrics
from chalicelib.followups.errors import AddressRefused, SendRefused, SendThrottled
from chalicelib.followups.model import OutgoingEmail
from chalicelib.ratelimit import BudgetExhausted

# SES answers these when the message itself can never be sent; other refusals may pass later.
_NEVER = {"BadRequestException", "InvalidParameterValue"}
# SES saying "slow down" (the account's send rate): counted as a throttle, retried later.
_THROTTLED = {"TooManyRequestsException", "Throttling", "ThrottlingException"}


def mime(email: OutgoingEmail, sender: str) -> bytes:
    """The message as SES sends it: text and HTML alternatives, one-click unsubscribe headers."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    if email.unsubscribe_url:  # transactional mail (a sign-in link) has no list to leave
        msg["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Groundswell-Message"] = email.message_id
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    # Long one-click URLs must stay literal: folding at 78 columns would turn the header into
    # RFC 2047 encoded words, which mail providers do not decode in List-Unsubscribe.
    return msg.as_bytes(policy=SMTP.clone(max_line_length=998))


def _tag(message_id: str) -> str:
    """SES tag values allow letters, digits, `_` and `-` only."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", message_id)[:256]


class SesAccount:
    """The account's `MaxSendRate` (SES v2 `GetAccount`), read at most once a minute per
    container: AWS raises the quota on request, and a drain picks the new rate up within a
    minute. Until the first answer (or when SES cannot be asked) the last known rate is used,
    at first `fallback`."""

    def __init__(self, region: str, fallback: float = 1.0, ttl_seconds: float = 60.0,
                 client: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.region = region
        self._client = client
        self._rate = fallback
        self._read_at: float | None = None
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def max_send_rate(self) -> float:
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._ttl:
                self._read_at = now
                try:
                    client = self._client or boto3.client("sesv2", region_name=self.region)
                    self._client = client
                    self._rate = float(client.get_account()["SendQuota"]["MaxSendRate"])
                except (ClientError, KeyError, EndpointConnectionError, ConnectTimeoutError) as exc:
                    logs.warning("SES send quota not read; using the last known rate",
                                 error=type(exc).__name__, rate=self._rate)
            return self._rate


class SesMailer:
    def __init__(self, region: str, sender: str, configuration_set: str | None = None,
                 mirror_dir: str | None = None, client: Any = None,
                 budget: Callable[[], None] | None = None) -> None:
        # `budget` takes one token of the account's send rate before each send (shared by
        # every drain: chalicelib/ratelimit.py); empty, the message is deferred, not failed.
        self._budget = budget
        self.region = region
        self.sender = sender
        self.configuration_set = configuration_set
        self.mirror_dir = Path(mirror_dir) if mirror_dir else None
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sesv2", region_name=self.region)
        return self._client

    def send(self, email: OutgoingEmail) -> str:
        """SES's message id. `SendRefused` when SES answered no (nothing was sent); other errors
        (a timeout after the request left) leave the outcome unknown and propagate."""
        raw = mime(email, self.sender)
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [{"Name": "outbox", "Value": _tag(email.message_id)}],
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        if self._budget is not None:
            try:
                self._budget()
            except BudgetExhausted as exc:
                raise SendThrottled("send rate used up") from exc
            except Exception as exc:
                # The budget's own store failed (a throttled or timed-out DynamoDB write): SES
                # was never asked, so the message is known unsent and may be tried again, never
                # left marked as perhaps sent.
                raise SendRefused(f"send budget unavailable: {type(exc).__name__}") from exc
        try:
            response = self.client.send_email(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _THROTTLED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 429:
                metrics.count(metrics.SES_THROTTLES)
                raise SendThrottled(code or "throttled") from exc
            refused = AddressRefused if code in _NEVER else SendRefused
            raise refused(code or "ClientError") from exc
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise SendRefused(type(exc).__name__) from exc  # the request never reached SES
        message_id = str(response["MessageId"])
        metrics.count(metrics.MESSAGES_SENT, channel="email")
        self._mirror(email, raw, message_id)
        return message_id

    def _mirror(self, email: OutgoingEmail, raw: bytes, ses_message_id: str) -> None:
        """The message as sent, with the id SES gave it (written only once SES accepted it)."""
        if self.mirror_dir is None:
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        try:
            self.mirror_dir.mkdir(parents=True, exist_ok=True)
            (self.mirror_dir / f"{stamp}-{_tag(email.message_id)}.eml").write_bytes(
                f"X-SES-Message-Id: {ses_message_id}\r\n".encode() + raw)
        except OSError as exc:  # the mirror is a convenience; the send has happened
            logs.warning("mail mirror not written", error=type(exc).__name__)


def ensure_sender_identity(region: str, sender: str) -> None:
    """Verify the sender's domain (moto's SES locally; in AWS, domain verification with DKIM is
    a deployment step, see the README)."""
    client = boto3.client("sesv2", region_name=region)
    domain = parseaddr(sender)[1].rpartition("@")[2]
    try:
        client.get_email_identity(EmailIdentity=domain)
    except ClientError:
        client.create_email_identity(EmailIdentity=domain)
