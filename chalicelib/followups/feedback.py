"""SES feedback (bounces and complaints) read into the addresses we must never mail again.

Both SES notification shapes are read: identity notifications (`notificationType`) and
configuration-set event publishing (`eventType`). Only permanent bounces and complaints
suppress; transient bounces (a full mailbox) and deliveries change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str  # "bounce" | "complaint"


def suppressions(notification: Any) -> list[Suppression]:
    """The addresses a SES notification tells us to stop mailing (maybe none)."""
    if not isinstance(notification, dict):
        return []
    kind = notification.get("notificationType") or notification.get("eventType")
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return []
        return [Suppression(e, "bounce") for e in _addresses(bounce.get("bouncedRecipients"))]
    if kind == "Complaint":
        complaint = notification.get("complaint") or {}
        return [Suppression(e, "complaint") for e in _addresses(complaint.get("complainedRecipients"))]
    return []


def _addresses(recipients: Any) -> list[str]:
    if not isinstance(recipients, list):
        return []
    found = []
    for recipient in recipients:
        address = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        if isinstance(address, str) and "@" in address:
            # SES may give "Name <addr>"; keep the address only.
            found.append(address.rsplit("<", 1)[-1].rstrip(">").strip())
    return found
