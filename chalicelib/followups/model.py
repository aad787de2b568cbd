"""Actions, invitations and the people we invite, as the campaign knows them (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from chalicelib.pages.model import isoformat_utc

ACTION_KINDS = ("event", "phonebank", "canvass", "host", "share", "custom")
ActionKind = Literal["event", "phonebank", "canvass", "host", "share", "custom"]
Response = Literal["yes", "no", "confirm", "cancel"]
InvitationStatus = Literal["invited", "yes", "no", "waitlisted", "confirmed", "cancelled",
                           "attended", "no_show"]
# Every status an invitation can have, in the order the console counts them.
STATUSES: tuple[str, ...] = ("invited", "yes", "confirmed", "waitlisted", "no", "cancelled",
                             "attended", "no_show")
# An answer of one of these holds one of the action's seats (`Action.seats_taken`). Attendance
# is recorded on a seat already held, so check-in and no-show leave the count alone.
SEATED: frozenset[str] = frozenset({"yes", "confirmed", "attended", "no_show"})

# At most one invitation email per person in any 24 hours.
INVITATION_GAP = timedelta(hours=24)


@dataclass(frozen=True)
class Location:
    city: str
    state: str
    zip: str

    @property
    def zip3(self) -> str:
        return self.zip[:3]


@dataclass(frozen=True)
class Host:
    """Who welcomes people at an action: a staff member (by default the organizer who created
    it) or a supporter an organizer made host. `ref` names them without contact details (the
    staff key's digest prefix, or the person id); a host link is good only for the current host."""

    kind: str  # staff | supporter
    ref: str
    name: str

    def view(self) -> dict[str, object]:
        view: dict[str, object] = {"kind": self.kind, "name": self.name}
        if self.kind == "supporter":
            view["person_id"] = self.ref
        return view


@dataclass
class Action:
    """Something a supporter can do with other people: an event, a phone bank, a canvass…"""

    action_id: str
    kind: str
    title: str
    description: str
    created_at: datetime
    updated_at: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: Location | None = None
    virtual: bool = False
    capacity: int | None = None
    seats_taken: int = 0
    pages: list[str] = field(default_factory=list)
    active: bool = True
    waiting: int = 0  # on the waitlist: the first of them gets the next seat given back
    host: Host | None = None
    # A supporter's proposal: `proposed` until an organizer approves (`approved`) or declines it.
    review: str | None = None

    @property
    def status(self) -> str:
        """`proposed`, `declined`, `active` or `closed` (what organizers filter by)."""
        if self.review in ("proposed", "declined"):
            return self.review
        return "active" if self.active else "closed"

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    def is_upcoming(self, now: datetime) -> bool:
        """Still ahead (or undated and not over): worth inviting someone to."""
        if not self.active:
            return False
        if self.starts_at is not None:
            return self.starts_at > now
        return self.ends_at is None or self.ends_at > now

    def has_room(self) -> bool:
        left = self.seats_left
        return left is None or left > 0

    def view(self) -> dict[str, object]:
        return {
            "action_id": self.action_id,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "starts_at": isoformat_utc(self.starts_at) if self.starts_at else None,
            "ends_at": isoformat_utc(self.ends_at) if self.ends_at else None,
            "location": ({"city": self.location.city, "state": self.location.state,
                          "zip": self.location.zip} if self.location else None),
            "virtual": self.virtual,
            "capacity": self.capacity,
            "seats_taken": self.seats_taken,
            "seats_left": self.seats_left,
            "waiting": self.waiting,
            "host": self.host.view() if self.host else None,
            "status": self.status,
            "pages": list(self.pages),
            "active": self.active,
            "created_at": isoformat_utc(self.created_at),
            "updated_at": isoformat_utc(self.updated_at),
        }


def invitation_id_for(person_id: str, action_id: str) -> str:
    """One invitation per person and action, however often it is mailed."""
    return f"{person_id}.{action_id}"


@dataclass
class Invitation:
    invitation_id: str
    person_id: str
    action_id: str
    status: str
    invited_at: datetime
    message_id: str
    responded_at: datetime | None = None
    waitlisted_at: datetime | None = None  # while `waitlisted`: the place in the line
    # When the person agreed (with their yes) that the host may see their email.
    contact_shared_at: datetime | None = None
    rating: int | None = None  # "How was it?", 1 to 5, from an attendee

    @property
    def answered(self) -> bool:
        return self.status != "invited"

    @property
    def waitlist_key(self) -> str | None:
        """Orders the waitlist: first come, first seated (ties by id)."""
        if self.status != "waitlisted" or self.waitlisted_at is None:
            return None
        moment = self.waitlisted_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f"{moment}#{self.invitation_id}"  # fixed width, so text order is time order

    def view(self) -> dict[str, object]:
        """For staff: ids and times only, no contact details."""
        return {
            "invitation_id": self.invitation_id,
            "person_id": self.person_id,
            "action_id": self.action_id,
            "status": self.status,
            "invited_at": isoformat_utc(self.invited_at),
            "responded_at": isoformat_utc(self.responded_at) if self.responded_at else None,
            "waitlisted_at": isoformat_utc(self.waitlisted_at) if self.waitlisted_at else None,
            "rating": self.rating,
        }


# What a person may consent to, each on its own: invitations (events, phone banks, canvasses,
# and the reminders and welcomes that carry them) and text messages (`sms`, the "texts" of the
# forms: given only by ticking the box next to `followups.texts.disclosure`) and sharing their
# contact with allied campaigns (`sharing`: off unless the person turns it on in their portal;
# nothing shares contacts yet). Receipts and other transactional mail need no consent (see
# `followups/consent.py`).
INVITATIONS, SMS, SHARING = "invitations", "sms", "sharing"
CONSENT_PURPOSES = (INVITATIONS, SMS, SHARING)


@dataclass(frozen=True)
class Consent:
    """A person's latest answer for one purpose: given or withdrawn, when, and how: the
    `source` (`donation_opt_in`, `walk_in`, `signup_confirmed`, `unsubscribe_page`,
    `one_click`, `complaint`; for texts also `text_reply`). `version` names the disclosure a
    texts consent was given under (`texts.DISCLOSURE_VERSION`)."""

    given: bool
    at: datetime
    source: str
    version: str | None = None

    def record(self) -> dict[str, object]:
        found: dict[str, object] = {"given": self.given, "at": self.at.isoformat(), "source": self.source}
        if self.version:
            found["version"] = self.version
        return found

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Consent:
        return cls(bool(record["given"]), datetime.fromisoformat(str(record["at"])),
                   str(record["source"]), str(record["version"]) if record.get("version") else None)


@dataclass
class Person:
    """Someone we may write to: a donor or a supporter who signed up (keyed like donors)."""

    person_id: str
    email: str
    first_name: str | None = None
    zip: str | None = None
    state: str | None = None
    last_name: str | None = None
    interests: list[str] = field(default_factory=list)
    # Agreed to hear about ways to take part (donation opt-in or interests, or a confirmed signup).
    subscribed: bool = False
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    suppressed: str | None = None  # "bounce" | "complaint": SES must never be asked again
    share_code: str | None = None
    share_page: str | None = None
    recruited_count: int = 0
    recruited_cents: int = 0
    last_invited_at: datetime | None = None
    last_invitation_message: str | None = None
    pending_signup: dict[str, object] = field(default_factory=dict)
    # Per purpose, when and how consent was last given or withdrawn. For invitations the state
    # itself is `subscribed` and `unsubscribed_at` (what the conditional writes test).
    consents: dict[str, Consent] = field(default_factory=dict)
    phone: str | None = None  # E.164, kept only with a texts consent
    locale: str = "en"  # the language they last gave in (chalicelib/i18n.py): their mail's
    # The once-a-day cap on non-essential texts: the local day it was last used, and by which message.
    last_text_day: str | None = None
    last_text_message: str | None = None

    @property
    def textable(self) -> bool:
        """Texts may go: a number, and the texts consent given and not withdrawn (STOP)."""
        texts = self.consents.get(SMS)
        return bool(self.phone) and texts is not None and texts.given

    @property
    def invitable(self) -> bool:
        """Invitations may go: the address works, consent given and not withdrawn."""
        return self.suppressed is None and self.unsubscribed_at is None and self.subscribed

    def invitation_slot_free(self, now: datetime, message_id: str) -> bool:
        """Whether `message_id` may carry invitations now (the once-a-day cap)."""
        return (self.last_invited_at is None or self.last_invitation_message == message_id
                or self.last_invited_at <= now - INVITATION_GAP)


@dataclass(frozen=True)
class OutgoingEmail:
    """A composed message; the mailer adds nothing but transport."""

    to: str
    subject: str
    html: str
    text: str
    unsubscribe_url: str
    # The outbox message this email delivers (a tag at SES, the mirror's file name).
    message_id: str


@dataclass(frozen=True)
class MailRecord:
    """The send ledger's entry for one outbox message: what was attempted, what SES answered."""

    message_id: str
    state: str  # sending | sent | not_sent
    attempts: int
    ses_message_id: str | None = None
