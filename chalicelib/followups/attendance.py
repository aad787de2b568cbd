"""What an answer to an invitation changes: its status, the action's seats and waitlist, who is
seated from the waitlist, and which messages that sets in motion (plain Python, no I/O).

The states: `invited` → `yes` | `no`; a `yes` to a full action is `waitlisted` (first come,
first seated) and becomes `yes` when a seat is given back; `yes` → `confirmed` (the day-before
message asks) or `cancelled`; after the event the host records `attended` or `no_show`.

Storage writes a change in one transaction whose conditions make it safe under any
concurrency (storage/followups.py): a seat is taken only while one is left and nobody waits,
a place on the waitlist only while the action is full or others wait, a seat is given back to
nobody only while nobody waits, and the person seated from the waitlist is still waiting.
So the seats taken never pass the capacity, and a freed seat never stays empty while someone
waits. A change whose conditions fail is decided again from a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.errors import Conflict
from chalicelib.followups import planning, texts
from chalicelib.followups.model import SEATED, Action, Invitation
from chalicelib.outbox.model import OutboxMessage

# An answer recorded once attendance is known changes nothing more.
FINAL = frozenset({"attended", "no_show"})


@dataclass(frozen=True)
class RsvpChange:
    """One answer's writes. `seat` +1 takes a seat, -1 gives one back to nobody; `waiting` +1
    joins the waitlist, -1 leaves it (or seats `promoted`, the first waiting, in the seat given
    back). `messages` are saved with it; `notice` is the message to the person seated."""

    invitation: Invitation  # as read: its status is the write's condition
    status: str
    at: datetime
    seat: int = 0
    waiting: int = 0
    promoted: Invitation | None = None
    messages: list[OutboxMessage] = field(default_factory=list)
    # A seat taken at the door: the person is there, so no capacity or waitlist stops it.
    at_the_door: bool = False
    share_contact: bool = False  # the person agreed that the host may see their email

    @property
    def waitlisted_at(self) -> datetime | None:
        return self.at if self.status == "waitlisted" else None


def day_before(invitation_id: str, action: Action, lead: timedelta, now: datetime) -> list[OutboxMessage]:
    """The confirm-or-cancel message, due `lead` before a dated action (none when that is past),
    its text twin, and the text 30 minutes before the start. Whether the person gets texts is
    decided when each is delivered (their consent then, STOP included)."""
    if action.starts_at is None:
        return []
    payload = {"invitation_id": invitation_id}
    found = []
    if action.starts_at - lead > now:
        found += [OutboxMessage(f"{planning.EVENT_REMINDER}#{invitation_id}", planning.EVENT_REMINDER,
                                action.starts_at - lead, payload),
                  OutboxMessage(f"{texts.TEXT_CONFIRM}#{invitation_id}", texts.TEXT_CONFIRM,
                                action.starts_at - lead, payload)]
    if action.starts_at - texts.SOON_LEAD > now:
        found.append(OutboxMessage(f"{texts.TEXT_SOON}#{invitation_id}", texts.TEXT_SOON,
                                   action.starts_at - texts.SOON_LEAD, payload))
    return found


def seated_notice(promoted: Invitation, now: datetime) -> OutboxMessage:
    """"A seat opened up": one per stay on the waitlist (its time names it), so a retried
    transaction plans the same message and a later stay its own."""
    stamp = promoted.waitlist_key or promoted.invitation_id
    return OutboxMessage(f"{planning.SEATED}#{stamp}", planning.SEATED, now,
                         {"invitation_id": promoted.invitation_id})


def decide(invitation: Invitation, action: Action, response: str, now: datetime, *,
           first_waiting: Invitation | None, lead: timedelta,
           share_contact: bool = False) -> RsvpChange | None:
    """The change `response` makes to `invitation` (None: nothing to change, the same answer
    again). `first_waiting` is the first on the action's waitlist, if anyone waits;
    `share_contact`, with a yes, lets the host see the person's email."""
    status = invitation.status
    if status in FINAL:
        raise Conflict("attendance_recorded", "The host has already recorded your attendance.")
    if response == "yes":
        share = share_contact and invitation.contact_shared_at is None
        if status in ("yes", "confirmed", "waitlisted"):
            return RsvpChange(invitation, status, now, share_contact=True) if share else None
        _require_open(action, now)
        if action.has_room() and action.waiting == 0:
            return RsvpChange(invitation, "yes", now, seat=1, share_contact=share,
                              messages=day_before(invitation.invitation_id, action, lead, now))
        return RsvpChange(invitation, "waitlisted", now, waiting=1, share_contact=share)
    if response == "confirm":
        if status == "confirmed":
            return None
        if status == "waitlisted":
            raise Conflict("waitlisted", "You are on the waitlist: we will write the moment a seat frees.")
        if status != "yes":
            raise Conflict("not_attending", "Say yes first: there is no seat to confirm.")
        _require_open(action, now)
        return RsvpChange(invitation, "confirmed", now)
    # "no" or "cancel"
    new = "no" if response == "no" else "cancelled"
    if status == new:
        return None
    if status in SEATED:
        _require_open(action, now)
        return _give_back(invitation, new, action, now, first_waiting, lead)
    if status == "waitlisted":
        return RsvpChange(invitation, new, now, waiting=-1)
    if response == "cancel":
        raise Conflict("not_attending", "There is nothing to cancel: you have not said yes.")
    return RsvpChange(invitation, "no", now)


