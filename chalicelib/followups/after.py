"""After the event: an attendee's "How was it?" (1 to 5, from the link in the after-event
email: the GET shows, the POST records) and, for a 4 or a 5, the offer to host one themselves.
A supporter's proposal waits, closed to invitations, in the organizers' approval queue
(`GET /api/admin/actions?status=proposed`, `followups/actions.py`) until one approves or declines
it; either way the supporter is told (approved: with their own host link).

Plain Python: the store, tokens and clock are passed in (deps.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import logs, tokens
from chalicelib.clock import utcnow
from chalicelib.errors import Conflict, NotFound
from chalicelib.followups.hosting import display_name
from chalicelib.followups.model import Action, Host, Invitation

if TYPE_CHECKING:
    from chalicelib.followups.input import ProposalRequest
    from chalicelib.followups.ports import FollowupStore

# A rating this high offers to host one yourself.
HOST_OFFER_FROM = 4
DECISIONS = ("approved", "declined")



def proposal_id_for(invitation_id: str) -> str:
    """One proposal per attendance: offering twice from the same link proposes once."""
    return "act_p" + hashlib.sha256(invitation_id.encode()).hexdigest()[:19]


class AfterService:
    def __init__(self, store: FollowupStore, tokens_: tokens.Tokens,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.tokens = tokens_
        self.clock = clock

    def attendance(self, token: str) -> tuple[Invitation, Action]:
        """The attendance a feedback link is about (reads only)."""
        invitation = self.store.get_invitation(self.tokens.read(token, tokens.FEEDBACK))
        if invitation is None:
            raise NotFound("invitation_not_found", "This invitation no longer exists.")
        action = self.store.get_action(invitation.action_id)
        if action is None:
            raise NotFound("action_not_found", "This action no longer exists.")
        return invitation, action

    def rate(self, token: str, rating: int) -> Invitation:
        invitation, _ = self.attendance(token)
        if not self.store.record_rating(invitation.invitation_id, rating, self.clock()):
            raise Conflict("did_not_attend", "Only people who came can rate it.")
        invitation.rating = rating
        return invitation

    def offers_hosting(self, invitation: Invitation) -> bool:
        return invitation.status == "attended" and (invitation.rating or 0) >= HOST_OFFER_FROM

    def propose(self, token: str, data: ProposalRequest) -> Action:
        """A supporter offers to host one like it: a proposed action (closed to invitations)
        in the same kind of place, hosted by them, for organizers to approve."""
        invitation, attended = self.attendance(token)
        if not self.offers_hosting(invitation):
            raise Conflict("not_offered", "Rate the event 4 or 5 first: then you can offer to host one.")
        person = self.store.get_person(invitation.person_id)
        now = self.clock()
        action = Action(
            action_id=proposal_id_for(invitation.invitation_id), kind="host", title=data.title,
            description=data.description, created_at=now, updated_at=now,
            location=attended.location, virtual=attended.virtual, active=False, review="proposed",
            host=Host("supporter", invitation.person_id, display_name(person)),
            pages=list(attended.pages))
        self.store.create_action(action)
        logs.info("action proposed", action_id=action.action_id, after=attended.action_id)
        return action
