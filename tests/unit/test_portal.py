"""The portal's domain against in-memory twins: asking for a link reveals and queues nothing for
an unknown address and one email per gap for a donor; the link works once and expires; a donor
sees, resends and exports only their own giving; what they may still give per open election."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.compliance.committees import CommitteeDefaults, default_committee
from chalicelib.compliance.elections import Election
from chalicelib.errors import NotFound
from chalicelib.followups.model import SHARING, SMS, Consent, Person
from chalicelib.giving.model import Donation, donor_id_for
from chalicelib.giving.velocity import RateLimited, SignupLimits
from chalicelib.outbox.model import Delivered, OutboxMessage
from chalicelib.paging import Slice
from chalicelib.portal.service import PORTAL_MESSAGE, PortalRules, PortalService
from chalicelib.sessions.model import SessionKind
from chalicelib.sessions.service import SessionService
from chalicelib.tokens import PORTAL, LinkUsed, TokenExpired, Tokens
from tests.giving_twins import GivingWorld, MemoryCommittees, MemorySessions, donation_request, paid

SECRET = "unit-test-secret-0123456789"


class Records:
    """The donations twin as the portal reads it (newest first, a page at a time)."""

    def __init__(self, world: GivingWorld) -> None:
        self.store = world.store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def donations_page(self, donor_id: str, limit: int, after: str | None) -> Slice[Donation]:
        found = sorted(self.store.donations_of(donor_id), key=lambda d: d.created_at, reverse=True)
        return Slice(found[:limit], None)

    def exposure(self, donor_id: str, scope: str) -> int:
        return self.store.aggregate(donor_id, scope).exposure_cents


class Portal:
    """The portal's own store: donor records by address, the link slot, queued messages."""

    def __init__(self, world: GivingWorld) -> None:
        self.world = world
        self.slots: dict[str, datetime] = {}
        self.queued: list[OutboxMessage] = []

    def person(self, email_donor_id: str) -> str | None:
        donor_id = self.world.store.identities.get(f"email#{email_donor_id}", email_donor_id)
        return donor_id if donor_id in self.world.store.donors else None

    def request_link(self, donor_id: str, now: datetime, gap: timedelta, message: OutboxMessage) -> bool:
        last = self.slots.get(donor_id)
        if last is not None and last > now - gap:
            return False
        self.slots[donor_id] = now
        self.queued.append(message)
        return True

    def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        if all(m.message_id != message.message_id for m in self.queued):
            self.queued.append(message)


class People:
    def __init__(self) -> None:
        self.people: dict[str, Person] = {}

    def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def unsubscribe(self, person_id: str, now: datetime, source: str) -> None:
        raise AssertionError("not used here")

    resubscribe = unsubscribe

    def stop_texts(self, person_id: str, now: datetime, source: str) -> None:
        person = self.people[person_id]
        withdrawn = Consent(False, now, source)
        self.people[person_id] = replace(person, consents={**person.consents, SMS: withdrawn})

    def set_sharing(self, person_id: str, given: bool, now: datetime, source: str) -> None:
        if person_id not in self.people:
            raise NotFound("person_not_found", "Nobody with this address.")
        person = self.people[person_id]
        answer = Consent(given, now, source)
        self.people[person_id] = replace(person, consents={**person.consents, SHARING: answer})


class Counters:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    def counts(self, keys: list[str]) -> dict[str, int]:
        return {k: self.hits[k] for k in keys if k in self.hits}

    def add(self, keys: list[str], expires: datetime) -> None:
        for k in keys:
            self.hits[k] = self.hits.get(k, 0) + 1


class Sent:
    def __init__(self) -> None:
        self.emails: list[Any] = []

    def __call__(self, message: OutboxMessage, recipient: str, email: Any) -> Delivered:
        self.emails.append((recipient, email))
        return Delivered("ses-id")


@pytest.fixture
def world() -> GivingWorld:
    return GivingWorld()


