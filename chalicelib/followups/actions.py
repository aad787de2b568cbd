"""Organizers' side of the follow-ups: creating and changing actions (a moved end plans its
own wrap-up, a raised capacity seats the people waiting), the console's lists and details, and
the approval queue of actions supporters offer to host.

Plain Python: the store, config and clock are passed in (deps.py).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.clock import utcnow
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.followups import planning
from chalicelib.followups.attendance import seat_waiting, wrap_up
from chalicelib.followups.errors import StaleInvitation
from chalicelib.followups.model import STATUSES, Action, Host, Invitation, Location
from chalicelib.followups.ports import MAX_RSVP_ATTEMPTS, FollowupConfig, FollowupStore
from chalicelib.outbox.model import OutboxMessage
from chalicelib.paging import Slice

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.followups.input import ActionCreate, ActionUpdate


@dataclass(frozen=True)
class ActionPage:
    """An action as the console shows it: the action and one page of its invitations."""

    action: Action
    invitations: Slice[Invitation]


def find_action(store: FollowupStore, action_id: str) -> Action:
    """The action, or `NotFound` (404 `action_not_found`)."""
    found = store.get_action(action_id)
    if found is None:
        raise NotFound("action_not_found", f"No action '{action_id}'.")
    return found


class ActionService:
    def __init__(self, store: FollowupStore, config: FollowupConfig,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def create_action(self, data: ActionCreate, host: Host | None = None) -> Action:
        """A new action, hosted by `host` (the organizer creating it), with its wrap-up planned."""
        now = self.clock()
        fields = data.model_dump()
        location = fields.pop("location")
        action = Action(action_id="act_" + uuid.uuid4().hex[:20], created_at=now, updated_at=now,
                        location=Location(**location) if location else None, host=host, **fields)
        self.store.create_action(action, [m for m in (wrap_up(action),) if m])
        return action

    def update_action(self, action_id: str, data: ActionUpdate, host: Host | None = None) -> Action:
        """Apply an organizer's changes; `host` hands the action to another host (their old
        link stops working); a moved end plans its own wrap-up."""
        changes = data.model_dump(exclude_unset=True)
        changes.pop("host_person_id", None)
        if host is not None:
            changes["host"] = host
        nulls = {k: "may not be null" for k, v in changes.items()
                 if v is None and k not in ("starts_at", "ends_at", "location", "capacity")}
        if nulls:
            raise InvalidInput("invalid_request", "Some fields may not be null.", fields=nulls)
        if not changes:
            raise InvalidInput("invalid_request", "Nothing to change.")
        current = self.action(action_id)
        starts = changes.get("starts_at", current.starts_at)
        ends = changes.get("ends_at", current.ends_at)
        if starts and ends and ends <= starts:
            raise InvalidInput("invalid_request", "ends_at must be after starts_at.",
                               fields={"ends_at": "must be after starts_at"})
        moved = "ends_at" in changes and ends != current.ends_at
        planned = wrap_up(replace(current, ends_at=ends)) if moved else None
        updated = self.store.update_action(action_id, changes, self.clock(),
                                           [planned] if planned else [])
        if "capacity" in changes:
            updated = self.fill_seats(updated)
        return updated

    def fill_seats(self, action: Action) -> Action:
        """Give the seats a raised (or removed) capacity frees to the people waiting, first come
        first, each in its own conditional write and each told; the action as it then stands."""
        for attempt in range(MAX_RSVP_ATTEMPTS * 4):
            if not action.waiting or not action.has_room():
                break
            first = self.store.first_waiting(action.action_id)
            change = seat_waiting(action, first, self.clock(), lead=self.config.event_reminder_lead) \
                if first is not None else None
            if change is None:
                break
            try:
                self.store.apply_rsvp(change)
            except StaleInvitation:
                time.sleep(random.uniform(0, 0.02 * (attempt % MAX_RSVP_ATTEMPTS + 1)))
            action = self.action(action.action_id)
        return action

    def action(self, action_id: str) -> Action:
        return find_action(self.store, action_id)

    def action_detail(self, action_id: str) -> dict[str, object]:
        """An action with its invitations and RSVPs (ids and times, no contact details)."""
        action = self.action(action_id)
        invitations = sorted(self.store.invitations_of_action(action_id), key=lambda i: i.invited_at)
        counts = {s: sum(1 for i in invitations if i.status == s) for s in STATUSES}
        rsvps = {("unanswered" if s == "invited" else s): n for s, n in counts.items()}
        return {**action.view(), "invitations": [i.view() for i in invitations], "rsvps": rsvps}

    def list_actions(self) -> list[Action]:
        return sorted(self.store.list_actions(), key=lambda a: (a.starts_at is None, a.starts_at
                                                                 or a.created_at, a.action_id))

    def actions_page(self, limit: int, after: str | None = None) -> Slice[Action]:
        """One page of actions, soonest first within the page (the console's list)."""
        found = self.store.actions_page(limit, after)
        items = sorted(found.items, key=lambda a: (a.starts_at is None, a.starts_at or a.created_at,
                                                   a.action_id))
        return Slice(items, found.after)

    def action_page(self, action_id: str, limit: int, after: str | None = None) -> ActionPage:
        """An action, its RSVP counts (from its seats and one page of invitations), and that page."""
        action = self.action(action_id)
        invitations = self.store.invitations_page(action_id, limit, after)
        return ActionPage(action, invitations)

    # --- the approval queue -------------------------------------------------------------------
    @staticmethod
    def proposals(actions: list[Action], status: str) -> list[Action]:
        return [a for a in actions if a.status == status]

    def proposals_page(self, limit: int, after: str | None = None) -> Slice[Action]:
        """One page of the approval queue: proposals still waiting, oldest first."""
        return self.store.proposals_page(limit, after)

    def review(self, action_id: str, decision: str) -> Action:
        """Approve (open it) or decline a proposed action, once; the supporter is told."""
        now = self.clock()
        told = OutboxMessage(f"{planning.PROPOSAL_REVIEWED}#{action_id}", planning.PROPOSAL_REVIEWED,
                             now, {"action_id": action_id, "decision": decision})
        if not self.store.review_action(action_id, decision, now, [told]):
            find_action(self.store, action_id)
            raise Conflict("not_proposed", "This action is not waiting for approval.")
        return find_action(self.store, action_id)