def _give_back(invitation: Invitation, new: str, action: Action, now: datetime,
               first_waiting: Invitation | None, lead: timedelta) -> RsvpChange:
    if first_waiting is None:
        return RsvpChange(invitation, new, now, seat=-1)
    messages = [seated_notice(first_waiting, now),
                *day_before(first_waiting.invitation_id, action, lead, now)]
    return RsvpChange(invitation, new, now, waiting=-1, promoted=first_waiting, messages=messages)


def seat_waiting(action: Action, first_waiting: Invitation, now: datetime, *,
                 lead: timedelta) -> RsvpChange | None:
    """A seat left while someone waits (the capacity was raised or removed): the first waiting
    takes it, and is told."""
    if not action.has_room() or not action.is_upcoming(now):
        return None
    return RsvpChange(first_waiting, "yes", now, seat=1, waiting=-1,
                      messages=[seated_notice(first_waiting, now),
                                *day_before(first_waiting.invitation_id, action, lead, now)])


def wrap_up(action: Action) -> OutboxMessage | None:
    """The message that marks no-shows when a dated action ends. Its id names the end, so a
    moved end plans a new one and the old one finds it is not the action's any more."""
    if action.ends_at is None:
        return None
    stamp = int(action.ends_at.timestamp())
    return OutboxMessage(f"{planning.WRAP_UP}#{action.action_id}#{stamp}", planning.WRAP_UP,
                         action.ends_at, {"action_id": action.action_id})


# "How was it?" goes this long after the end, when people are home.
AFTER_DELAY = timedelta(hours=1)


def after_event(invitation_id: str, action: Action, now: datetime) -> list[OutboxMessage]:
    """An attendee's "How was it?", due an hour after a dated action ends (at once when that
    is past); one per attendee, however often they are checked in."""
    if action.ends_at is None:
        return []
    return [OutboxMessage(f"{planning.AFTER}#{invitation_id}", planning.AFTER,
                          max(action.ends_at + AFTER_DELAY, now), {"invitation_id": invitation_id})]


# Check-in opens this long before a dated action starts (people arrive early).
CHECK_IN_OPENS = timedelta(hours=2)


def check_in(invitation: Invitation, action: Action, now: datetime) -> RsvpChange | None:
    """The host saw this person: `attended`. Someone without a seat (on the waitlist, or who
    had said no) who came anyway takes one at the door."""
    if invitation.status == "attended":
        return None
    if action.starts_at is not None and now < action.starts_at - CHECK_IN_OPENS:
        raise Conflict("check_in_not_open", "Check-in opens two hours before the start.")
    after = after_event(invitation.invitation_id, action, now)
    if invitation.status in SEATED:
        return RsvpChange(invitation, "attended", now, messages=after)
    return RsvpChange(invitation, "attended", now, seat=1, at_the_door=True, messages=after,
                      waiting=-1 if invitation.status == "waitlisted" else 0)


def no_show(invitation: Invitation, now: datetime) -> RsvpChange | None:
    """After the event, a seat held by someone the host did not check in."""
    if invitation.status not in ("yes", "confirmed"):
        return None
    return RsvpChange(invitation, "no_show", now)


def _require_open(action: Action, now: datetime) -> None:
    if not action.is_upcoming(now):
        raise Conflict("action_closed", "This action has already taken place or was closed.")