def portal_of(world: GivingWorld, sent: Sent | None = None,
              people: People | None = None) -> tuple[PortalService, Portal]:
    store = Portal(world)
    elections = (Election("P2026", date(2026, 11, 1)), Election("G2026", date(2026, 11, 3)))
    committee = replace(default_committee("C00000001", CommitteeDefaults()), time_zone="UTC",
                        previous_general_date=date(2024, 11, 5), elections=elections)
    tokens = Tokens(SECRET, clock=world.clock)
    kind = SessionKind("portal", "gs_portal", "/me", timedelta(minutes=30))
    rules = PortalRules(timedelta(minutes=2), SignupLimits(3600, 4, 10))
    service = PortalService(store, Records(world), Records(world), MemoryCommittees(committee),
                            lambda: tokens, SessionService(MemorySessions(), kind, world.clock),
                            "https://give.example", lambda: sent or Sent(),
                            (lambda: people) if people else People,
                            counters=Counters(), rules=rules, clock=world.clock)
    return service, store


def gift(world: GivingWorld, email: str, cents: int, last: str = "Rivera") -> Donation:
    request = donation_request(cents, email, f"key-{uuid.uuid4().hex}", last=last)
    donation = world.giving.start_donation("spring", request, "198.51.100.7").donation
    world.giving.apply_event(paid(donation))
    return donation


def test_an_unknown_address_queues_nothing_and_a_donor_gets_one_link_per_gap(world) -> None:
    service, store = portal_of(world)
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    gift(world, email, 2_700)
    assert service.request_link("nobody@example.org", "203.0.113.9") is False and store.queued == []
    assert service.request_link(email, "203.0.113.9") is True
    assert service.request_link(email.upper(), "203.0.113.9") is False  # within the gap
    world.clock.advance(minutes=3)
    assert service.request_link(email, "203.0.113.9") is True
    assert [m.kind for m in store.queued] == [PORTAL_MESSAGE] * 2
    assert email not in str(store.queued[0].payload)  # no address in the outbox
    with pytest.raises(RateLimited):  # the fifth ask this hour from one IP, known or not
        service.request_link("someone@example.org", "203.0.113.9")


def test_the_emailed_link_works_once_and_not_after_thirty_minutes(world) -> None:
    sent = Sent()
    service, store = portal_of(world, sent)
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    donor_id = gift(world, email, 2_700).donor_id
    service.request_link(email, None)
    service.deliver_link(store.queued[0])
    ((recipient, message),) = sent.emails
    assert recipient == donor_id and message.to == email and "/me?t=" in message.text
    token = message.text.split("/me?t=", 1)[1].split()[0]
    assert service.link_holder(token).donor_id == donor_id  # showing it uses nothing up
    started = service.with_link(token)
    assert started.session.subject == donor_id and started.session.kind == "portal"
    with pytest.raises(LinkUsed):
        service.with_link(token)
    assert service.current(started.session_id) is not None
    world.clock.advance(minutes=31)
    assert service.current(started.session_id) is None  # the session is 30 minutes too
    late = Tokens(SECRET, clock=world.clock).issue(PORTAL, donor_id,
                                                   now=world.clock() - timedelta(minutes=31))
    with pytest.raises(TokenExpired):
        service.with_link(late)
    assert service.deliver_link(store.queued[0]).result.startswith("skipped")


