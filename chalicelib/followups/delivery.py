"""Follow-ups' delivery: the outbox handlers that write to people (thank-yous, reminders,
confirmations, the monthly gifts' and remedies' notices) and the one send path of every
channel, email and text (`DeliveryService._send`), which every sending handler, here or
elsewhere (best-efforts requests, sign-in and portal links, texts), goes through.

Send discipline, for every message (outbox handlers run at least once):
1. the send ledger is read first: a message already `sent` is not sent again;
2. the person is read fresh: unsubscribed or suppressed means `PermanentFailure`, no send;
3. invitations are chosen, the once-a-day slot claimed and the invitations recorded, all keyed
   by the outbox message id, so a retry finds and reuses them instead of choosing anew;
4. a `sending` marker is written (conditionally) right before SES is called, and `sent` with
   SES's message id right after. A retry that finds `sending` does not send again: the previous
   attempt died while SES had the message (see README, "exactly once").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import logs, tokens
from chalicelib.clock import utcnow
from chalicelib.compliance.reattribution import REATTRIBUTION_REQUEST
from chalicelib.compliance.remedies import EXCESS_NOTICE, REDESIGNATION_NOTICE
from chalicelib.followups import consent, planning, texts
from chalicelib.followups.errors import AddressRefused, SendRefused
from chalicelib.followups.matching import Audience, rank
from chalicelib.followups.model import (
    SMS,
    Action,
    Consent,
    Invitation,
    OutgoingEmail,
    Person,
    invitation_id_for,
)
from chalicelib.followups.ports import (
    DonationSource,
    FollowupConfig,
    FollowupStore,
    InvitationSwitch,
    Mailer,
    PageSource,
    Texter,
)
from chalicelib.followups.texts import OutgoingText
from chalicelib.giving.model import Donation, DonorSnapshot, RecurringPlan, donor_id_for
from chalicelib.giving.monthly import PLAN_CHANGED, PLAN_ENDING
from chalicelib.giving.recurring import CANCELLED, PLAN_ENDED, RENEWAL_FAILED
from chalicelib.i18n import translations
from chalicelib.outbox.model import Deferred, Delivered, Handler, OutboxMessage, PermanentFailure

# How long an invitation-only email waits before it looks again whether the pause is over.
INVITATIONS_PAUSED_RETRY = timedelta(minutes=15)


class DeliveryService:
    def __init__(self, store: FollowupStore, mailer: Mailer, tokens_: tokens.Tokens,
                 donations: DonationSource, pages: PageSource, config: FollowupConfig,
                 clock: Callable[[], datetime] = utcnow,
                 pause: InvitationSwitch | None = None, texter: Texter | None = None,
                 supporter_link: Callable[[str, str], str | None] | None = None) -> None:
        # A donor's signed link to start their own page under the page they gave on
        # (pages/supporters.py decides which page and whether it takes any).
        self.supporter_link = supporter_link
        # Texts go through the same `_send` as email, by SNS (none configured: no texts).
        self.texter = texter
        # Invitations paused (SES complaints above the alarm): receipts still go, without them.
        self.pause = pause
        self.store = store
        self.mailer = mailer
        self.tokens = tokens_
        self.donations = donations
        self.pages = pages
        self.config = config
        self.clock = clock

    def link(self, path: str) -> str:
        return self.config.link(path)

    def _invitations_paused(self) -> bool:
        return self.pause is not None and self.pause.paused()

    def _hold_if_paused(self) -> None:
        """An invitation-only email waits while invitations are paused (no attempt used)."""
        if self._invitations_paused():
            raise Deferred("invitations paused", after=INVITATIONS_PAUSED_RETRY)

    # --- outbox handlers ------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        return {
            planning.THANKS: self.deliver_thanks,
            PLAN_ENDED: self.deliver_plan_ended,
            RENEWAL_FAILED: self.deliver_renewal_failed,
            PLAN_CHANGED: self.deliver_plan_changed,
            PLAN_ENDING: self.deliver_plan_ending,
            REDESIGNATION_NOTICE: self.deliver_redesignation_notice,
            EXCESS_NOTICE: self.deliver_excess_notice,
            REATTRIBUTION_REQUEST: self.deliver_reattribution_request,
            planning.REMINDER: self.deliver_reminder,
            planning.WELCOME: self.deliver_welcome,
            planning.EVENT_REMINDER: self.deliver_event_reminder,
            planning.SEATED: self.deliver_seated,
            planning.AFTER: self.deliver_after,
            planning.PROPOSAL_REVIEWED: self.deliver_proposal_reviewed,
            planning.CONFIRM_SIGNUP: self.deliver_confirmation,
            planning.CREDIT: self.credit_sharer,
        }

    def _donation_of(self, message: OutboxMessage) -> Donation:
        """The donation a message names (a permanent failure when it does not exist)."""
        donation = self.donations.get(str(message.payload.get("donation_id")))
        if donation is None:
            raise PermanentFailure("donation not found")
        return donation

    def deliver_thanks(self, message: OutboxMessage) -> Delivered:
        """The thank-you for a contribution, with the best invitations for the donor."""
        done = self._already_sent(message)
        if done:
            return done
        donation = self._donation_of(message)
        if donation.status != "succeeded":
            return Delivered(f"skipped: donation is {donation.status}")
        d = donation.donor
        interests = list(getattr(donation, "interests", None) or [])
        person_id = donor_id_for(d.email)
        # A gift finance entered (a check, cash…) was given on no donation page: its page is
        # the offline thermometer's, which nobody can open, so it becomes nobody's share page
        # (a share link stays only when an earlier online gift gave the person a real one).
        page_slug = None if donation.channel else donation.page_slug
        person = self.store.upsert_donor(Person(
            person_id=person_id, email=d.email, first_name=d.first_name, zip=d.zip[:5],
            state=d.state, interests=interests, share_code=self.tokens.share_code(person_id),
            share_page=page_slug, phone=d.phone, locale=getattr(donation, "locale", "en"),
        ), subscribe=donation.email_opt_in or bool(interests), now=self.clock(),
            texts=self._texts_consent(person_id, donation))
        self._require_mailable(person, message)
        page = self.pages.get(page_slug) if page_slug else None
        picks = self._invite(person, message, page_slug or person.share_page)
        _ = translations(person.locale).gettext
        subject = (_("Thank you, {name}").format(name=person.first_name) if person.first_name
                   else _("Thank you, friend"))
        email = self._compose("thanks", subject, person, message, picks, page=page,
                              amount_cents=donation.amount_cents, locale=person.locale,
                              **self._monthly_terms(donation, message),
                              **self._receipt_links(donation),
                              start_url=self._start_link(person_id, page_slug))
        return self._send(message, person.person_id, email)

    def _start_link(self, donor_id: str, page_slug: str | None) -> str | None:
        """The thank-you's link to start one's own page; never fails the receipt."""
        if self.supporter_link is None or page_slug is None:
            return None
        try:
            return self.supporter_link(donor_id, page_slug)
        except Exception as exc:
            logs.warning("supporter link unavailable", error=type(exc).__name__)
            return None

    def _texts_consent(self, person_id: str, donation: Donation) -> Consent | None:
        """The texts consent a donation's ticked box gives (at its intake, under the disclosure
        of that day), unless the person answered since (a STOP after the gift stays in force)."""
        if not (donation.sms_opt_in and donation.donor.phone):
            return None
        known = self.store.get_person(person_id)
        last = known.consents.get(SMS) if known else None
        if last is not None and last.at >= donation.created_at:
            return None
        return Consent(True, donation.created_at, "donation_opt_in", texts.DISCLOSURE_VERSION)

    def _monthly_terms(self, donation: Donation, message: OutboxMessage) -> dict[str, Any]:
        """What a monthly charge's receipt states besides its amount and cancel link (AB 775):
        the next charge date, from the paid invoice, and the day the gift ends by itself (the
        committee's `recurring_ends_at`); no next charge when the gift ends first."""
        if not donation.subscription_id:
            return {"next_charge": None, "ends_on": None}
        plan = self.donations.plan(donation.subscription_id)
        ends_on = plan.ends_on if plan else None
        next_on = _day(message.payload.get("next_charge_on"))
        if next_on is not None and ends_on is not None and next_on >= ends_on:
            next_on = None
        return {"next_charge": _long_date(next_on, donation.locale),
                "ends_on": _long_date(ends_on, donation.locale)}

    def _receipt_links(self, donation: Donation) -> dict[str, str | None]:
        """Every receipt of a monthly gift carries its one-step cancel link; a donor who saved a
        card gets an express link (a confirmation step, never a charge by itself), when the gift
        came from the address the donor record began with: the link charges the record's saved
        card, and a gift from another address joined the record by name and ZIP, which anyone
        can type."""
        cancel = express = None
        lang = "" if donation.locale == "en" else f"lang={donation.locale}"  # the page opens in it
        if donation.subscription_id:
            cancel = self.link("/c/" + self.tokens.issue(tokens.CANCEL_PLAN, donation.subscription_id)
                               + (f"?{lang}" if lang else ""))
        elif donation.customer_id and donor_id_for(donation.donor.email) == donation.donor_id:
            token = self.tokens.issue(tokens.EXPRESS, donation.donor_id, donation.committee_id)
            express = self.link(f"/express/{donation.page_slug}?t={token}" + (f"&{lang}" if lang else ""))
        return {"cancel_url": cancel, "express_url": express}

    def deliver_after(self, message: OutboxMessage) -> Delivered:
        """An hour after the event, to someone who came: "How was it?" (five one-tap links)
        and the next best action for them. Only to people who agreed to hear from us."""
        done = self._already_sent(message)
        if done:
            return done
        invitation = self.store.get_invitation(str(message.payload.get("invitation_id")))
        if invitation is None or invitation.status != "attended":
            return Delivered("skipped: did not attend")
        action = self.store.get_action(invitation.action_id)
        person = self.store.get_person(invitation.person_id)
        if action is None or person is None:
            raise PermanentFailure("action or person not found")
        self._require_mailable(person, message)
        if not person.invitable:
            return Delivered("skipped: no consent to write")
        picks = self._invite(person, message, person.share_page, limit=1)
        rate_url = self.link("/f/" + self.tokens.issue(tokens.FEEDBACK, invitation.invitation_id))
        email = self._compose("after", f"How was {action.title}?", person, message, picks,
                              attended=action, rate_url=rate_url)
        return self._send(message, person.person_id, email)

    def deliver_proposal_reviewed(self, message: OutboxMessage) -> Delivered:
        """Tell a supporter what became of the action they offered to host (approved: with
        their host link)."""
        done = self._already_sent(message)
        if done:
            return done
        action = self.store.get_action(str(message.payload.get("action_id")))
        if action is None or action.host is None or action.host.kind != "supporter":
            return Delivered("skipped: no supporter host")
        person = self.store.get_person(action.host.ref)
        if person is None:
            raise PermanentFailure("person not found")
        self._require_mailable(person, message)
        approved = message.payload.get("decision") == "approved"
        host_url = self.link("/h/" + self.tokens.issue(tokens.HOST, action.action_id, action.host.ref)) \
            if approved else None
        subject = f"You are hosting {action.title}" if approved else f"About {action.title}"
        email = self._compose("proposal_reviewed", subject, person, message, [], proposal=action,
                              approved=approved, host_url=host_url)
        return self._send(message, person.person_id, email)

    def deliver_welcome(self, message: OutboxMessage) -> Delivered:
        """A confirmed supporter's first invitations."""
        done = self._already_sent(message)
        if done:
            return done
        self._hold_if_paused()
        person = self._person(message)
        self._require_mailable(person, message)
        picks = self._invite(person, message, person.share_page)
        page = self.pages.get(person.share_page) if person.share_page else None
        email = self._compose("welcome", "Welcome aboard: here is how to take part", person,
                              message, picks, page=page)
        return self._send(message, person.person_id, email)

    def deliver_reminder(self, message: OutboxMessage) -> Delivered:
        """A nudge about the invitations of an earlier message, unless the person answered."""
        done = self._already_sent(message)
        if done:
            return done
        self._hold_if_paused()
        person = self._person(message)
        self._require_mailable(person, message)
        if not person.invitable:
            return Delivered("skipped: not subscribed to invitations")
        invitations = self.store.invitations_of_person(person.person_id)
        earlier = [i for i in invitations if i.message_id == message.payload.get("after")]
        if not earlier:
            return Delivered("skipped: nothing to remind of")
        since = min(i.invited_at for i in earlier)
        if any(i.answered and i.responded_at and i.responded_at >= since for i in invitations):
            return Delivered("skipped: answered")
        now = self.clock()
        actions = [a for a in (self.store.get_action(i.action_id) for i in earlier)
                   if a is not None and a.is_upcoming(now) and a.has_room()]
        if not actions:
            return Delivered("skipped: no open invitation left")
        if not self.store.claim_invitation_slot(person.person_id, message.message_id, now):
            return Delivered("skipped: invited in the last day")
        page = self.pages.get(person.share_page) if person.share_page else None
        email = self._compose("reminder", "Still time to join us", person, message, actions,
                              page=page)
        return self._send(message, person.person_id, email)

    def deliver_event_reminder(self, message: OutboxMessage) -> Delivered:
        """The day before a dated action: a `yes` is asked to confirm or cancel (so a seat
        nobody will use goes to the waitlist); a `confirmed` is reminded. No daily cap: it is
        about an answer the person gave, not an invitation."""
        found = self._attendee(message)
        if isinstance(found, Delivered):
            return found
        invitation, action, person = found
        subject = f"Tomorrow: {action.title}" + (
            ". Are you still coming?" if invitation.status == "yes" else "")
        email = self._compose("event_reminder", subject, person, message, [action],
                              status=invitation.status)
        return self._send(message, person.person_id, email)

    def deliver_seated(self, message: OutboxMessage) -> Delivered:
        """A seat freed and went to this person, first on the waitlist: tell them at once."""
        found = self._attendee(message)
        if isinstance(found, Delivered):
            return found
        _invitation, action, person = found
        email = self._compose("seated", f"A seat opened up: {action.title}", person, message, [action])
        return self._send(message, person.person_id, email)

    def _attendee(self, message: OutboxMessage) -> tuple[Invitation, Action, Person] | Delivered:
        """The invitation a message is about, while its person holds a seat at an action still
        ahead (else why the message is skipped)."""
        done = self._already_sent(message)
        if done:
            return done
        invitation = self.store.get_invitation(str(message.payload.get("invitation_id")))
        if invitation is None or invitation.status not in ("yes", "confirmed"):
            return Delivered("skipped: no longer attending")
        action = self.store.get_action(invitation.action_id)
        if action is None or not action.is_upcoming(self.clock()):
            return Delivered("skipped: action closed")
        person = self.store.get_person(invitation.person_id)
        if person is None:
            raise PermanentFailure("person not found")
        self._require_mailable(person, message)
        return invitation, action, person

    def deliver_confirmation(self, message: OutboxMessage) -> Delivered:
        """The double opt-in email. Sent even after an unsubscribe (the person just asked for
        it), never to a suppressed address."""
        done = self._already_sent(message)
        if done:
            return done
        person = self._person(message)
        if person.suppressed:
            raise PermanentFailure(f"address suppressed ({person.suppressed})")
        token = self.tokens.issue(tokens.CONFIRM, person.person_id)
        email = self._compose("confirm", "Please confirm your signup", person, message, [],
                              confirm_url=self.link(f"/s/{token}"))
        return self._send(message, person.person_id, email)

    def credit_sharer(self, message: OutboxMessage) -> Delivered:
        """Count a contribution toward the person whose share link brought it in (once)."""
        p = message.payload
        sharer = self.store.person_by_share_code(str(p.get("share_code", "")))
        if sharer is None:
            # The sharer's record appears with their own thank-you, which may not have gone out
            # yet (a link shared straight from the thank-you page): retry, and after the last
            # attempt the message stays `failed` with this reason.
            raise LookupError("share code not known (yet)")
        if sharer.person_id == p.get("person_id"):
            return Delivered("skipped: own share link")
        done = self.store.credit_sharer(sharer.person_id, str(p["donation_id"]), int(p["amount_cents"]))
        return Delivered("credited" if done else "already credited")

    # --- helpers --------------------------------------------------------------------------
    def _person(self, message: OutboxMessage) -> Person:
        person_id = message.payload.get("person_id")
        if not person_id and message.payload.get("donation_id"):
            donation = self.donations.get(str(message.payload["donation_id"]))
            person_id = donor_id_for(donation.donor.email) if donation else None
        person = self.store.get_person(str(person_id)) if person_id else None
        if person is None:
            raise PermanentFailure("person not found")
        return person

    @staticmethod
    def _require_mailable(person: Person, message: OutboxMessage) -> None:
        consent.require(person, message.kind)

    def _already_sent(self, message: OutboxMessage) -> Delivered | None:
        record = self.store.mail_record(message.message_id)
        if record is None or record.state == "not_sent":
            return None
        if record.state == "sent":
            return Delivered(record.ses_message_id or "sent")
        # `sending`: an earlier attempt died after handing the message to SES (or just before);
        # sending again could mail the person twice, so this message ends here, visibly.
        logs.warning("send outcome unknown; not sending again", message_id=message.message_id)
        return Delivered(f"unconfirmed: attempt {record.attempts} was interrupted during the send")

    def _invite(self, person: Person, message: OutboxMessage, page_slug: str | None,
                limit: int | None = None) -> list[Action]:
        """The actions this message invites to: those chosen by an earlier attempt of it, else
        the best matches, if the person wants invitations and has had none in the last day."""
        if not person.invitable:
            return []
        now = self.clock()
        known = self.store.invitations_of_person(person.person_id)
        mine = [i.action_id for i in known if i.message_id == message.message_id]
        if mine:
            return [a for a in (self.store.get_action(x) for x in mine) if a is not None]
        if self._invitations_paused():
            return []
        who = Audience(person.zip, person.state, tuple(person.interests), page_slug)
        picks = rank(self.store.list_actions(), who, now, exclude={i.action_id for i in known},
                     limit=limit or self.config.max_invitations)
        if not picks or not self.store.claim_invitation_slot(person.person_id, message.message_id, now):
            return []
        self.store.record_invitations([
            Invitation(invitation_id_for(person.person_id, a.action_id), person.person_id,
                       a.action_id, "invited", now, message.message_id) for a in picks])
        return picks

    def _compose(self, template: str, subject: str, person: Person, message: OutboxMessage,
                 actions: list[Action], locale: str = "en", **context: Any) -> OutgoingEmail:
        from chalicelib.followups.compose import InvitationLink, compose

        lang = "" if locale == "en" else f"?lang={locale}"  # the pages its links open speak it
        links = [InvitationLink(a, self.link("/i/" + self.tokens.issue(
            tokens.RSVP, invitation_id_for(person.person_id, a.action_id)) + lang))
            for a in actions]
        unsubscribe = self.tokens.issue(tokens.UNSUBSCRIBE, person.person_id)
        share_url = self.link(f"/r/{person.share_code}") if person.share_code and person.share_page else None
        context.setdefault("page", None)
        context.setdefault("amount_cents", 0)
        context.setdefault("confirm_url", None)
        context.setdefault("status", None)
        return compose(template, subject, to=person.email, message_id=message.message_id, locale=locale,
                       unsubscribe_url=self.link(f"/api/unsubscribe/{unsubscribe}"),
                       unsubscribe_page=self.link(f"/u/{unsubscribe}" + lang), person=person,
                       invitations=links, share_url=share_url, **context)

    def send_transactional(self, message: OutboxMessage, recipient_id: str,
                           email: OutgoingEmail) -> Delivered:
        """Deliver mail composed elsewhere (a best-efforts request) as every email here is
        delivered: the send ledger read first (a message once sent is neither sent again nor
        refused afterwards), then the one consent check for its kind (`consent.require`: a
        transactional kind still goes to someone unsubscribed from invitations, never to a
        suppressed address), then `_send`."""
        done = self._already_sent(message)
        if done:
            return done
        self._mailable(email.to, None, message)
        return self._send(message, recipient_id, email)

    def _mailable(self, address: str, first_name: str | None, message: OutboxMessage) -> Person:
        """The person an address is (as known, or as the message names them), checked as
        mailable for this message."""
        person_id = donor_id_for(address)
        person = self.store.get_person(person_id) or Person(person_id, address, first_name)
        self._require_mailable(person, message)
        return person

    def _mailable_donor(self, donor: DonorSnapshot, message: OutboxMessage) -> tuple[str, Person]:
        """The person a donation's or plan's donor is, checked as mailable for this message."""
        person = self._mailable(donor.email, donor.first_name, message)
        return person.person_id, person

    def _plan_of(self, message: OutboxMessage) -> RecurringPlan:
        """The monthly gift a message is about (a permanent failure when there is none)."""
        plan = self.donations.plan(str(message.payload.get("subscription_id")))
        if plan is None:
            raise PermanentFailure("plan not found")
        return plan

    def deliver_plan_ended(self, message: OutboxMessage) -> Delivered:
        """The email that confirms a monthly gift stopped (the donor cancelled it, or Stripe
        ended it after its renewals kept failing): transactional."""
        done = self._already_sent(message)
        if done:
            return done
        plan = self._plan_of(message)
        person_id, person = self._mailable_donor(plan.donor, message)
        cancelled = message.payload.get("reason") == CANCELLED
        forgone = message.payload.get("reason") == "forgone"  # the candidate is out of the race
        subject = "Your monthly gift is cancelled" if cancelled else "Your monthly gift has ended"
        email = self._compose("plan_ended", subject, person, message, [],
                              page=self.pages.get(plan.page_slug), amount_cents=plan.amount_cents,
                              cancelled=cancelled, forgone=forgone,
                              page_url=self.link(f"/donate/{plan.page_slug}"))
        return self._send(message, person_id, email)

    def deliver_plan_changed(self, message: OutboxMessage) -> Delivered:
        """The email that confirms a change the donor made to a monthly gift from the portal
        (what changed and the gift as it now is, from the message: the plan may have changed
        again since). Transactional."""
        done = self._already_sent(message)
        if done:
            return done
        p = message.payload
        plan = self.donations.plan(str(p.get("subscription_id")))
        if plan is None:
            raise PermanentFailure("plan not found")
        person_id, person = self._mailable_donor(plan.donor, message)
        amount = p.get("amount_cents")
        email = self._compose(
            "plan_changed", "Your monthly gift is changed", person, message, [],
            page=self.pages.get(plan.page_slug), what=str(p.get("what") or ""),
            amount_cents=amount if isinstance(amount, int) else plan.amount_cents,
            status=str(p.get("status") or plan.status), charge_day=p.get("charge_day"),
            ends_on=p.get("ends_on"), portal_url=self.link("/me"),
            cancel_url=self.link("/c/" + self.tokens.issue(tokens.CANCEL_PLAN, plan.subscription_id)))
        return self._send(message, person_id, email)

    def deliver_plan_ending(self, message: OutboxMessage) -> Delivered:
        """The notice 7 days before a monthly gift ends by itself (the committee's
        `recurring_ends_at` or the donor's own end date). Skipped when the plan ended already
        or its end date moved since (the new date has a notice of its own). Transactional."""
        done = self._already_sent(message)
        if done:
            return done
        plan = self._plan_of(message)
        ends_on = str(message.payload.get("ends_on") or "")
        if plan.status == "canceled":
            return Delivered("skipped: the plan has ended")
        if plan.ends_on is None or plan.ends_on.isoformat() != ends_on:
            return Delivered("skipped: the end date changed")
        person_id, person = self._mailable_donor(plan.donor, message)
        email = self._compose("plan_ending", "Your monthly gift ends in 7 days", person, message, [],
                              page=self.pages.get(plan.page_slug), amount_cents=plan.amount_cents,
                              ends_on=ends_on, page_url=self.link(f"/donate/{plan.page_slug}"),
                              portal_url=self.link("/me"))
        return self._send(message, person_id, email)

    def deliver_forgone_notice(self, message: OutboxMessage) -> Delivered:
        """Why a contribution is being refunded in full: the candidate lost the primary or
        withdrew, so the election it was given for is one they take no part in (queued with
        the refund, `compliance/withdrawal.py`). Transactional."""
        done = self._already_sent(message)
        if done:
            return done
        donation = self._donation_of(message)
        person_id, person = self._mailable_donor(donation.donor, message)
        amount = message.payload.get("amount_cents")
        email = self._compose("forgone_refund", "Your contribution is being refunded", person, message, [],
                              page=self.pages.get(donation.page_slug),
                              amount_cents=amount if isinstance(amount, int) else donation.amount_cents,
                              why=str(message.payload.get("why") or ""),
                              election=str(message.payload.get("election") or ""))
        return self._send(message, person_id, email)

    def deliver_redesignation_notice(self, message: OutboxMessage) -> Delivered:
        """The part of a contribution over the limit for its election was presumed to be for
        the next one (`compliance/remedies.py`): the donor is told the same day, with a signed
        link to have that part refunded instead within 60 days. Transactional."""
        done = self._already_sent(message)
        if done:
            return done
        donation = self._donation_of(message)
        if donation.redesignation_status != "presumed":
            return Delivered(f"skipped: redesignation {donation.redesignation_status}")
        person_id, person = self._mailable_donor(donation.donor, message)
        refund = message.payload.get("refund_cents")
        email = self._compose(
            "redesignation_notice", "About your contribution: part of it counts for the next election",
            person, message, [], page=self.pages.get(donation.page_slug),
            amount_cents=donation.redesignated_cents, gift_cents=donation.amount_cents,
            refund_cents=refund if isinstance(refund, int) else 0,
            held_cents=donation.excess_held_cents, refund_on=donation.excess_held_until,
            reattribute_url=self._reattribute_url(donation),
            from_election=donation.election, to_election=donation.redesignated_to or "",
            refund_url=self.link("/redesignation/" + self.tokens.issue(tokens.REDESIGNATION,
                                                                       donation.donation_id)))
        return self._send(message, person_id, email)

    def deliver_excess_notice(self, message: OutboxMessage) -> Delivered:
        """Nothing of a contribution's excess could be redesignated: it is held until its day 60
        (compliance/remedies.py) and the donor is told the same day how much and when it is
        refunded. Transactional; skipped when the hold was resolved before it went out."""
        done = self._already_sent(message)
        if done:
            return done
        donation = self._donation_of(message)
        if not donation.excess_held_cents:
            return Delivered("skipped: nothing held")
        person_id, person = self._mailable_donor(donation.donor, message)
        email = self._compose(
            "excess_notice", "About your contribution: part of it is over the legal limit",
            person, message, [], page=self.pages.get(donation.page_slug),
            gift_cents=donation.amount_cents, held_cents=donation.excess_held_cents,
            refund_on=donation.excess_held_until, election=donation.election,
            reattribute_url=self._reattribute_url(donation))
        return self._send(message, person_id, email)

    def _reattribute_url(self, donation: Donation) -> str | None:
        """The donor's signed link to reattribute a held excess (none when nothing is held)."""
        if not donation.excess_held_cents:
            return None
        return self.link("/reattribution/" + self.tokens.issue(tokens.REATTRIBUTION, donation.donation_id))

    def deliver_reattribution_request(self, message: OutboxMessage) -> Delivered:
        """The donor named another holder of the card account for part of a held excess
        (compliance/reattribution.py): that person gets their own signed link to confirm with
        their own details. Transactional; skipped once the request no longer stands."""
        done = self._already_sent(message)
        if done:
            return done
        donation = self._donation_of(message)
        if donation.reattribution_status != "requested" or not donation.excess_held_cents:
            return Delivered(f"skipped: reattribution {donation.reattribution_status}")
        address = str(message.payload.get("email") or "")
        person = self._mailable(address, str(message.payload.get("first_name") or "") or None, message)
        email = self._compose(
            "reattribution_request", "Please confirm your part of a contribution",
            person, message, [], page=self.pages.get(donation.page_slug),
            amount_cents=donation.reattribution_cents, donor_name=donation.donor.first_name,
            confirm_url=self.link("/reattribution/confirm/" + self.tokens.issue(
                tokens.REATTRIBUTION_CONFIRM, donation.donation_id)),
            refund_on=donation.excess_held_until)
        return self._send(message, person.person_id, email)

    def deliver_renewal_failed(self, message: OutboxMessage) -> Delivered:
        """A monthly renewal's payment failed: tell the donor, with a signed link into their
        portal (`/me`, purpose `card`) to replace the card, and the gift's cancel link.
        Transactional; skipped once the plan has ended (its own email says so). The signed link
        goes only to the address the donor record began with: a gift from another address joins
        the record by name and ZIP, which anyone can type, so its address is sent to `/me`,
        where a link is asked for and mailed to the record's own address."""
        done = self._already_sent(message)
        if done:
            return done
        plan = self._plan_of(message)
        if plan.status == "canceled":
            return Delivered("skipped: the plan has ended")
        person_id, person = self._mailable_donor(plan.donor, message)
        own = donor_id_for(plan.donor.email) == plan.donor_id
        amount = message.payload.get("amount_cents")
        email = self._compose(
            "renewal_failed", "Your monthly gift's payment did not go through", person, message, [],
            page=self.pages.get(plan.page_slug),
            amount_cents=amount if isinstance(amount, int) and amount > 0 else plan.amount_cents,
            portal_url=self.link("/me?t=" + self.tokens.issue(tokens.CARD, plan.donor_id))
            if own else self.link("/me"), signed=own,
            cancel_url=self.link("/c/" + self.tokens.issue(tokens.CANCEL_PLAN, plan.subscription_id)))
        return self._send(message, person_id, email)

    def send_once(self, message: OutboxMessage, recipient_id: str, email: OutgoingEmail) -> Delivered:
        """Deliver an email composed elsewhere (the console's sign-in link) through this one
        delivery path: the send ledger is read first and marked around the SES call, so an
        outbox retry never sends it twice. `recipient_id` names who it is for, never an address."""
        done = self._already_sent(message)
        if done:
            return done
        return self._send(message, recipient_id, email)

    def send_text(self, message: OutboxMessage, recipient_id: str, person: Person | None,
                  text: OutgoingText) -> Delivered:
        """Deliver a text through the one delivery path, with the texts' rules first: the
        consent (`consent.require` on the `sms` channel: none is the usual case, so the message
        is skipped, not failed), quiet hours (the text waits, rescheduled to 09:00 local, no
        attempt used), and at most one non-essential text per person and local day (a second
        waits for the next morning); then the send ledger around SNS, as for every email."""
        done = self._already_sent(message)
        if done:
            return done
        try:
            consent.require(person, message.kind, "sms")
        except PermanentFailure as exc:
            return Delivered(f"skipped: {exc}")
        rule = texts.rule(message.kind)
        now = self.clock()
        zones = texts.zones_for(person.state if person else None, person.zip if person else None)
        if not rule.answer:
            quiet = texts.quiet_until(now, zones)
            if quiet is not None:
                raise Deferred("quiet hours", after=quiet - now)
        if not rule.essential and person is not None and not self.store.claim_text_slot(
                person.person_id, texts.local_day(now, zones).isoformat(), message.message_id):
            raise Deferred("a text went today", after=texts.next_morning(now, zones) - now)
        return self._send(message, recipient_id, text)

    def _send(self, message: OutboxMessage, recipient_id: str,
              outgoing: OutgoingEmail | OutgoingText) -> Delivered:
        """The one delivery path of every channel: the send ledger's `sending` mark right before
        the transport is called, `sent` with its message id right after, `not_sent` when it
        refused (a retry may send)."""
        transport: Callable[[], str]
        if isinstance(outgoing, OutgoingText):
            texter = self.texter
            if texter is None:
                raise PermanentFailure("texts are not configured")
            transport = lambda: texter.send(outgoing)  # noqa: E731
        else:
            transport = lambda: self.mailer.send(outgoing)  # noqa: E731
        if not self.store.begin_send(message.message_id, message.kind, recipient_id, self.clock()):
            # Another attempt got there first (a lease that ran out mid-send).
            done = self._already_sent(message)
            if done:
                return done
            raise RuntimeError("another attempt holds this message")
        try:
            ses_message_id = transport()
        except AddressRefused as exc:
            self.store.abandon_send(message.message_id, type(exc).__name__)
            raise PermanentFailure(f"address refused: {exc}") from exc
        except SendRefused as exc:
            self.store.abandon_send(message.message_id, type(exc).__name__)
            raise
        self.store.finish_send(message.message_id, ses_message_id, self.clock())
        return Delivered(ses_message_id)


def _day(value: Any) -> date | None:
    """An ISO date from a payload; None when absent or malformed."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _long_date(day: date | None, locale: str = "en") -> str | None:
    """A date as a receipt states it ("January 2, 2027", "2 de enero de 2027")."""
    from chalicelib.i18n import long_date

    return long_date(locale, day) if day else None
