"""Text messages through Amazon SNS (`sns.publish(PhoneNumber=…)`), the transport of the one
delivery path's text channel (followups/delivery.py `_send`).

With `MAIL_MIRROR_DIR` set (`make run` sets `.local/outbox/`), each text SNS accepted is also
written there, as a `.txt` file beside the emails' `.eml` files.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from chalicelib import logs, metrics
from chalicelib.followups.errors import AddressRefused, SendRefused, SendThrottled
from chalicelib.followups.texts import OutgoingText

# SNS answers these when the text itself can never be sent (a number it will not text, one that
# opted out at the carrier); other refusals may pass later.
_NEVER = {"InvalidParameter", "InvalidParameterValue", "OptedOut"}
_THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException"}


def _tag(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", message_id)[:200]


class SnsTexter:
    def __init__(self, region: str, sender_id: str | None = None, mirror_dir: str | None = None,
                 client: Any = None) -> None:
        self.region = region
        self.sender_id = sender_id
        self.mirror_dir = Path(mirror_dir) if mirror_dir else None
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sns", region_name=self.region)
        return self._client

    def send(self, text: OutgoingText) -> str:
        """SNS's message id. `SendRefused` when SNS answered no (nothing was sent); other errors
        (a timeout after the request left) leave the outcome unknown and propagate."""
        attributes: dict[str, Any] = {"AWS.SNS.SMS.SMSType": {
            "DataType": "String", "StringValue": "Transactional" if text.essential else "Promotional"}}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        try:
            response = self.client.publish(PhoneNumber=text.to, Message=text.body,
                                           MessageAttributes=attributes)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _THROTTLED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 429:
                raise SendThrottled(code or "throttled") from exc
            refused = AddressRefused if code in _NEVER else SendRefused
            raise refused(code or "ClientError") from exc
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise SendRefused(type(exc).__name__) from exc  # the request never reached SNS
        message_id = str(response["MessageId"])
        metrics.count(metrics.MESSAGES_SENT, channel="sms")
        self._mirror(text, message_id)
        return message_id

    def _mirror(self, text: OutgoingText, sns_message_id: str) -> None:
        if self.mirror_dir is None:
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        try:
            self.mirror_dir.mkdir(parents=True, exist_ok=True)
            (self.mirror_dir / f"{stamp}-{_tag(text.message_id)}.txt").write_text(
                f"To: {text.to}\nX-SNS-Message-Id: {sns_message_id}\n"
                f"X-Groundswell-Message: {text.message_id}\n\n{text.body}\n")
        except OSError as exc:  # the mirror is a convenience; the send has happened
            logs.warning("text mirror not written", error=type(exc).__name__)
