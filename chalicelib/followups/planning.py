"""What a successful contribution sets in motion, decided inside the webhook's transaction.

The planner does no I/O: it only names the work (a thank-you now, a reminder later, crediting
a sharer), with deterministic message ids so that a duplicate or concurrent event plans the
same items. Who gets what is decided when each message is delivered (followups/delivery.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.followups.texts import TEXT_INVITE
from chalicelib.giving.model import donor_id_for
from chalicelib.outbox.model import OutboxMessage

if TYPE_CHECKING:
    from chalicelib.giving.ledger import PaymentState
    from chalicelib.giving.model import Donation

# Refcodes of personal share links; other refcodes (campaign sources) are not credited.
SHARE_REFCODE_PREFIX = "sh-"

THANKS = "thanks"
REMINDER = "reminder"
CREDIT = "credit"
WELCOME = "welcome"
EVENT_REMINDER = "event_reminder"  # the day before: confirm or cancel
SEATED = "seated"  # a seat freed and went to the first on the waitlist
WRAP_UP = "wrap_up"  # an action ended: the seats nobody checked in are no-shows
AFTER = "after"  # an hour after the end, to each attendee: how was it, and what next
PROPOSAL_REVIEWED = "proposal_reviewed"  # an organizer approved or declined a supporter's action
CONFIRM_SIGNUP = "confirm_signup"


# Emails whose whole point is an invitation (not a receipt, a link someone asked for or a
# reminder of an event they said yes to): sent after everything else when sending is
# rationed, and held while invitations are paused (complaints above the alarm's threshold).
INVITATION_KINDS = frozenset({REMINDER, WELCOME})


def send_priority(message: OutboxMessage) -> int:
    """The drain's order: receipts and everything else first (0), invitations after (1)."""
    return 1 if message.kind in INVITATION_KINDS else 0


def text_invite(after: str, now: datetime, payload: dict[str, str]) -> OutboxMessage:
    """The text twin of an email's invitations (`after`, the email's message id): due a little
    later, so the email has chosen them."""
    return OutboxMessage(f"{TEXT_INVITE}#{after}", TEXT_INVITE, now + TEXT_INVITE_DELAY,
                         {**payload, "after": after})


TEXT_INVITE_DELAY = timedelta(minutes=2)


def share_refcode(code: str) -> str:
    return SHARE_REFCODE_PREFIX + code


class FollowupPlanner:
    """A `giving.service.Planner`: thank-you, reminder and share credit for a new success."""

    def __init__(self, reminder_delay: timedelta) -> None:
        self.reminder_delay = reminder_delay

    def __call__(self, donation: Donation, new: PaymentState, now: datetime) -> list[OutboxMessage]:
        if not new.paid or donation.state.paid:
            return []
        donation_id = donation.donation_id
        payload = {"donation_id": donation_id}
        thanks: dict[str, str] = dict(payload)
        if donation.next_charge_on is not None:  # a monthly receipt states its next charge (AB 775)
            thanks["next_charge_on"] = donation.next_charge_on.isoformat()
        messages = [
            OutboxMessage(f"{THANKS}#{donation_id}", THANKS, now, thanks),
            OutboxMessage(f"{REMINDER}#{donation_id}", REMINDER, now + self.reminder_delay,
                          {**payload, "after": f"{THANKS}#{donation_id}"}),
        ]
        if donation.sms_opt_in:  # the thank-you's best invitation, also as a text
            messages.append(text_invite(f"{THANKS}#{donation_id}", now, payload))
        refcode = donation.refcode or ""
        if refcode.startswith(SHARE_REFCODE_PREFIX):
            messages.append(OutboxMessage(f"{CREDIT}#{donation_id}", CREDIT, now, {
                **payload, "share_code": refcode.removeprefix(SHARE_REFCODE_PREFIX),
                "person_id": donor_id_for(donation.donor.email), "amount_cents": donation.amount_cents,
            }))
        return messages
