"""The one delivery path (`followups/delivery.py`), against an in-memory twin of the send ledger,
the people and their daily text slot. Texts (`send_text`): consent, quiet hours, the once-a-day
cap on non-essential texts, and a text sent once however often it is retried. Mail composed
elsewhere (`send_transactional`, the best-efforts request): the same ledger, read first, and the
same consent rule as every transactional email."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import pytest

from chalicelib.compliance.best_efforts import BEST_EFFORTS_KIND
from chalicelib.followups.delivery import DeliveryService
from chalicelib.followups.errors import SendRefused
from chalicelib.followups.model import SMS, Consent, MailRecord, OutgoingEmail, Person
from chalicelib.followups.ports import FollowupConfig
from chalicelib.followups.texts import TEXT_CONFIRM, TEXT_INVITE, TEXT_REPLY, OutgoingText
from chalicelib.giving.model import donor_id_for
from chalicelib.outbox.model import Deferred, OutboxMessage, PermanentFailure

UTC = timezone.utc
NOON_CHICAGO = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)  # 12:00 CDT


@dataclass
class MemoryTextLedger:
    """The parts of `FollowupStore` a delivery touches, kept in dicts."""

    mail: dict[str, MailRecord] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    slots: dict[str, tuple[str, str]] = field(default_factory=dict)  # person → (day, message)

    def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def mail_record(self, message_id: str) -> MailRecord | None:
        return self.mail.get(message_id)

    def begin_send(self, message_id: str, kind: str, person_id: str, now: datetime) -> bool:
        known = self.mail.get(message_id)
        if known is not None and known.state != "not_sent":
            return False
        self.mail[message_id] = MailRecord(message_id, "sending", (known.attempts if known else 0) + 1)
        return True

    def finish_send(self, message_id: str, provider_id: str, now: datetime) -> None:
        self.mail[message_id] = MailRecord(message_id, "sent", self.mail[message_id].attempts, provider_id)

    def abandon_send(self, message_id: str, error: str) -> None:
        self.mail[message_id] = MailRecord(message_id, "not_sent", self.mail[message_id].attempts)

    def claim_text_slot(self, person_id: str, day: str, message_id: str) -> bool:
        held = self.slots.get(person_id)
        if held is not None and held[0] == day and held[1] != message_id:
            return False
        self.slots[person_id] = (day, message_id)
        return True


class Texter:
    def __init__(self) -> None:
        self.sent: list[OutgoingText] = []

    def send(self, text: OutgoingText) -> str:
        self.sent.append(text)
        return f"sns-{len(self.sent)}"


class Mailer:
    def __init__(self, refuse: int = 0) -> None:
        self.sent: list[OutgoingEmail] = []
        self.refuse = refuse  # how many sends SES answers and refuses first

    def send(self, email: OutgoingEmail) -> str:
        if self.refuse:
            self.refuse -= 1
            raise SendRefused("throttled")
        self.sent.append(email)
        return f"ses-{len(self.sent)}"


def service(at: datetime, store: MemoryTextLedger, texter: Texter | None = None,
            mailer: Mailer | None = None) -> DeliveryService:
    none = cast(Any, None)
    return DeliveryService(cast(Any, store), cast(Any, mailer), none, none, none, FollowupConfig("https://x"),
                           clock=lambda: at, texter=texter)


def person(texts: bool = True) -> Person:
    consents = {SMS: Consent(texts, NOON_CHICAGO - timedelta(days=1), "donation_opt_in", "v")}
    return Person("p1", "p1@example.org", "Lee", zip="62701", state="IL", phone="+13125550142",
                  consents=consents)


def text(kind: str, n: int = 1) -> tuple[OutboxMessage, OutgoingText]:
    message = OutboxMessage(f"{kind}#{n}", kind, NOON_CHICAGO)
    return message, OutgoingText("+13125550142", "hello", message.message_id)


def test_a_text_goes_once_with_consent_and_never_without() -> None:
    store, texter = MemoryTextLedger(), Texter()
    message, body = text(TEXT_CONFIRM)
    sent = service(NOON_CHICAGO, store, texter).send_text(message, "p1", person(), body)
    again = service(NOON_CHICAGO, store, texter).send_text(message, "p1", person(), body)
    assert sent.result == again.result == "sns-1" and len(texter.sent) == 1
    assert store.mail[message.message_id].state == "sent"
    other, body = text(TEXT_CONFIRM, 2)
    assert service(NOON_CHICAGO, store, texter).send_text(other, "p1", person(texts=False), body).result \
        == "skipped: no texts consent"
    nobody = service(NOON_CHICAGO, store, texter).send_text(other, "p1", None, body)
    assert nobody.result.startswith("skipped")
    assert len(texter.sent) == 1 and other.message_id not in store.mail


def test_quiet_hours_defer_to_nine_local_and_answers_go_at_once() -> None:
    store, texter = MemoryTextLedger(), Texter()
    late = datetime(2026, 5, 5, 3, 30, tzinfo=UTC)  # 22:30 in Chicago
    message, body = text(TEXT_CONFIRM)
    with pytest.raises(Deferred) as waits:
        service(late, store, texter).send_text(message, "p1", person(), body)
    assert late + waits.value.after == datetime(2026, 5, 5, 14, 0, tzinfo=UTC)  # 09:00 CDT
    assert texter.sent == [] and store.mail == {}
    answer, body = text(TEXT_REPLY)  # a STOP's confirmation: no consent needed, no quiet hours
    assert service(late, store, texter).send_text(answer, "p1", None, body).result == "sns-1"


def test_one_non_essential_text_a_local_day_and_essential_ones_are_not_capped() -> None:
    store, texter = MemoryTextLedger(), Texter()
    first, body = text(TEXT_INVITE, 1)
    service(NOON_CHICAGO, store, texter).send_text(first, "p1", person(), body)
    second, body2 = text(TEXT_INVITE, 2)
    with pytest.raises(Deferred) as waits:
        service(NOON_CHICAGO, store, texter).send_text(second, "p1", person(), body2)
    assert NOON_CHICAGO + waits.value.after == datetime(2026, 5, 5, 14, 0, tzinfo=UTC)  # tomorrow 09:00
    essential, body3 = text(TEXT_CONFIRM, 3)
    service(NOON_CHICAGO, store, texter).send_text(essential, "p1", person(), body3)
    tomorrow = datetime(2026, 5, 5, 14, 5, tzinfo=UTC)
    service(tomorrow, store, texter).send_text(second, "p1", person(), body2)
    assert [t.message_id for t in texter.sent] == [first.message_id, essential.message_id, second.message_id]


# --- mail composed elsewhere: the best-efforts request ----------------------------------------------
ANA = "ana@example.org"


def best_efforts_email(n: int = 1) -> tuple[OutboxMessage, OutgoingEmail]:
    message = OutboxMessage(f"{BEST_EFFORTS_KIND}#d{n}", BEST_EFFORTS_KIND, NOON_CHICAGO,
                            {"donation_id": f"d{n}"})
    return message, OutgoingEmail(ANA, "One more detail", "<p>?</p>", "?", "https://x/u/t",
                                  message.message_id)


def known(**changes: Any) -> MemoryTextLedger:
    store = MemoryTextLedger()
    store.people[donor_id_for(ANA)] = replace(Person(donor_id_for(ANA), ANA, "Ana"), **changes)
    return store


def test_a_best_efforts_request_is_recorded_in_the_ledger_and_sent_once() -> None:
    store, mailer = MemoryTextLedger(), Mailer()  # nobody known yet: the thank-you may come later
    message, email = best_efforts_email()
    first = service(NOON_CHICAGO, store, mailer=mailer).send_transactional(message, "donor", email)
    again = service(NOON_CHICAGO, store, mailer=mailer).send_transactional(message, "donor", email)
    assert first.result == again.result == "ses-1" and mailer.sent == [email]
    assert store.mail[message.message_id] == MailRecord(message.message_id, "sent", 1, "ses-1")


def test_a_best_efforts_request_follows_the_transactional_consent_rule() -> None:
    mailer = Mailer()
    message, email = best_efforts_email()
    unsubscribed = known(unsubscribed_at=NOON_CHICAGO - timedelta(days=3))
    assert service(NOON_CHICAGO, unsubscribed, mailer=mailer).send_transactional(
        message, "donor", email).result == "ses-1"  # it is part of giving, not an invitation
    bounced = known(suppressed="bounce")
    other, email2 = best_efforts_email(2)
    with pytest.raises(PermanentFailure, match="suppressed"):
        service(NOON_CHICAGO, bounced, mailer=mailer).send_transactional(other, "donor", email2)
    assert mailer.sent == [email] and bounced.mail == {}


def test_a_request_already_sent_is_not_refused_when_its_address_bounces_later() -> None:
    store, mailer = known(), Mailer()
    message, email = best_efforts_email()
    service(NOON_CHICAGO, store, mailer=mailer).send_transactional(message, "donor", email)
    store.people[donor_id_for(ANA)] = replace(store.people[donor_id_for(ANA)], suppressed="bounce")
    # the outbox runs it again (its `delivered` mark was lost): the ledger answers first
    again = service(NOON_CHICAGO, store, mailer=mailer).send_transactional(message, "donor", email)
    assert again.result == "ses-1" and len(mailer.sent) == 1


def test_a_refused_request_is_marked_not_sent_and_the_outbox_retry_sends_it() -> None:
    store, mailer = MemoryTextLedger(), Mailer(refuse=1)
    message, email = best_efforts_email()
    with pytest.raises(SendRefused):
        service(NOON_CHICAGO, store, mailer=mailer).send_transactional(message, "donor", email)
    assert store.mail[message.message_id].state == "not_sent" and mailer.sent == []
    assert service(NOON_CHICAGO, store, mailer=mailer).send_transactional(
        message, "donor", email).result == "ses-1"
    assert store.mail[message.message_id].attempts == 2
