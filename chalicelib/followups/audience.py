"""The people side of the follow-ups: signups (double opt-in, rate-limited), RSVPs through the
invitation links, unsubscribes, the thank-you page's share link and invitations, share links,
SES feedback (suppressions, the complaint alarm's pause) and what staff see of a person.

Plain Python: the store, tokens, sources, config and clock are passed in (deps.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import logs, tokens
from chalicelib.clock import utcnow
from chalicelib.errors import InvalidInput, NotFound, ProviderUnavailable
from chalicelib.followups import planning, texts
from chalicelib.followups.actions import find_action
from chalicelib.followups.attendance import decide
from chalicelib.followups.errors import StaleInvitation
from chalicelib.followups.feedback import complaint_alarm, suppressions
from chalicelib.followups.model import Action, Invitation, Person
from chalicelib.followups.ports import (
    MAX_RSVP_ATTEMPTS,
    DonationSource,
    FollowupConfig,
    FollowupStore,
    InvitationSwitch,
    PageSource,
    SignupCounterStore,
)
from chalicelib.giving.model import donor_id_for
from chalicelib.giving.velocity import check_signup, signup_expiry, signup_keys
from chalicelib.outbox.model import OutboxMessage

if TYPE_CHECKING:
    from chalicelib.followups.input import SignupRequest


class AudienceService:
    def __init__(self, store: FollowupStore, tokens_: tokens.Tokens, donations: DonationSource,
                 pages: PageSource, config: FollowupConfig, clock: Callable[[], datetime] = utcnow,
                 signup_counters: SignupCounterStore | None = None,
                 pause: InvitationSwitch | None = None) -> None:
        self.store = store
        self.tokens = tokens_
        self.donations = donations
        self.pages = pages
        self.config = config
        self.clock = clock
        self.signup_counters = signup_counters
        # The complaint alarm pauses invitations here; delivery reads the same switch.
        self.pause = pause

    # --- what staff see of a person -------------------------------------------------------
    def recruiters(self, limit: int, *, with_contact: bool) -> list[dict[str, object]]:
        """The people whose share links brought in the most money (contact only for finance and
        admin: others see the person's id)."""
        rows: list[dict[str, object]] = []
        for person in self.store.recruiters(limit):
            row: dict[str, object] = {"person_id": person.person_id,
                                      "recruited_count": person.recruited_count,
                                      "recruited_cents": person.recruited_cents,
                                      "share_page": person.share_page}
            if with_contact:
                row.update(email=person.email, first_name=person.first_name)
            rows.append(row)
        return rows

    def donor_participation(self, donor_id: str, *, with_contact: bool) -> dict[str, object]:
        """What a donor does beyond giving: consent, interests, share link and what it brought in
        (`recruited_*`). A donor linked across two emails has a person record per address."""
        contact = self.store.donor_contact(donor_id)
        ids = dict.fromkeys([donor_id] + ([donor_id_for(contact["email"])] if contact else []))
        people = [p for p in (self.store.get_person(i) for i in ids) if p is not None]
        if contact is None and not people:
            raise NotFound("donor_not_found", f"No donor '{donor_id}'.")
        primary = people[0] if people else None
        view: dict[str, object] = {
            "donor_id": donor_id,
            "recruited_count": sum(p.recruited_count for p in people),
            "recruited_cents": sum(p.recruited_cents for p in people),
            "subscribed": bool(primary and primary.invitable),
            "unsubscribed": bool(primary and primary.unsubscribed_at),
            "suppressed": primary.suppressed if primary else None,
            "interests": list(primary.interests) if primary else [],
            "share_url": self.link(f"/r/{primary.share_code}") if primary and primary.share_code else None,
        }
        if with_contact:
            view["contact"] = contact or {"email": primary.email if primary else None,
                                          "first_name": primary.first_name if primary else None}
        return view
    def link(self, path: str) -> str:
        return self.config.link(path)

    def invitation(self, token: str) -> tuple[Invitation, Action, int | None]:
        """An invitation, its action and the place on the waitlist (reads only)."""
        invitation_id = self.tokens.read(token, tokens.RSVP)
        invitation = self.store.get_invitation(invitation_id)
        if invitation is None:
            raise NotFound("invitation_not_found", "This invitation no longer exists.")
        position = self.store.waitlist_position(invitation) if invitation.status == "waitlisted" else None
        return invitation, find_action(self.store, invitation.action_id), position

    def rsvp(self, token: str, response: str, *,
             share_contact: bool = False) -> tuple[Invitation, Action, int | None]:
        """Record an answer (`yes`, `no`, `confirm`, `cancel`); the invitation as it now stands,
        its action, and the place on the waitlist when a `yes` found the action full.

        Each attempt decides from a fresh read (followups/attendance.py) and writes in one
        transaction; when another answer got there first, it decides again."""
        invitation_id = self.tokens.read(token, tokens.RSVP)
        for attempt in range(MAX_RSVP_ATTEMPTS):
            invitation = self.store.get_invitation(invitation_id)
            if invitation is None:
                raise NotFound("invitation_not_found", "This invitation no longer exists.")
            action = find_action(self.store, invitation.action_id)
            now = self.clock()
            first = self.store.first_waiting(action.action_id) if action.waiting else None
            change = decide(invitation, action, response, now, first_waiting=first,
                            lead=self.config.event_reminder_lead, share_contact=share_contact)
            if change is not None:
                try:
                    self.store.apply_rsvp(change)
                except StaleInvitation:
                    # Answers to one action meet on its item: wait a little, at random, so
                    # twenty at once do not meet again.
                    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
                    continue
                invitation.status, invitation.responded_at = change.status, now
                invitation.waitlisted_at = change.waitlisted_at
                if change.share_contact:
                    invitation.contact_shared_at = now
                if change.promoted is not None:
                    logs.info("seat given to the waitlist", action_id=action.action_id,
                              invitation_id=change.promoted.invitation_id)
                action = find_action(self.store, action.action_id)  # the seats as they now stand
            position = self.store.waitlist_position(invitation) \
                if invitation.status == "waitlisted" else None
            return invitation, action, position
        raise ProviderUnavailable("try_again", "Too many answers at once; please try again.")

    def check_unsubscribe(self, token: str) -> None:
        """Refuse a bad or expired unsubscribe link before its page offers the button."""
        self.tokens.read(token, tokens.UNSUBSCRIBE)

    def unsubscribe(self, token: str, source: str) -> None:
        """Withdraw the invitations consent (`source`: the page's button or a mail client's
        one-click POST). Receipts and other transactional mail still go."""
        self.store.unsubscribe(self.tokens.read(token, tokens.UNSUBSCRIBE), self.clock(), source)

    def after_giving(self, slug: str, donation_id: str,
                     window: timedelta) -> tuple[str | None, list[dict[str, object]]]:
        """The thank-you page's extras: the donor's share link to this page (with their personal
        refcode, so their friends' gifts are credited to them) and the upcoming actions they are
        invited to, each with a fresh RSVP link. Nothing for an unknown donation, another page's
        or one begun more than `window` ago. Reads only."""
        donation = self.donations.get(donation_id)
        now = self.clock()
        if donation is None or donation.page_slug != slug or now - donation.created_at > window:
            return None, []
        person_id = donor_id_for(donation.donor.email)
        share_url = self.link(f"/donate/{slug}?refcode="
                              f"{planning.share_refcode(self.tokens.share_code(person_id))}")
        found: list[dict[str, object]] = []
        for invitation in self.store.invitations_of_person(person_id):
            action = self.store.get_action(invitation.action_id)
            if action is None or not action.is_upcoming(now):
                continue
            found.append({"title": action.title, "kind": action.kind, "status": invitation.status,
                          "starts_at": action.starts_at,
                          "url": "/i/" + self.tokens.issue(tokens.RSVP, invitation.invitation_id)})
        return share_url, found

    def share_target(self, code: str) -> str:
        """Where a share link leads: the sharer's page, with their refcode."""
        sharer = self.store.person_by_share_code(code.lower()) if code.isalnum() else None
        if sharer is None or not sharer.share_page:
            raise NotFound("share_link_not_found", "This share link is not known.")
        return f"/donate/{sharer.share_page}?refcode={planning.share_refcode(code.lower())}"

    # --- signups --------------------------------------------------------------------------
    def signup(self, request: SignupRequest, client_ip: str | None = None) -> bool:
        """Ask a non-donor to confirm (double opt-in); at most one confirmation per hour per
        address, and (each sending an email in our name) at most `SIGNUPS_PER_IP` signups per
        hour from one IP and `SIGNUPS_PER_NETWORK` from its /24 (IPv6: /64): `RateLimited`.

        Returns whether a confirmation was queued; callers answer 202 either way, so the
        response tells nobody whether an address is known.
        """
        if request.page and self.pages.get(request.page) is None:
            raise InvalidInput("invalid_request", "No such page.", fields={"page": "no such page"})
        now = self.clock()
        if self.signup_counters is not None and client_ip:
            limits = self.config.signup_limits
            keys = signup_keys(client_ip, now, limits)
            check_signup(self.signup_counters.counts(keys), client_ip, now, limits)
            self.signup_counters.add(keys[::2], signup_expiry(now, limits))  # this window's
        person_id = donor_id_for(request.email)
        pending: dict[str, Any] = {k: v for k, v in {
            "first_name": request.first_name, "zip": request.zip[:5] if request.zip else None,
            "interests": list(request.interests), "page": request.page, "refcode": request.refcode,
            # the texts box: the number and the disclosure's version, recorded once confirmed
            "phone": request.phone if request.sms_opt_in else None,
            "sms_version": texts.DISCLOSURE_VERSION if request.sms_opt_in else None,
        }.items() if v}
        confirmation = OutboxMessage(f"{planning.CONFIRM_SIGNUP}#{person_id}#{now:%Y%m%d%H%M%S}",
                                     planning.CONFIRM_SIGNUP, now, {"person_id": person_id})
        return self.store.request_signup(person_id, request.email, pending, now, confirmation)

    def confirm_signup(self, token: str) -> Person:
        person_id = self.tokens.read(token, tokens.CONFIRM)
        person = self.store.get_person(person_id)
        if person is None:
            raise NotFound("signup_not_found", "This signup no longer exists.")
        if person.confirmed_at and person.subscribed and person.unsubscribed_at is None \
                and not person.pending_signup:
            return person
        now = self.clock()
        messages = []
        if person.confirmed_at is None:
            welcome = f"{planning.WELCOME}#{person_id}"
            messages = [
                OutboxMessage(welcome, planning.WELCOME, now, {"person_id": person_id}),
                OutboxMessage(f"{planning.REMINDER}#{person_id}", planning.REMINDER,
                              now + self.config.reminder_delay,
                              {"person_id": person_id, "after": welcome}),
            ]
            if person.pending_signup.get("phone"):  # ticked the texts box
                messages.append(planning.text_invite(welcome, now, {"person_id": person_id}))
        self.store.confirm_signup(person, self.tokens.share_code(person_id), now, messages)
        return self.store.get_person(person_id) or person

    # --- SES feedback ---------------------------------------------------------------------
    def record_alarm(self, notification: Any) -> str | None:
        """The complaint-rate alarm's notification pauses or resumes invitations; what it did,
        or None when the notification is not that alarm's."""
        state = complaint_alarm(notification)
        if state is None or self.pause is None:
            return None
        self.pause.set_paused(state, str(notification.get("AlarmName")), self.clock())
        logs.warning("invitations paused" if state else "invitations resumed",
                     alarm=notification.get("AlarmName"))
        return "invitations_paused" if state else "invitations_resumed"

    def record_feedback(self, notification: Any) -> int:
        """Suppress the addresses a bounce or complaint names; how many were suppressed."""
        found = suppressions(notification)
        for s in found:
            self.store.suppress(donor_id_for(s.email), s.email, s.reason, self.clock())
            logs.info("address suppressed", person_id=donor_id_for(s.email), reason=s.reason)
        return len(found)
