"""Inbound texts: the replies people send to our texts (STOP, HELP, START), as SNS delivers
them from AWS's two-way SMS (`/webhooks/sms`).

The notification's signature is checked exactly as SES feedback's is (`chalicelib/notify/sns.py`,
with the topics in `SMS_INBOUND_TOPICS`): a bad signature, an unknown topic or an old message is
4xx and writes nothing. The service (followups/texting.py) writes each notification's effects
once, whatever SNS redelivers.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps, logs
from chalicelib.api.http import handles_errors, json_response
from chalicelib.api.invitations import ANY_BODY, sns_body

texts = Blueprint(__name__)


@texts.route("/webhooks/sms", methods=["POST"], content_types=ANY_BODY)
@handles_errors
def sms_webhook() -> Response:
    """A signed SNS notification of an inbound text: `{"received": true, "outcome"}` (`stopped`,
    `started`, `help`, `duplicate`, `ignored`, `unknown_number`; `subscribed` for the topic's
    `SubscriptionConfirmation`)."""
    verified = deps.sms_verifier().verify(sns_body(texts.current_request.raw_body))
    if verified["Type"] == "SubscriptionConfirmation":
        deps.sms_verifier().confirm_subscription(verified)
        logs.info("sns subscription confirmed", topic=verified.get("TopicArn"))
        return json_response({"received": True, "outcome": "subscribed"})
    if verified["Type"] != "Notification":
        return json_response({"received": True, "outcome": "ignored"})
    return json_response({"received": True, "outcome": deps.texting().record_inbound(verified)})
