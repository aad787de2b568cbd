"""Texts: the outbox handlers that compose them and the replies people send back.

Every text is delivered by `DeliveryService.send_text` (followups/delivery.py), the one
delivery path of email too (the send ledger, the consent check, quiet hours and the daily cap,
the outbox's retries); this module only decides what a text says and to whom. Which messages
are texts and the rules of each: `followups/texts.py` (`RULES`). Replies arrive as SNS
notifications (`/webhooks/sms`): STOP and its synonyms withdraw the texts consent of everyone
with that number at once, HELP is answered, START gives the consent back; each notification's
effects and its answer are written in one transaction with a marker of its SNS MessageId, so a
redelivery changes nothing.

Plain Python: the follow-ups' delivery service (its store, tokens, links and clock) is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import logs, tokens
from chalicelib.followups import texts
from chalicelib.followups.model import SMS, Action, Consent, Invitation, Person
from chalicelib.i18n import MONTHS, translations
from chalicelib.outbox.model import Delivered, Handler, OutboxMessage, PermanentFailure

if TYPE_CHECKING:
    from chalicelib.followups.delivery import DeliveryService


class TextService:
    def __init__(self, followups: DeliveryService, sender_name: str,
                 committee_name: Callable[[str], str | None] | None = None) -> None:
        self.followups = followups
        self.store = followups.store
        # Texts name the committee of the page the person came from, else the sender's name.
        self.sender_name = sender_name
        self.committee_name = committee_name

    def handlers(self) -> dict[str, Handler]:
        return {texts.TEXT_CONFIRM: self.deliver_confirm, texts.TEXT_SOON: self.deliver_soon,
                texts.TEXT_INVITE: self.deliver_invite, texts.TEXT_REPLY: self.deliver_reply}

    # --- what each text says ----------------------------------------------------------------
    def deliver_confirm(self, message: OutboxMessage) -> Delivered:
        """The day before a dated action, to a `yes`: still coming? (the invitation page's link
        confirms or cancels); to a `confirmed`: see you tomorrow."""
        found = self._attendee(message)
        if isinstance(found, Delivered):
            return found
        invitation, action, person = found
        _ = translations(person.locale).gettext  # the language they gave in
        values = {"name": self._name(person), "title": action.title, "when": self._when(action, person),
                  "link": self._rsvp_link(invitation.invitation_id, person.locale)}
        body = (_("{name}: {title} is tomorrow, {when}. Still coming? Confirm or cancel: {link}")
                if invitation.status == "yes" else
                _("{name}: see you tomorrow at {title}, {when}. Can't make it? {link}"))
        return self._text(message, person, body.format(**values) + " " + _("Reply STOP to stop texts."))

    def deliver_soon(self, message: OutboxMessage) -> Delivered:
        """Thirty minutes before a dated action starts, to everyone holding a seat."""
        found = self._attendee(message)
        if isinstance(found, Delivered):
            return found
        invitation, action, person = found
        _ = translations(person.locale).gettext
        values = {"name": self._name(person), "title": action.title, "when": self._when(action, person),
                  "link": self._rsvp_link(invitation.invitation_id, person.locale)}
        body = (_("{name}: {title} starts {when} at {city}. Details: {link}").format(
                    city=action.location.city, **values) if action.location and not action.virtual
                else _("{name}: {title} starts {when}. Details: {link}").format(**values))
        return self._text(message, person, body + " " + _("Reply STOP to stop texts."))

    def deliver_invite(self, message: OutboxMessage) -> Delivered:
        """The best invitation a thank-you or welcome email carried (`after` names it), as a
        text: chosen by the email, so both invite to the same action. Waits (retried) until
        the email has chosen."""
        if (done := self.followups._already_sent(message)) is not None:
            return done
        person = self.followups._person(message)
        if not person.textable:
            return Delivered("skipped: no texts consent")
        after = str(message.payload.get("after", ""))
        chosen = [i for i in self.store.invitations_of_person(person.person_id) if i.message_id == after]
        if not chosen:
            if self.store.mail_record(after) is None:
                raise LookupError("the email's invitations are not chosen yet")
            return Delivered("skipped: nothing to invite to")
        now = self.followups.clock()
        open_ = [(i, a) for i, a in ((i, self.store.get_action(i.action_id)) for i in chosen)
                 if a is not None and a.is_upcoming(now) and a.has_room() and not i.answered]
        if not open_:
            return Delivered("skipped: no open invitation left")
        invitation, action = open_[0]
        _ = translations(person.locale).gettext
        body = _("{name}: join us at {title}, {when}. RSVP: {link}").format(
            name=self._name(person), title=action.title, when=self._when(action, person),
            link=self._rsvp_link(invitation.invitation_id, person.locale))
        return self._text(message, person, body + " " + _("Reply STOP to stop texts."))

    def deliver_reply(self, message: OutboxMessage) -> Delivered:
        """The answer to someone's STOP, HELP or START (to the number it came from)."""
        p = message.payload
        name = str(p.get("name") or self.sender_name)
        body = {texts.STOP: texts.stopped_text, texts.HELP: texts.help_text,
                texts.START: texts.started_text}[str(p.get("reply"))](name)
        phone = str(p.get("phone", ""))
        if not phone:
            raise PermanentFailure("no number to answer")
        text = texts.OutgoingText(phone, body, message.message_id, essential=True)
        return self.followups.send_text(message, str(p.get("person_id") or "unknown"), None, text)

    def _attendee(self, message: OutboxMessage) -> tuple[Invitation, Action, Person] | Delivered:
        done = self.followups._already_sent(message)
        if done is not None:
            return done
        invitation = self.store.get_invitation(str(message.payload.get("invitation_id")))
        if invitation is None or invitation.status not in ("yes", "confirmed"):
            return Delivered("skipped: no longer attending")
        action = self.store.get_action(invitation.action_id)
        if action is None or not action.is_upcoming(self.followups.clock()):
            return Delivered("skipped: action closed")
        person = self.store.get_person(invitation.person_id)
        if person is None:
            raise PermanentFailure("person not found")
        return invitation, action, person

    def _text(self, message: OutboxMessage, person: Person, body: str) -> Delivered:
        text = texts.OutgoingText(person.phone or "", body, message.message_id,
                                  essential=texts.rule(message.kind).essential)
        return self.followups.send_text(message, person.person_id, person, text)

    def _rsvp_link(self, invitation_id: str, locale: str = "en") -> str:
        """The invitation page, in the person's language."""
        return self.followups.link("/i/" + self.followups.tokens.issue(tokens.RSVP, invitation_id)
                                   + ("" if locale == "en" else f"?lang={locale}"))

    def _name(self, person: Person | None) -> str:
        """The committee of the page the person came from (else the sender's name)."""
        if person is not None and person.share_page and self.committee_name is not None:
            page = self.followups.pages.get(person.share_page)
            name = self.committee_name(page.committee_id) if page else None
            if name:
                return name
        return self.sender_name

    @staticmethod
    def _when(action: Action, person: Person) -> str:
        """The action's start in the person's own time zone ("Sat May 9, 6:00 PM CDT"; in Spanish
        "9 de mayo, 18:00 CDT")."""
        _ = translations(person.locale).gettext
        if action.starts_at is None:
            return _("soon")
        local = action.starts_at.astimezone(texts.zones_for(person.state, person.zip)[0])
        if person.locale == "en":
            return f"{local:%a %b} {local.day}, {local:%I:%M %p %Z}".replace(" 0", " ")
        return _("{month} {day}, {hour12}:{minute} {ampm} {zone}").format(
            month=_(MONTHS[local.month - 1]), day=local.day, hour12=local.hour % 12 or 12,
            hour24=f"{local.hour:02d}", minute=f"{local.minute:02d}",
            ampm="AM" if local.hour < 12 else "PM", zone=local.strftime("%Z"))

    # --- replies ------------------------------------------------------------------------------
    def record_inbound(self, notification: dict[str, Any]) -> str:
        """Act on one verified SNS notification of an inbound text (its `Message` as AWS's
        two-way SMS sends it: `originationNumber`, `messageBody`); what it did."""
        try:
            inbound = json.loads(str(notification.get("Message")))
            phone = texts.normalize_phone(str(inbound["originationNumber"]))
            body = str(inbound.get("messageBody") or "")
        except (ValueError, TypeError, KeyError):
            return "ignored"
        meaning = texts.keyword(body)
        if meaning is None:
            return "ignored"  # a conversation is for people, not for this webhook
        now = self.followups.clock()
        people = [p for p in (self.store.get_person(i) for i in self.store.people_by_phone(phone))
                  if p is not None]
        if not people and meaning != texts.HELP:
            return "unknown_number"  # nobody here ever agreed to texts from this number
        change, answer = self._decide(meaning, people, now)
        answer = answer and bool(people or meaning == texts.HELP)
        changed = [p.person_id for p in people if change is not None
                   and (p.consents.get(SMS) is None or p.consents[SMS].given != change.given)]
        if meaning != texts.HELP and not changed:
            answer = False  # already so: STOP is confirmed once, START too
        sns_id = str(notification.get("MessageId"))
        reply = OutboxMessage(f"{texts.TEXT_REPLY}#{sns_id}", texts.TEXT_REPLY, now, {
            "phone": phone, "reply": meaning, "name": self._name(people[0] if people else None),
            "person_id": people[0].person_id if people else None}) if answer else None
        if not self.store.record_text_reply(f"sns:{sns_id}", now, changed, change, reply):
            return "duplicate"
        logs.info("text reply", meaning=meaning, people=len(changed), answered=reply is not None)
        return {texts.STOP: "stopped", texts.START: "started", texts.HELP: "help"}[meaning]

    @staticmethod
    def _decide(meaning: str, people: list[Person], now: datetime) -> tuple[Consent | None, bool]:
        """The texts consent a reply sets (None: unchanged) and whether it is answered."""
        if meaning == texts.STOP:
            return Consent(False, now, "text_reply"), True
        if meaning == texts.START:
            # Only a number that once agreed can opt back in by text (`people` are those who
            # did); the consent is given under the current disclosure, which the answer repeats.
            return Consent(True, now, "text_reply", texts.DISCLOSURE_VERSION), bool(people)
        return None, True
