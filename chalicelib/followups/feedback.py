"""SES feedback (bounces and complaints) read into the addresses we must never mail again.

Both SES notification shapes are read: identity notifications (`notificationType`) and
configuration-set event publishing (`eventType`). Only permanent bounces and complaints
suppress; transient bounces (a full mailbox) and deliveries change nothing.

The same endpoint may also receive the alarms topic's notifications: the complaint-rate alarm
going to ALARM pauses invitations (never receipts), and back to OK resumes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The complaint-rate alarm's name ends so (devtools/deploy/alarms.py names it from this).
COMPLAINT_ALARM_SUFFIX = "-ses-complaint-rate"


def complaint_alarm(notification: Any) -> bool | None:
    """For a CloudWatch alarm notification of the complaint-rate alarm: True when it went to
    ALARM (pause invitations), False when back to OK (resume); None for anything else."""
    if not isinstance(notification, dict):
        return None
    name, state = notification.get("AlarmName"), notification.get("NewStateValue")
    if not isinstance(name, str) or not name.endswith(COMPLAINT_ALARM_SUFFIX):
        return None
    return {"ALARM": True, "OK": False}.get(str(state))


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
