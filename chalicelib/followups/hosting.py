"""Hosts: the person who welcomes people at an action, through their own signed link.

The host link (`/h/{token}`, token purpose `host`, naming the action and the current host)
shows the roster (names and status; an email only for people who agreed, with their yes, to
share it with the host), checks people in with one tap (`attended`), and records walk-ins by
name, email and ZIP: they become people, invited into the loop only with their consent. Once
the event ends, every seat nobody checked in is marked `no_show` (the `wrap_up` message).

Plain Python: the store, tokens and clock are passed in (deps.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import logs, tokens
from chalicelib.clock import utcnow
from chalicelib.errors import DomainError, NotFound, ProviderUnavailable
from chalicelib.followups import attendance, planning
from chalicelib.followups.errors import StaleInvitation
from chalicelib.followups.model import SEATED, Action, Host, Invitation, Person, invitation_id_for
from chalicelib.giving.model import donor_id_for
from chalicelib.outbox.model import Delivered, Handler, OutboxMessage

if TYPE_CHECKING:
    from chalicelib.followups.attendance import RsvpChange
    from chalicelib.followups.input import WalkInRequest
    from chalicelib.followups.ports import FollowupConfig, FollowupStore

ATTEMPTS = 12


@dataclass(frozen=True)
class RosterEntry:
    """One person expected (or seen) at the action, as the host sees them."""

    invitation_id: str
    name: str
    status: str
    email: str | None  # only when they agreed to share it with the host

    def view(self) -> dict[str, object]:
        return {"invitation_id": self.invitation_id, "name": self.name, "status": self.status,
                "email": self.email}



def display_name(person: Person | None) -> str:
    if person is None or not person.first_name:
        return "Guest"
    return " ".join(n for n in (person.first_name, person.last_name) if n)


class HostService:
    def __init__(self, store: FollowupStore, tokens_: tokens.Tokens, config: FollowupConfig,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.tokens = tokens_
        self.config = config
        self.clock = clock

    # --- organizers -----------------------------------------------------------------------
    def host_url(self, action: Action) -> str | None:
        """A fresh host link for the action's current host (none without a host)."""
        if action.host is None:
            return None
        token = self.tokens.issue(tokens.HOST, action.action_id, action.host.ref)
        return self.config.base_url.rstrip("/") + f"/h/{token}"

    def supporter_host(self, person_id: str) -> Host:
        """A supporter an organizer makes host (they must be someone we know)."""
        from chalicelib.errors import InvalidInput

        person = self.store.get_person(person_id)
        if person is None:
            raise InvalidInput("invalid_request", "No such person.",
                               fields={"host_person_id": "no such person"})
        return Host("supporter", person.person_id, display_name(person))

    # --- the host's link ------------------------------------------------------------------
    def action_of(self, token: str) -> Action:
        """The action a host link is for, while its holder is still the host."""
        claims = self.tokens.claims(token, tokens.HOST)
        action = self.store.get_action(claims.subject)
        if action is None:
            raise NotFound("action_not_found", "This action no longer exists.")
        if action.host is None or claims.subjects[1:] != (action.host.ref,):
            raise DomainError("link_replaced", "This action has another host now; this link no "
                              "longer works.", kind="gone")
        return action

    def roster(self, token: str) -> tuple[Action, list[RosterEntry]]:
        """Who holds a seat or waits for one, by name (reads only)."""
        action = self.action_of(token)
        entries = []
        for invitation in self.store.invitations_of_action(action.action_id):
            if invitation.status not in SEATED and invitation.status != "waitlisted":
                continue
            person = self.store.get_person(invitation.person_id)
            shared = invitation.contact_shared_at is not None and person is not None
            entries.append(RosterEntry(invitation.invitation_id, display_name(person),
                                       invitation.status, person.email if shared and person else None))
        order = {"attended": 0, "confirmed": 1, "yes": 1, "no_show": 2, "waitlisted": 3}
        entries.sort(key=lambda e: (order.get(e.status, 4), e.name.lower(), e.invitation_id))
        return action, entries

    def check_in(self, token: str, invitation_id: str) -> Invitation:
        """One tap: this person came (`attended`); the same tap again changes nothing."""
        action = self.action_of(token)
        for attempt in range(ATTEMPTS):
            invitation = self.store.get_invitation(invitation_id)
            if invitation is None or invitation.action_id != action.action_id:
                raise NotFound("invitation_not_found", "Nobody with this invitation is on the roster.")
            change = attendance.check_in(invitation, action, self.clock())
            if change is None:
                return invitation
            if self._applied(change, attempt):
                invitation.status, invitation.responded_at = change.status, change.at
                return invitation
        raise ProviderUnavailable("try_again", "Too many check-ins at once; please try again.")

    def walk_in(self, token: str, data: WalkInRequest) -> Invitation:
        """Someone who came without an invitation: they become a person (subscribed only with
        their consent, and then welcomed with invitations of their own) and `attended`."""
        action = self.action_of(token)
        now = self.clock()
        person_id = donor_id_for(data.email)
        known = self.store.get_person(person_id)
        self.store.upsert_donor(Person(
            person_id=person_id, email=data.email, first_name=data.first_name,
            last_name=data.last_name, zip=data.zip[:5],
            share_code=self.tokens.share_code(person_id) if data.consent else None),
            subscribe=data.consent, now=now, source="walk_in")
        invitation_id = invitation_id_for(person_id, action.action_id)
        messages: list[OutboxMessage] = []
        if data.consent and (known is None or not known.invitable):
            messages.append(OutboxMessage(f"{planning.WELCOME}#{person_id}", planning.WELCOME, now,
                                          {"person_id": person_id}))
        messages += attendance.after_event(invitation_id, action, now)
        walked_in = Invitation(invitation_id, person_id, action.action_id, "attended", now,
                               f"walkin#{action.action_id}", responded_at=now)
        if self.store.record_walk_in(walked_in, messages):
            logs.info("walk-in recorded", action_id=action.action_id, consent=data.consent)
            return walked_in
        return self.check_in(token, invitation_id)  # invited already: a check-in

    # --- after the event ------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        return {planning.WRAP_UP: self.wrap_up}

    def wrap_up(self, message: OutboxMessage) -> Delivered:
        """The event is over: each seat nobody checked in is a `no_show` (once)."""
        action = self.store.get_action(str(message.payload.get("action_id")))
        if action is None:
            return Delivered("skipped: action gone")
        planned = attendance.wrap_up(action)
        if planned is None or planned.message_id != message.message_id:
            return Delivered("skipped: the action's end moved")
        marked = 0
        for invitation in self.store.invitations_of_action(action.action_id):
            for attempt in range(ATTEMPTS):
                change = attendance.no_show(invitation, self.clock())
                if change is None or self._applied(change, attempt):
                    marked += change is not None
                    break
                invitation = self.store.get_invitation(invitation.invitation_id) or invitation
        return Delivered(f"{marked} no-shows")

    def _applied(self, change: RsvpChange, attempt: int) -> bool:
        try:
            self.store.apply_rsvp(change)
        except StaleInvitation:
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
            return False
        return True
