"""Actions, invitations, people and the send ledger in DynamoDB (follow-ups' `FollowupStore`).

Every rule that two requests could race on is a condition in the write itself: a seat is taken
only while `seats_taken < capacity`, an answer changes only the status it read, the once-a-day
invitation slot and the hourly signup confirmation are claimed with conditional updates, a share
credit is counted once per donation, and a send begins only once.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, NotFound
from chalicelib.followups.attendance import RsvpChange
from chalicelib.followups.errors import StaleInvitation
from chalicelib.followups.model import (
    INVITATION_GAP,
    INVITATIONS,
    SHARING,
    SMS,
    Action,
    Consent,
    Host,
    Invitation,
    Location,
    MailRecord,
    Person,
)
from chalicelib.followups.planning import AFTER, SEATED
from chalicelib.outbox.model import OutboxMessage
from chalicelib.paging import Slice
from chalicelib.storage import paging
from chalicelib.storage.errors import condition_failed, response_code
from chalicelib.storage.models import (
    ActionModel,
    DonorModel,
    InvitationModel,
    LocationFields,
    MailModel,
    OutboxModel,
    PersonModel,
    ProcessedEventModel,
)
from chalicelib.storage.outbox import OutboxRepository

SIGNUP_RESEND = timedelta(hours=1)
# The recruiters' leaderboard index is spread over this many partitions (credits are written
# on share-link gifts, which on a viral day are many).
RECRUITER_SHARDS = 4


def recruiter_shard(person_id: str) -> str:
    return f"recruiters#{int(hashlib.sha256(person_id.encode()).hexdigest()[:8], 16) % RECRUITER_SHARDS}"
_RETRYABLE_TX = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc) if moment else None




def _reasons(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


class FollowupRepository:
    def __init__(self, region: str, outbox: OutboxRepository) -> None:
        self._connection = Connection(region=region)
        self.outbox = outbox

    # --- actions --------------------------------------------------------------------------
    def create_action(self, action: Action, messages: Sequence[OutboxMessage] = ()) -> None:
        """Save a new action with what it schedules (its wrap-up), in one transaction."""
        try:
            with TransactWrite(connection=self._connection) as tx:
                for message in messages:
                    tx.save(self.outbox.item(message, action.created_at))
                tx.save(_action_item(action), condition=ActionModel.action_id.does_not_exist())
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                raise Conflict("action_exists", "This action exists already.") from None
            raise

    def update_action(self, action_id: str, changes: Mapping[str, Any], now: datetime,
                      messages: Sequence[OutboxMessage] = ()) -> Action:
        """Apply `changes` (a `host` is a `Host`) with the messages they schedule, in one
        transaction; the action as it then stands."""
        actions: list[Any] = []
        for name, value in changes.items():
            attribute = getattr(ActionModel, name)
            if value is None:
                actions.append(attribute.remove())
            elif name == "location":
                actions.append(attribute.set(LocationFields(**value)))
            elif name == "host":
                actions.append(attribute.set({"kind": value.kind, "ref": value.ref, "name": value.name}))
            else:
                actions.append(attribute.set(value))
        actions.append(ActionModel.updated_at.set(now))
        condition = ActionModel.action_id.exists()
        if changes.get("capacity") is not None:
            # Never below the seats already taken.
            condition &= ActionModel.seats_taken <= changes["capacity"]
        try:
            with TransactWrite(connection=self._connection) as tx:
                for message in messages:
                    # A wrap-up for the new end replaces nothing: its id names that end.
                    tx.save(self.outbox.item(message, now))
                tx.update(ActionModel(action_id), actions=actions, condition=condition)
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" not in _reasons(exc):
                raise
            if self.get_action(action_id) is None:
                raise NotFound("action_not_found", f"No action '{action_id}'.") from None
            raise Conflict("capacity_below_rsvps", "More people have said yes than this capacity.",
                           fields={"capacity": "below the seats already taken"}) from None
        found = self.get_action(action_id)
        if found is None:
            raise NotFound("action_not_found", f"No action '{action_id}'.")
        return found

    def get_action(self, action_id: str) -> Action | None:
        try:
            return _action(ActionModel.get(action_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list_actions(self) -> list[Action]:
        # A campaign has tens to hundreds of actions: one paginated Scan is cheaper than an index.
        return [_action(i) for i in ActionModel.scan()]

    def actions_page(self, limit: int, after: str | None) -> Slice[Action]:
        found = ActionModel.scan(limit=limit, last_evaluated_key=paging.decode(after, ["action_id"]))
        items = [_action(i) for i in found]
        return Slice(items, paging.encode(found.last_evaluated_key))

    def proposals_page(self, limit: int, after: str | None) -> Slice[Action]:
        """Supporters' proposed actions still waiting, oldest first (the sparse `proposed`
        index: one Query, never a scan)."""
        start = paging.decode(after, ["action_id", "proposal_queue", "created_at"])
        found = ActionModel.proposed.query("open", limit=limit, last_evaluated_key=start)
        items = [_action(i) for i in found]
        return Slice([a for a in items if a.review == "proposed"], paging.encode(found.last_evaluated_key))

    def invitations_page(self, action_id: str, limit: int, after: str | None) -> Slice[Invitation]:
        start = paging.decode(after, ["invitation_id", "action_id", "invited_at"])
        found = InvitationModel.by_action.query(action_id, limit=limit, last_evaluated_key=start,
                                                scan_index_forward=False)
        items = [_invitation(i) for i in found]
        return Slice(items, paging.encode(found.last_evaluated_key))

    def recruiters(self, limit: int) -> list[Person]:
        """The top `limit` recruiters: each shard's best, merged (one Query per shard)."""
        found = [_person(i) for n in range(RECRUITER_SHARDS)
                 for i in PersonModel.by_recruiting.query(f"recruiters#{n}", limit=limit,
                                                          scan_index_forward=False)]
        found.sort(key=lambda p: (-p.recruited_cents, -p.recruited_count, p.person_id))
        return found[:limit]

    # --- people ---------------------------------------------------------------------------
    def get_person(self, person_id: str) -> Person | None:
        try:
            return _person(PersonModel.get(person_id, consistent_read=True))
        except DoesNotExist:
            return None

    def person_by_share_code(self, code: str) -> Person | None:
        for item in PersonModel.by_share_code.query(code, limit=1):
            return _person(item)
        return None

    def upsert_donor(self, person: Person, subscribe: bool, now: datetime,
                     source: str = "donation_opt_in", texts: Consent | None = None) -> Person:
        """Create or refresh a donor's person record from their latest contribution; with
        `subscribe`, the invitations consent is recorded as given by `source` unless the person
        answered before (an unsubscribe stays in force, and so does its record). With `texts`
        (the service decided it is newer than the person's last answer), the texts consent and
        `person.phone` are recorded as they are."""
        m = PersonModel
        actions: list[Any] = [
            m.email.set(person.email), m.created_at.set(m.created_at | now), m.updated_at.set(now),
        ]
        if texts is not None and person.phone:
            actions += [m.phone.set(person.phone), m.consent_sms.set(texts.record())]
        # Only what is known: an index key (share_code) may not be an empty string.
        for attribute, value in ((m.first_name, person.first_name), (m.last_name, person.last_name),
                                 (m.share_code, person.share_code), (m.share_page, person.share_page)):
            if value:
                actions.append(attribute.set(value))
        if person.zip:
            actions.append(m.zip.set(person.zip))
        if person.state:
            actions.append(m.state.set(person.state))
        actions.append(m.locale.set(person.locale) if person.locale != "en" else m.locale.remove())
        if person.interests:
            actions.append(m.interests.set(list(person.interests)))  # type: ignore[arg-type]
        if subscribe:  # consent given now; an unsubscribe stays in force (unsubscribed_at)
            actions.append(m.subscribed.set(True))
            given = Consent(True, now, source).record()
            actions.append(m.consent_invitations.set(m.consent_invitations | given))
        item = PersonModel(person.person_id)
        item.update(actions=actions)
        return _person(item)

    def claim_invitation_slot(self, person_id: str, message_id: str, now: datetime) -> bool:
        """Take the person's once-a-day invitation slot for `message_id` (again, on a retry)."""
        m = PersonModel
        try:
            PersonModel(person_id).update(
                actions=[m.last_invited_at.set(now), m.last_invitation_message.set(message_id)],
                condition=m.person_id.exists() & (
                    m.last_invited_at.does_not_exist() | (m.last_invitation_message == message_id)
                    | (m.last_invited_at <= now - INVITATION_GAP)))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def claim_text_slot(self, person_id: str, day: str, message_id: str) -> bool:
        """Take the person's one non-essential text of local `day` for `message_id` (again, on
        a retry of the same message)."""
        m = PersonModel
        try:
            PersonModel(person_id).update(
                actions=[m.last_text_day.set(day), m.last_text_message.set(message_id)],
                condition=m.person_id.exists() & (
                    m.last_text_day.does_not_exist() | (m.last_text_day != day)
                    | (m.last_text_message == message_id)))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def people_by_phone(self, phone: str) -> list[str]:
        """The ids of the people who gave texts consent for `phone` (E.164)."""
        return [i.person_id for i in PersonModel.by_phone.query(phone, limit=20)]

    def record_text_reply(self, marker: str, now: datetime, person_ids: Sequence[str],
                          consent: Consent | None, reply: OutboxMessage | None) -> bool:
        """One inbound text's effects in one transaction: the marker `marker` (from SNS's
        MessageId, in the `events` table as a Stripe event's is, kept a week), the texts consent
        of each of `person_ids` set to `consent`, and the `reply`. False (nothing written) when
        the notification was handled before."""
        m = PersonModel
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(ProcessedEventModel(marker, type="sms_inbound", processed_at=now,
                                            expires_at=now + timedelta(days=7)),
                        condition=ProcessedEventModel.event_id.does_not_exist())
                if reply is not None:
                    tx.save(self.outbox.item(reply, now), condition=OutboxModel.message_id.does_not_exist())
                if consent is not None:
                    for person_id in person_ids:
                        tx.update(PersonModel(person_id), actions=[
                            m.consent_sms.set(consent.record()), m.updated_at.set(now)],
                            condition=m.person_id.exists())
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reasons(exc)[:2]:
                return False
            raise
        return True

    def resubscribe(self, person_id: str, now: datetime, source: str) -> None:
        """Give the invitations consent again (the person asked for it themselves, signed in to
        their portal by a link sent to this address: no further confirmation is needed)."""
        m = PersonModel
        self._invitations_consent(person_id, Consent(True, now, source), now,
                                  [m.subscribed.set(True), m.unsubscribed_at.remove()])

    def unsubscribe(self, person_id: str, now: datetime, source: str) -> None:
        """Withdraw the invitations consent (the first withdrawal's time stays)."""
        m = PersonModel
        self._invitations_consent(person_id, Consent(False, now, source), now,
                                  [m.unsubscribed_at.set(m.unsubscribed_at | now)])

    def stop_texts(self, person_id: str, now: datetime, source: str) -> None:
        """Withdraw the texts consent, as a STOP reply does (the number stays for the record)."""
        self._consent(person_id, PersonModel.consent_sms, Consent(False, now, source), now)

    def set_sharing(self, person_id: str, given: bool, now: datetime, source: str) -> None:
        """Give or withdraw the consent to share the person's contact with allied campaigns."""
        self._consent(person_id, PersonModel.consent_sharing, Consent(given, now, source), now)

    def _consent(self, person_id: str, attribute: Any, answer: Consent, now: datetime) -> None:
        m = PersonModel
        try:
            PersonModel(person_id).update(
                actions=[attribute.set(answer.record()), m.updated_at.set(now)],
                condition=m.person_id.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            raise NotFound("person_not_found", "Nobody with this address.") from None

    def _invitations_consent(self, person_id: str, answer: Consent, now: datetime,
                             actions: list[Any]) -> None:
        m = PersonModel
        try:
            PersonModel(person_id).update(
                actions=[*actions, m.consent_invitations.set(answer.record()), m.updated_at.set(now)],
                condition=m.person_id.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            raise NotFound("person_not_found", "Nobody with this address.") from None

    def suppress(self, person_id: str, email: str, reason: str, now: datetime) -> None:
        """Never mail this address again (a hard bounce or a complaint); creates the record if
        we have none, so a later signup or donation finds it suppressed."""
        m = PersonModel
        actions: list[Any] = [
            m.email.set(m.email | email), m.suppressed.set(reason), m.suppressed_at.set(now),
            m.created_at.set(m.created_at | now), m.updated_at.set(now),
        ]
        if reason == "complaint":
            actions.append(m.unsubscribed_at.set(m.unsubscribed_at | now))
            actions.append(m.consent_invitations.set(Consent(False, now, "complaint").record()))
        PersonModel(person_id).update(actions=actions)

    def request_signup(self, person_id: str, email: str, pending: Mapping[str, Any], now: datetime,
                       confirmation: OutboxMessage) -> bool:
        """Store a signup awaiting confirmation and queue its confirmation email, at most once per
        hour and never for a suppressed address or someone already subscribed."""
        m = PersonModel
        may_send = (
            m.suppressed.does_not_exist()
            & (m.confirmation_sent_at.does_not_exist() | (m.confirmation_sent_at <= now - SIGNUP_RESEND))
            & (m.subscribed.does_not_exist() | (m.subscribed == False)  # noqa: E712 - a condition
               | m.unsubscribed_at.exists() | m.confirmed_at.does_not_exist())
        )
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(PersonModel(person_id), actions=[
                    m.email.set(m.email | email), m.pending_signup.set(dict(pending)),
                    m.confirmation_sent_at.set(now), m.created_at.set(m.created_at | now),
                    m.updated_at.set(now),
                ], condition=may_send)
                tx.save(self.outbox.item(confirmation, now),
                        condition=OutboxModel.message_id.does_not_exist())
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                return False
            raise
        return True

    def confirm_signup(self, person: Person, share_code: str, now: datetime,
                       messages: list[OutboxMessage]) -> None:
        """Make a confirmed supporter of `person`, apply their signup's fields and queue the
        welcome (first confirmation only). Undoes an earlier unsubscribe: they just opted in."""
        m = PersonModel
        pending = person.pending_signup
        actions: list[Any] = [
            m.subscribed.set(True), m.confirmed_at.set(m.confirmed_at | now),
            m.unsubscribed_at.remove(), m.pending_signup.remove(), m.updated_at.set(now),
            m.share_code.set(m.share_code | share_code),
            m.consent_invitations.set(Consent(True, now, "signup_confirmed").record()),
        ]
        if pending.get("first_name"):
            actions.append(m.first_name.set(str(pending["first_name"])))
        if pending.get("zip"):
            actions.append(m.zip.set(str(pending["zip"])))
        if pending.get("interests"):
            interests = pending["interests"]
            kinds: list[Any] = [str(i) for i in interests] if isinstance(interests, list) else []
            actions.append(m.interests.set(kinds))
        if pending.get("page"):
            actions.append(m.share_page.set(str(pending["page"])))
        if pending.get("refcode"):
            actions.append(m.signup_refcode.set(str(pending["refcode"])))
        if pending.get("phone") and pending.get("sms_version"):  # ticked the texts box
            actions += [m.phone.set(str(pending["phone"])), m.consent_sms.set(Consent(
                True, now, "signup_confirmed", str(pending["sms_version"])).record())]
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(PersonModel(person.person_id), actions=actions,
                          condition=m.person_id.exists() & m.suppressed.does_not_exist())
                for message in messages:
                    tx.save(self.outbox.item(message, now),
                            condition=OutboxModel.message_id.does_not_exist())
        except TransactWriteError as exc:
            reasons = _reasons(exc)  # in request order: the messages (puts), then the person
            if reasons[len(messages):] == ["ConditionalCheckFailed"]:
                raise Conflict("signup_not_confirmable",
                               "This address cannot receive email from us.") from None
            if "ConditionalCheckFailed" in reasons:  # the welcome exists: a concurrent confirm
                return
            raise

    def credit_sharer(self, person_id: str, donation_id: str, cents: int) -> bool:
        """Count a recruited contribution once (the donation id is kept in `credited`)."""
        m = PersonModel
        try:
            PersonModel(person_id).update(actions=[
                m.recruited_count.add(1), m.recruited_cents.add(cents), m.credited.add({donation_id}),
                m.recruiter_shard.set(recruiter_shard(person_id)),
            ], condition=m.person_id.exists() & ~m.credited.contains(donation_id))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def donor_contact(self, donor_id: str) -> dict[str, Any] | None:
        """The donor record's contact fields (giving's table, read only)."""
        try:
            d = DonorModel.get(donor_id)
        except DoesNotExist:
            return None
        return {"email": d.email, "first_name": d.first_name, "last_name": d.last_name,
                "city": d.city, "state": d.state, "zip": d.zip}

    # --- invitations ----------------------------------------------------------------------
    def record_invitations(self, invitations: list[Invitation]) -> None:
        for inv in invitations:
            try:
                InvitationModel(
                    inv.invitation_id, person_id=inv.person_id, action_id=inv.action_id,
                    status=inv.status, invited_at=inv.invited_at, message_id=inv.message_id,
                ).save(condition=InvitationModel.invitation_id.does_not_exist())
            except PutError as exc:
                if not condition_failed(exc):
                    raise

    def record_walk_in(self, invitation: Invitation, messages: list[OutboxMessage]) -> bool:
        """Someone the host met at the door: their invitation, already `attended`, with the seat
        they took and their messages, in one transaction. False when they were invited already
        (check them in instead)."""
        a = ActionModel
        try:
            with TransactWrite(connection=self._connection) as tx:
                for message in messages:
                    tx.save(self.outbox.item(message, invitation.invited_at))
                tx.save(InvitationModel(
                    invitation.invitation_id, person_id=invitation.person_id,
                    action_id=invitation.action_id, status=invitation.status,
                    invited_at=invitation.invited_at, responded_at=invitation.responded_at,
                    message_id=invitation.message_id,
                ), condition=InvitationModel.invitation_id.does_not_exist())
                tx.update(ActionModel(invitation.action_id), actions=[a.seats_taken.add(1)],
                          condition=a.action_id.exists())
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                return False
            raise
        return True

    def record_rating(self, invitation_id: str, rating: int, now: datetime) -> bool:
        """An attendee's "How was it?" (the last answer stands); False unless they attended."""
        i = InvitationModel
        try:
            InvitationModel(invitation_id).update(
                actions=[i.rating.set(rating), i.rated_at.set(now)],
                condition=i.invitation_id.exists() & (i.status == "attended"))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def review_action(self, action_id: str, decision: str, now: datetime,
                      messages: Sequence[OutboxMessage]) -> bool:
        """Approve (opens it) or decline a supporter's proposed action, once, with the message
        that tells them; False when it is not (or no longer) a proposal."""
        a = ActionModel
        try:
            with TransactWrite(connection=self._connection) as tx:
                for message in messages:
                    tx.save(self.outbox.item(message, now),
                            condition=OutboxModel.message_id.does_not_exist())
                tx.update(ActionModel(action_id), actions=[
                    a.review.set(decision), a.active.set(decision == "approved"), a.updated_at.set(now),
                    a.proposal_queue.remove(),
                ], condition=a.review == "proposed")
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                return False
            raise
        return True

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        try:
            return _invitation(InvitationModel.get(invitation_id, consistent_read=True))
        except DoesNotExist:
            return None

    def invitations_of_person(self, person_id: str) -> list[Invitation]:
        return [_invitation(i) for i in InvitationModel.by_person.query(person_id)]

    def invitations_of_action(self, action_id: str) -> list[Invitation]:
        return [_invitation(i) for i in InvitationModel.by_action.query(action_id)]

    def first_waiting(self, action_id: str) -> Invitation | None:
        """The first on the action's waitlist (the index may lag: the write's conditions hold)."""
        for key in InvitationModel.by_waitlist.query(action_id, limit=1):
            found = self.get_invitation(key.invitation_id)
            if found is not None and found.status == "waitlisted":
                return found
            return None
        return None

    def waitlist_position(self, invitation: Invitation) -> int:
        """1 for the first waiting, 2 for the next…"""
        key = invitation.waitlist_key
        if key is None:
            return 0
        ahead = InvitationModel.by_waitlist.count(
            invitation.action_id, InvitationModel.waitlist_key < key)
        return ahead + 1

    def apply_rsvp(self, change: RsvpChange) -> None:
        """Write an answer in one transaction with its seat, its place on the waitlist, the
        person it seats and their messages. Raises StaleInvitation when anything it read moved
        (decide again from a fresh read)."""
        a, i = ActionModel, InvitationModel
        nobody_waits = a.waiting.does_not_exist() | (a.waiting == 0)
        open_ = a.action_id.exists() & (a.active == True)  # noqa: E712 - a condition
        updates: list[Any] = []
        conditions: list[Any] = []
        if change.seat == 1 and change.at_the_door:
            updates.append(a.seats_taken.add(1))
            conditions.append(a.action_id.exists())
        elif change.seat == 1:
            updates.append(a.seats_taken.add(1))
            conditions.append(open_ & (a.capacity.does_not_exist() | (a.seats_taken < a.capacity)))
        elif change.seat == -1:
            updates.append(a.seats_taken.add(-1))
            conditions.append(a.seats_taken > 0)
        if change.waiting == 1:
            updates.append(a.waiting.add(1))
            conditions.append(open_ & a.capacity.exists() & ((a.seats_taken >= a.capacity) | (a.waiting > 0)))
        elif change.waiting == -1:
            updates.append(a.waiting.add(-1))
            conditions.append(a.waiting > 0)
        elif change.seat and not change.at_the_door:
            conditions.append(nobody_waits)  # a seat moves past the line only when nobody waits
        old = change.invitation
        fields: list[Any] = [i.status.set(change.status), i.responded_at.set(change.at)]
        if change.status == old.status:
            fields = [] if change.share_contact else fields
        elif change.status == "waitlisted":
            waiting = Invitation(old.invitation_id, old.person_id, old.action_id, "waitlisted",
                                 old.invited_at, old.message_id, waitlisted_at=change.at)
            fields += [i.waitlisted_at.set(change.at), i.waitlist_key.set(str(waiting.waitlist_key))]
        elif old.status == "waitlisted":
            fields += [i.waitlisted_at.remove(), i.waitlist_key.remove()]
        if change.share_contact:
            fields.append(i.contact_shared_at.set(change.at))
        try:
            with TransactWrite(connection=self._connection) as tx:
                for message in change.messages:
                    # The day-before message may be saved again (a yes after a cancel): the
                    # send ledger never sends one message id twice. A seat notice is new.
                    condition = (OutboxModel.message_id.does_not_exist()
                                 if message.kind in (SEATED, AFTER) else None)
                    tx.save(self.outbox.item(message, change.at), condition=condition)
                if updates:
                    condition = conditions[0]
                    for more in conditions[1:]:
                        condition &= more
                    tx.update(ActionModel(old.action_id), actions=updates, condition=condition)
                tx.update(InvitationModel(old.invitation_id), actions=fields,
                          condition=i.status == old.status)
                if change.promoted is not None:
                    tx.update(InvitationModel(change.promoted.invitation_id), actions=[
                        i.status.set("yes"), i.waitlisted_at.remove(), i.waitlist_key.remove(),
                    ], condition=(i.status == "waitlisted")
                        & (i.waitlist_key == change.promoted.waitlist_key))
        except TransactWriteError as exc:
            reasons = set(_reasons(exc))
            if "ConditionalCheckFailed" in reasons or reasons & _RETRYABLE_TX \
                    or response_code(exc) in _RETRYABLE_TX:
                raise StaleInvitation(str(sorted(r or "" for r in reasons))) from exc
            raise

    # --- the send ledger ------------------------------------------------------------------
    def mail_record(self, message_id: str) -> MailRecord | None:
        try:
            item = MailModel.get(message_id, consistent_read=True)
        except DoesNotExist:
            return None
        return MailRecord(item.message_id, item.state, int(item.attempts or 0), item.ses_message_id)

    def begin_send(self, message_id: str, kind: str, person_id: str, now: datetime) -> bool:
        """Mark `message_id` as being handed to SES, unless a send of it began already.

        The write carries a token made once per call: when its answer is lost and botocore sends
        it again, the condition accepts the write it already made instead of reading it as
        another send in progress (which would leave the message unsent). If the write still
        fails (botocore out of retries), nothing was sent: the mark, should it have been
        applied, is taken back by its token, so the next attempt may send."""
        m = MailModel
        token = uuid.uuid4().hex
        try:
            MailModel(message_id).update(actions=[
                m.kind.set(kind), m.person_id.set(person_id), m.state.set("sending"),
                m.attempts.add(1), m.started_at.set(now), m.send_token.set(token),
            ], condition=(m.message_id.does_not_exist() | (m.state == "not_sent")
                          | ((m.state == "sending") & (m.send_token == token))))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            self._take_back(message_id, token)
            raise
        return True

    def _take_back(self, message_id: str, token: str) -> None:
        m = MailModel
        try:
            _unsend(lambda: MailModel(message_id).update(
                actions=[m.state.set("not_sent")],
                condition=(m.state == "sending") & (m.send_token == token)))
        except UpdateError:
            pass  # not ours to take back, or storage still failing: the message ends `unconfirmed`

    def finish_send(self, message_id: str, ses_message_id: str, now: datetime) -> None:
        m = MailModel
        MailModel(message_id).update(actions=[
            m.state.set("sent"), m.ses_message_id.set(ses_message_id), m.sent_at.set(now),
        ])

    def abandon_send(self, message_id: str, error: str) -> None:
        """SES refused (nothing was sent): a retry may send."""
        m = MailModel
        _unsend(lambda: MailModel(message_id).update(
            actions=[m.state.set("not_sent"), m.last_error.set(error[:300])],
            condition=m.state == "sending"))


def _unsend(write: Callable[[], object], attempts: int = 3) -> None:
    """A write that marks a message known unsent, tried again while storage fails (after
    botocore's own retries): left undone, the message would stay `sending`, which the next
    attempt must read as perhaps sent, so a message nobody sent would never be sent. A retry
    whose condition fails finds the earlier attempt's write applied (its answer was lost)."""
    for attempt in range(attempts):
        try:
            write()
            return
        except UpdateError as exc:
            if condition_failed(exc) and attempt > 0:
                return
            if condition_failed(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _action_item(a: Action) -> ActionModel:
    return ActionModel(
        a.action_id, kind=a.kind, title=a.title, description=a.description, starts_at=a.starts_at,
        ends_at=a.ends_at, virtual=a.virtual, capacity=a.capacity, seats_taken=a.seats_taken,
        pages=list(a.pages), active=a.active, created_at=a.created_at, updated_at=a.updated_at,
        host={"kind": a.host.kind, "ref": a.host.ref, "name": a.host.name} if a.host else None,
        review=a.review, proposal_queue="open" if a.review == "proposed" else None,
        location=LocationFields(city=a.location.city, state=a.location.state, zip=a.location.zip)
        if a.location else None,
    )


def _action(i: ActionModel) -> Action:
    loc = i.location
    return Action(
        action_id=i.action_id, kind=i.kind, title=i.title, description=i.description or "",
        created_at=_utc(i.created_at) or i.created_at, updated_at=_utc(i.updated_at) or i.updated_at,
        starts_at=_utc(i.starts_at), ends_at=_utc(i.ends_at),
        location=Location(loc.city, loc.state, loc.zip) if loc else None,
        virtual=bool(i.virtual), capacity=int(i.capacity) if i.capacity is not None else None,
        seats_taken=int(i.seats_taken or 0), pages=[str(p) for p in i.pages or []],
        active=i.active is not False, waiting=int(i.waiting or 0),
        host=Host(**i.host) if i.host else None, review=i.review,
    )


def _invitation(i: InvitationModel) -> Invitation:
    return Invitation(
        invitation_id=i.invitation_id, person_id=i.person_id, action_id=i.action_id,
        status=i.status, invited_at=_utc(i.invited_at) or i.invited_at, message_id=i.message_id,
        responded_at=_utc(i.responded_at), waitlisted_at=_utc(i.waitlisted_at),
        contact_shared_at=_utc(i.contact_shared_at),
        rating=int(i.rating) if i.rating is not None else None,
    )


def _person(i: PersonModel) -> Person:
    return Person(
        person_id=i.person_id, email=i.email, first_name=i.first_name or None,
        last_name=i.last_name or None, zip=i.zip,
        state=i.state, interests=[str(k) for k in i.interests or []], subscribed=bool(i.subscribed),
        confirmed_at=_utc(i.confirmed_at), unsubscribed_at=_utc(i.unsubscribed_at),
        suppressed=i.suppressed, share_code=i.share_code or None, share_page=i.share_page or None,
        recruited_count=int(i.recruited_count or 0), recruited_cents=int(i.recruited_cents or 0),
        last_invited_at=_utc(i.last_invited_at), last_invitation_message=i.last_invitation_message,
        pending_signup=dict(i.pending_signup or {}), phone=i.phone, locale=i.locale or "en",
        last_text_day=i.last_text_day, last_text_message=i.last_text_message,
        consents={purpose: Consent.from_record(record) for purpose, record in (
            (INVITATIONS, i.consent_invitations), (SMS, i.consent_sms),
            (SHARING, i.consent_sharing)) if record},
    )
