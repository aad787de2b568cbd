"""The donor portal (`/me`): a donor signs in by a link emailed to the address on their donor
record (purpose `portal` of chalicelib/tokens.py: 30 minutes, single use, completed by a POST)
and sees their own giving in a short server-side session of its own kind (`portal`).

Asking for a link answers the same whether or not the address gave: the answer is queued only
for a donor record, at most one per `link_gap` per donor (the donor's slot and the outbox message
are one transaction), and at most `links_per_ip` an hour from one address (429 past it: that
says nothing about who gave). No link is ever stored: the token is made when the outbox handler
composes the email, and expires 30 minutes after the request however late it is delivered.

What the portal shows is read for the session's donor id only (never from anything the browser
sends), so one donor's session cannot read another's record.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from chalicelib.clock import utcnow
from chalicelib.compliance.committees import Committee
from chalicelib.compliance.limits import remaining_cents
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.followups.model import (
    CONSENT_PURPOSES,
    INVITATIONS,
    SHARING,
    SMS,
    Consent,
    OutgoingEmail,
    Person,
)
from chalicelib.giving.model import Donation, ExpressDonor, RecurringPlan, donor_id_for
from chalicelib.giving.monthly import MonthlyControls, card_groups
from chalicelib.giving.velocity import SignupLimits, check_signup, signup_expiry, signup_keys
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure
from chalicelib.paging import Slice
from chalicelib.sessions.model import Session
from chalicelib.sessions.service import SessionService, Started
from chalicelib.staff.signin import LinkTokens, SendOnce
from chalicelib.tokens import CANCEL_PLAN, CARD, PORTAL, PURPOSES, Claims

PORTAL_MESSAGE = "portal_link"  # the outbox kind of a sign-in email
RESEND_KIND = "thanks"  # a receipt sent again is the thank-you receipt (followups.planning.THANKS)
LINK_TTL = PURPOSES[PORTAL].lifetime
COUNTED = "portal"  # what the per-IP counters count
MAX_CONTRIBUTIONS = 200  # the portal lists a donor's newest contributions, up to this many


class PortalStore(Protocol):
    def person(self, email_donor_id: str) -> str | None:
        """The donor record an address belongs to (its own, or the person it is linked to)."""
        ...

    def request_link(self, donor_id: str, now: datetime, gap: timedelta, message: OutboxMessage) -> bool:
        """Take the donor's link slot (one per `gap`) and queue `message` in one transaction;
        False (nothing written) when the slot is taken or there is no such donor."""
        ...

    def enqueue(self, message: OutboxMessage, now: datetime) -> None: ...


class DonorRecords(Protocol):
    def express_donor(self, donor_id: str) -> ExpressDonor | None: ...
    def donations_page(self, donor_id: str, limit: int, after: str | None) -> Slice[Donation]: ...
    def plan(self, subscription_id: str) -> RecurringPlan | None: ...
    def get(self, donation_id: str) -> Donation | None: ...
    def revoke_express(self, donor_id: str, when: datetime) -> bool: ...


class Exposures(Protocol):
    def exposure(self, donor_id: str, scope: str) -> int: ...


class CommitteeSource(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class People(Protocol):
    """The donor's person record (consents) in the follow-ups' store."""

    def get_person(self, person_id: str) -> Person | None: ...
    def unsubscribe(self, person_id: str, now: datetime, source: str) -> None: ...
    def resubscribe(self, person_id: str, now: datetime, source: str) -> None: ...
    def stop_texts(self, person_id: str, now: datetime, source: str) -> None: ...
    def set_sharing(self, person_id: str, given: bool, now: datetime, source: str) -> None: ...


class Counters(Protocol):
    def counts(self, keys: list[str]) -> dict[str, int]: ...
    def add(self, keys: list[str], expires: datetime) -> None: ...


@dataclass(frozen=True)
class Allowance:
    """What the donor may still give one committee for one open election (or a PAC's year)."""

    committee_id: str
    committee_name: str
    election: str  # an election's code, or `Y2026` for a PAC's calendar year
    election_date: str | None
    remaining_cents: int


@dataclass(frozen=True)
class PortalView:
    donor_id: str
    donor: ExpressDonor
    contributions: list[Donation]
    allowances: list[Allowance]
    plans: list[RecurringPlan]
    # Express links: whether a saved card can be charged by one, and when they were last revoked.
    saved_card: bool
    express_revoked_at: datetime | None
    # Per purpose (followups.model.CONSENT_PURPOSES): whether it is given now, and the latest
    # answer (when and how), None when they never answered.
    consents: dict[str, tuple[bool, Consent | None]] = field(default_factory=dict)
    # Each active monthly gift's cancel page (`/c/{token}`, the receipts' link: a GET shows the
    # gift and a button, the POST cancels at Stripe and the donor is emailed that it stopped).
    cancel_paths: dict[str, str] = field(default_factory=dict)
    # The running gifts by the Stripe customer they are billed to, newest first: a new card
    # entered once reaches one group (`monthly.card_groups`).
    card_groups: list[list[RecurringPlan]] = field(default_factory=list)


@dataclass(frozen=True)
class PortalRules:
    link_gap: timedelta = timedelta(minutes=2)
    links: SignupLimits = field(default_factory=lambda: SignupLimits(3600, 10, 50))



class PortalService:
    def __init__(self, store: PortalStore, records: DonorRecords, exposures: Exposures,
                 committees: CommitteeSource, tokens: Callable[[], LinkTokens], sessions: SessionService,
                 base_url: str, send: Callable[[], SendOnce], people: Callable[[], People],
                 counters: Counters | None = None,
                 rules: PortalRules | None = None, clock: Callable[[], datetime] = utcnow,
                 monthly: Callable[[], MonthlyControls] | None = None) -> None:
        self.store = store
        self.records = records
        self.exposures = exposures
        self.committees = committees
        self._tokens = tokens
        self.sessions = sessions
        self.base_url = base_url.rstrip("/")
        self._send = send
        self._people = people
        self.counters = counters
        self.rules = rules or PortalRules()
        self.clock = clock
        self._monthly_controls = monthly

    def _monthly(self) -> MonthlyControls:
        if self._monthly_controls is None:
            raise NotFound("plan_not_found", "Monthly gifts cannot be changed here.")
        return self._monthly_controls()

    # --- asking for a link ----------------------------------------------------------------
    def request_link(self, email: str, client_ip: str | None) -> bool:
        """Queue a sign-in email when `email` belongs to a donor record and none was queued for
        it within the gap. Callers answer the same either way (202)."""
        from email_validator import EmailNotValidError, validate_email

        address = email.strip()
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError:
            raise InvalidInput("invalid_request", "Enter the email address you gave with.",
                               fields={"email": "an email address"}) from None
        now = self.clock()
        if self.counters is not None and client_ip:
            limits = self.rules.links
            keys = signup_keys(client_ip, now, limits, COUNTED)
            check_signup(self.counters.counts(keys), client_ip, now, limits, COUNTED)
            self.counters.add(keys[::2], signup_expiry(now, limits))
        donor_id = self.store.person(donor_id_for(address))
        if donor_id is None:
            return False
        message = OutboxMessage(f"{PORTAL_MESSAGE}#{secrets.token_hex(16)}", PORTAL_MESSAGE, now, {
            "donor_id": donor_id, "requested_at": now.isoformat()})
        return self.store.request_link(donor_id, now, self.rules.link_gap, message)

    def deliver_link(self, message: OutboxMessage) -> Delivered:
        """The outbox handler: compose the email to the address on the donor record and send it
        once through the one delivery path."""
        p = message.payload
        requested = datetime.fromisoformat(str(p["requested_at"]))
        if self.clock() >= requested + LINK_TTL:
            return Delivered("skipped: the link would have expired")
        donor_id = str(p["donor_id"])
        donor = self.records.express_donor(donor_id)
        if donor is None:
            raise PermanentFailure("no donor record")
        address = self._own_address(donor)
        if address is None:
            raise PermanentFailure("the record's own address is unknown")
        token = self._tokens().issue(PORTAL, donor_id, now=requested)
        email = _compose(donor, address, f"{self.base_url}/me?t={token}", message.message_id)
        return self._send()(message, donor_id, email)

    def _own_address(self, donor: ExpressDonor) -> str | None:
        """The address the donor record began with (its id is that address's), never merely
        the latest gift's: a gift from another address joins the record by name and ZIP, which
        anyone can type, so its address must not receive the record's link. The snapshot's when
        it is the record's own, else the first of the donor's gifts made from that address."""
        if donor_id_for(donor.snapshot.email) == donor.donor_id:
            return donor.snapshot.email
        after: str | None = None
        while True:
            page = self.records.donations_page(donor.donor_id, 100, after)
            for d in page.items:
                if donor_id_for(d.donor.email) == donor.donor_id:
                    return d.donor.email
            if page.after is None:
                return None
            after = page.after

    # --- signing in -----------------------------------------------------------------------
    def link_holder(self, token: str) -> ExpressDonor:
        """Whose genuine, unexpired link this is (a GET only shows it: nothing is used up)."""
        return self._holder(self._claims(token))

    def with_link(self, token: str) -> Started:
        """A portal session for the link's donor; the link is used up (then 410 `link_used`)."""
        claims = self._claims(token)
        donor = self._holder(claims)
        return self.sessions.start_with_link(claims, donor.donor_id, "donor", donor.snapshot.first_name,
                                             "This link to your giving was used already; ask for a new one.")

    def _claims(self, token: str) -> Claims:
        """A sign-in link's claims: the portal's own (`portal`), or a failed renewal's email's
        (`card`, which opens the portal to replace the card)."""
        tokens_ = self._tokens()
        try:
            return tokens_.claims(token, PORTAL)
        except InvalidInput:
            return tokens_.claims(token, CARD)

    def _holder(self, claims: Claims) -> ExpressDonor:
        donor = self.records.express_donor(claims.subject)
        if donor is None:
            raise NotFound("donor_not_found", "There is no giving record for this link.")
        return donor

    def current(self, session_id: str | None) -> Session | None:
        return self.sessions.read(session_id)

    def sign_out(self, session: Session) -> None:
        self.sessions.end(session)

    # --- what the portal shows ------------------------------------------------------------
    def view(self, donor_id: str) -> PortalView:
        """Everything the portal shows for one donor record (the session's, never the browser's)."""
        donor = self.records.express_donor(donor_id)
        if donor is None:
            raise NotFound("donor_not_found", "There is no giving record for this session.")
        contributions = self.records.donations_page(donor_id, MAX_CONTRIBUTIONS, None).items
        plans = self._plans(donor_id, contributions)
        return PortalView(donor_id, donor, contributions, self._allowances(donor_id, contributions),
                          plans, saved_card=donor.customer_id is not None,
                          express_revoked_at=donor.revoked_at, consents=self._consents(donor),
                          card_groups=[group for _, group in card_groups(donor_id, plans)],
                          cancel_paths={p.subscription_id: "/c/" + self._tokens().issue(
                              CANCEL_PLAN, p.subscription_id) for p in plans if p.status != "canceled"})

    def plans(self, donor_id: str) -> list[RecurringPlan]:
        """The donor's monthly gifts: the plans of their contributions' subscriptions."""
        return self._plans(donor_id, self.records.donations_page(donor_id, MAX_CONTRIBUTIONS, None).items)

    def card_setup(self, donor_id: str, subscription_id: str | None = None
                   ) -> tuple[tuple[str, str], int, int] | None:
        """A SetupIntent (id, client secret) for a new card on the donor's running monthly gifts
        billed to one Stripe customer (that of `subscription_id` if it is one of theirs, else the
        newest gift's), how many gifts it will pay and how many are running; None when none is."""
        plans = self.plans(donor_id)
        groups = card_groups(donor_id, plans)
        if not groups:
            return None
        customer, group = next(((c, g) for c, g in groups
                                if any(p.subscription_id == subscription_id for p in g)), groups[0])
        setup = self._monthly().card_setup(donor_id, plans, customer)
        return (setup, len(group), sum(len(g) for _, g in groups)) if setup else None

    def replace_card(self, donor_id: str, setup_intent_id: str) -> int:
        """Put the confirmed SetupIntent's card on every running monthly gift of the donor."""
        if not setup_intent_id.startswith("seti_"):
            raise InvalidInput("card_not_saved", "The new card was not saved; enter it again.")
        return self._monthly().replace_card(donor_id, setup_intent_id, self.plans(donor_id))

    def _plans(self, donor_id: str, contributions: list[Donation]) -> list[RecurringPlan]:
        return [p for p in (self.records.plan(s) for s in
                            dict.fromkeys(d.subscription_id for d in contributions if d.subscription_id))
                if p is not None and p.donor_id == donor_id]

    def _consents(self, donor: ExpressDonor) -> dict[str, tuple[bool, Consent | None]]:
        person = self._people().get_person(donor_id_for(donor.snapshot.email))
        if person is None:
            return {p: (False, None) for p in CONSENT_PURPOSES}
        found: dict[str, tuple[bool, Consent | None]] = {
            p: (c.given, c) for p, c in person.consents.items() if p in CONSENT_PURPOSES}
        found[INVITATIONS] = (person.invitable, person.consents.get(INVITATIONS))
        return {p: found.get(p, (False, None)) for p in CONSENT_PURPOSES}

    def set_invitations(self, donor_id: str, given: bool) -> None:
        """Give or withdraw the invitations consent from the portal (source `portal`)."""
        person_id = self._person_id(donor_id)
        people = self._people()
        (people.resubscribe if given else people.unsubscribe)(person_id, self.clock(), "portal")

    def stop_texts(self, donor_id: str) -> None:
        """Withdraw the texts consent from the portal (source `portal`), as STOP does; nothing
        when it is not given. Texts are turned back on only from the phone (START) or a gift's
        texts box, where the number and the disclosure are: a session opened by email proves
        neither."""
        person_id = self._person_id(donor_id)
        people = self._people()
        person = people.get_person(person_id)
        if person is not None and (texts := person.consents.get(SMS)) is not None and texts.given:
            people.stop_texts(person_id, self.clock(), "portal")

    def set_sharing(self, donor_id: str, given: bool) -> None:
        """Give or withdraw the consent to share the donor's contact with allied campaigns
        (source `portal`); nothing when the answer is already so, so its time stays."""
        person_id = self._person_id(donor_id)
        people = self._people()
        person = people.get_person(person_id)
        current = person.consents.get(SHARING) if person is not None else None
        if person is None or (current is not None and current.given) != given:
            people.set_sharing(person_id, given, self.clock(), "portal")  # no person: NotFound

    def _person_id(self, donor_id: str) -> str:
        donor = self.records.express_donor(donor_id)
        if donor is None:
            raise NotFound("donor_not_found", "There is no giving record for this session.")
        return donor_id_for(donor.snapshot.email)

    def _allowances(self, donor_id: str, contributions: list[Donation]) -> list[Allowance]:
        now = self.clock()
        out: list[Allowance] = []
        for committee_id in dict.fromkeys(d.committee_id for d in contributions):
            committee = self.committees.get(committee_id)
            if committee.type == "pac":
                scope = committee.limit_scope("", now)
                periods: list[tuple[str, str | None, str]] = [(scope.rsplit("#", 1)[1], None, scope)]
            else:
                periods = [(e.code, e.date.isoformat(), committee.limit_scope(e.code, now))
                           for e in committee.open_elections(committee.local_date(now))]
            for code, day, scope in periods:
                out.append(Allowance(committee_id, committee.name, code, day,
                                     remaining_cents(committee.limit_cents,
                                                     self.exposures.exposure(donor_id, scope))))
        return out

    # --- what the donor may do ------------------------------------------------------------
    def resend_receipt(self, donor_id: str, donation_id: str) -> None:
        """Queue the receipt of one of the donor's own succeeded contributions again (the same
        thank-you, through the outbox and the one delivery path). Asked twice in one minute, it
        is queued once (the message id names the minute)."""
        donation = self.records.get(donation_id)
        if donation is None or donation.donor_id != donor_id or donation.status != "succeeded":
            raise NotFound("donation_not_found", "There is no such contribution of yours.")
        now = self.clock()
        self.store.enqueue(OutboxMessage(f"{RESEND_KIND}#{donation_id}#resent#{now:%Y%m%d%H%M}",
                                         RESEND_KIND, now, {"donation_id": donation_id}), now)

    def revoke_express(self, donor_id: str) -> datetime:
        """Stop every express link issued to the donor until now."""
        now = self.clock()
        self.records.revoke_express(donor_id, now)
        return now

    def export(self, donor_id: str) -> dict[str, Any]:
        """The donor's data as JSON: their record, contributions, monthly gifts, allowances."""
        v = self.view(donor_id)
        return {
            "donor": {"donor_id": v.donor_id, **_plain(v.donor.snapshot.__dict__)},
            "contributions": [_contribution(d) for d in v.contributions],
            "monthly_gifts": [_plan(p) for p in v.plans],
            "remaining": [_plain(a.__dict__) for a in v.allowances],
            "express_links": {"saved_card": v.saved_card,
                              "revoked_at": _iso(v.express_revoked_at)},
            "consents": {p: {"given": given, **(_plain(c.__dict__) if c else {})}
                         for p, (given, c) in v.consents.items()},
            "exported_at": _iso(self.clock()),
        }


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if when else None


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in values.items()}


def _contribution(d: Donation) -> dict[str, Any]:
    return {"donation_id": d.donation_id, "page": d.page_slug, "committee_id": d.committee_id,
            "election": d.election, "amount_cents": d.amount_cents, "status": d.status,
            "refunded_cents": d.state.refunded_cents, "monthly": d.recurring,
            "created_at": _iso(d.created_at), "paid_at": _iso(d.paid_at)}


def _plan(p: RecurringPlan) -> dict[str, Any]:
    return {"subscription_id": p.subscription_id, "committee_id": p.committee_id, "page": p.page_slug,
            "election": p.election, "amount_cents": p.amount_cents, "status": p.status,
            "charge_day": p.charge_day, "ends_on": p.ends_on.isoformat() if p.ends_on else None,
            "created_at": _iso(p.created_at)}


def _compose(donor: ExpressDonor, to: str, url: str, message_id: str) -> OutgoingEmail:
    from chalicelib.followups.compose import render_email

    html, text = render_email("portal_link", name=donor.snapshot.first_name, url=url,
                              minutes=int(LINK_TTL.total_seconds() // 60))
    return OutgoingEmail(to=to, subject="Your link to your giving", html=html,
                         text=text, unsubscribe_url="", message_id=message_id)