def test_a_donor_sees_and_resends_only_their_own_and_what_they_may_still_give(world) -> None:
    service, store = portal_of(world)
    mine = gift(world, f"a.{uuid.uuid4().hex[:8]}@example.org", 50_000)
    theirs = gift(world, f"b.{uuid.uuid4().hex[:8]}@example.org", 7_700, last="Okafor")
    view = service.view(mine.donor_id)
    assert [d.donation_id for d in view.contributions] == [mine.donation_id]
    remaining = {(a.election, a.remaining_cents) for a in view.allowances}
    assert remaining == {("P2026", 300_000), ("G2026", 350_000)}
    with pytest.raises(NotFound):
        service.resend_receipt(mine.donor_id, theirs.donation_id)
    assert store.queued == []
    service.resend_receipt(mine.donor_id, mine.donation_id)
    service.resend_receipt(mine.donor_id, mine.donation_id)  # twice in a minute: queued once
    assert [(m.kind, m.payload) for m in store.queued] == [
        ("thanks", {"donation_id": mine.donation_id})]
    exported = service.export(mine.donor_id)
    assert [c["donation_id"] for c in exported["contributions"]] == [mine.donation_id]
    assert theirs.donor.email not in str(exported)
    assert exported["consents"] == {"invitations": {"given": False}, "sms": {"given": False},
                                    "sharing": {"given": False}}
    assert donor_id_for(mine.donor.email) == mine.donor_id


def test_the_donor_stops_texts_and_only_a_given_consent_is_withdrawn(world) -> None:
    people = People()
    service, _ = portal_of(world, people=people)
    texting = gift(world, f"t.{uuid.uuid4().hex[:8]}@example.org", 2_700)
    quiet = gift(world, f"q.{uuid.uuid4().hex[:8]}@example.org", 2_700, last="Okafor")
    agreed = Consent(True, world.clock(), "donation", "sms-2026-12-01")
    for donation, consents in ((texting, {SMS: agreed}), (quiet, {})):
        people.people[donation.donor_id] = Person(donation.donor_id, donation.donor.email,
                                                  phone="+13125550142", consents=consents)
    assert service.view(texting.donor_id).consents[SMS] == (True, agreed)
    service.stop_texts(texting.donor_id)
    stopped = people.people[texting.donor_id]
    assert not stopped.textable and stopped.consents[SMS].source == "portal"
    service.stop_texts(texting.donor_id)  # pressed again: the first withdrawal's time stays
    assert people.people[texting.donor_id] == stopped
    service.stop_texts(quiet.donor_id)  # never agreed: nothing recorded
    assert people.people[quiet.donor_id].consents == {}
    with pytest.raises(NotFound):
        service.stop_texts("dnr_nobody")


def test_sharing_with_allied_campaigns_is_off_until_the_donor_turns_it_on(world) -> None:
    people = People()
    service, _ = portal_of(world, people=people)
    donation = gift(world, f"s.{uuid.uuid4().hex[:8]}@example.org", 2_700)
    people.people[donation.donor_id] = Person(donation.donor_id, donation.donor.email)
    assert service.view(donation.donor_id).consents[SHARING] == (False, None)
    service.set_sharing(donation.donor_id, False)  # off already: nothing recorded
    assert people.people[donation.donor_id].consents == {}
    service.set_sharing(donation.donor_id, True)
    given, answer = service.view(donation.donor_id).consents[SHARING]
    assert given and answer is not None and answer.source == "portal"
    assert service.export(donation.donor_id)["consents"]["sharing"]["given"] is True
    service.set_sharing(donation.donor_id, True)  # pressed again: the first answer's time stays
    assert service.view(donation.donor_id).consents[SHARING] == (True, answer)
    service.set_sharing(donation.donor_id, False)
    assert service.view(donation.donor_id).consents[SHARING][0] is False


def test_the_link_goes_to_the_address_the_record_began_with_not_the_latest_gifts() -> None:
    world = GivingWorld()
    sent = Sent()
    service, store = portal_of(world, sent)
    own, typed = (f"{n}.{uuid.uuid4().hex[:8]}@example.org" for n in ("own", "typed"))
    first = gift(world, own, 2_700)
    later = gift(world, typed, 100)  # the same name and ZIP: the same record
    assert later.donor_id == first.donor_id
    assert world.giving.store.express_donor(first.donor_id).snapshot.email == typed  # type: ignore[attr-defined]
    assert service.request_link(typed, None) is True
    service.deliver_link(store.queued[0])
    ((recipient, message),) = sent.emails
    assert recipient == first.donor_id and message.to == own
