""""Best efforts" for employer and occupation (11 CFR 104.7).

A contribution given with an employer or occupation that is missing or a placeholder is
*flagged*. Its success queues one request to the donor (`best_efforts#{donation_id}`, through the
outbox and the one send path of every transactional email), due at once, so it goes out within
minutes of receipt and well inside the 30 days the rule allows. Until the donor answers, FEC rows
carry `INFORMATION REQUESTED` for the missing field (chalicelib.filing.text), never the
placeholder. The answer, through the request's signed link, is recorded on the contribution with
its date (`best_efforts_answered_on`, the committee's local day) and the employer and occupation
given, so the filing code writes the memo entry or amends the report; the donor's record takes
the answer too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from chalicelib.compliance.committees import Committee
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot, control_character
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure

# What counts as *no answer* (compared trimmed and lower-cased). Besides an empty field: the
# FEC's own placeholder, "not applicable" in its spellings, refusals, "I don't know", filler
# characters, the field's own name, and references elsewhere ("same", "see above"). Also, by
# rule below: any answer ending in "?" (a guess such as "unemployed?" is not an answer) and
# initials alone. "Retired", "Not employed", "Unemployed", "Homemaker", "Student" and
# "Self-employed" are answers.
PLACEHOLDERS = frozenset({
    "information requested", "info requested", "requested", "n/a", "na", "n.a.", "n\\a", "none",
    "self", "unknown", "not provided", "refused", "decline", "declined", "prefer not to say",
    "no", "-", "--", ".", "?", "x", "xx", "xxx", "tbd", "idk", "not sure", "unsure", "null",
    "nil", "same", "see above", "employer", "occupation", "job", "work",
})
# Initials only: "J.", "J.S.", "J. S." or a lone letter (but not acronyms such as IBM or GE).
_INITIALS = re.compile(r"^(?:(?:[A-Za-z]\.\s*){1,3}|[A-Za-z])$")
ANSWER_MAX = 200


def is_placeholder(value: str | None) -> bool:
    """Whether an employer or occupation field gives no answer the FEC would accept."""
    text = (value or "").strip()
    return (not text or text.lower() in PLACEHOLDERS or text.endswith("?")
            or bool(_INITIALS.fullmatch(text)))


def needs_best_efforts(donor: DonorSnapshot) -> bool:
    return is_placeholder(donor.employer) or is_placeholder(donor.occupation)


def law_notice(committee_type: str, locale: str = "en") -> str:
    """What the law asks of the committee, as the request email and the donation page say it: a
    candidate's committee aggregates by election cycle, a PAC by calendar year (11 CFR 104.7).
    In the donor's `locale` (the Spanish beside the English in docs/i18n.md)."""
    from chalicelib.i18n import translations

    _ = translations(locale).gettext
    if committee_type == "pac":
        return _("Federal law requires us to use our best efforts to collect and report the name, "
                 "mailing address, occupation and name of employer of individuals whose "
                 "contributions exceed $200 in a calendar year.")
    return _("Federal law requires us to use our best efforts to collect and report the name, "
             "mailing address, occupation and name of employer of individuals whose "
             "contributions exceed $200 in an election cycle.")


BEST_EFFORTS_KIND = "best_efforts_request"  # the outbox kind of the request (transactional mail)


def plan_best_efforts_request(donation: Donation, new: PaymentState,
                              now: datetime) -> Sequence[OutboxMessage]:
    """When a flagged contribution succeeds, queue its one request for the missing information
    (keyed by the contribution, so a redelivered event or a second drain sends nothing more)."""
    if not (new.paid and not donation.state.paid and needs_best_efforts(donation.donor)):
        return []
    return [OutboxMessage(f"best_efforts#{donation.donation_id}", BEST_EFFORTS_KIND, now,
                          {"donor_id": donation.donor_id, "donation_id": donation.donation_id})]


class DonationSource(Protocol):
    def get(self, donation_id: str) -> Donation | None: ...


class CommitteeSource(Protocol):
    def get(self, committee_id: str) -> Committee: ...


def best_efforts_handler(donations: DonationSource, committees: CommitteeSource,
                         send_once: Callable[[OutboxMessage, str, Any], Delivered],
                         tokens: Any, link: Callable[[str], str], pages: Any,
                         ) -> Callable[[OutboxMessage], Delivered]:
    """Ask the donor of one flagged contribution for their employer and occupation, with a
    signed link to a one-question form; sent through `send_once` (the send ledger, and the
    transactional rule: never to a suppressed address, whatever the donor chose about
    invitations), so a retry or a second drain never mails twice. Nothing is sent once the
    contribution is answered (an answer to another request covers it) or no longer stands
    (failed, refunded in full)."""
    from chalicelib import tokens as purposes
    from chalicelib.giving.model import donor_id_for

    def ask(message: OutboxMessage) -> Delivered:
        from chalicelib.followups.compose import compose

        donation = donations.get(str(message.payload.get("donation_id")))
        if donation is None:
            raise PermanentFailure("donation not found")
        if donation.best_efforts_answered_on is not None:
            return Delivered("skipped: answered")
        state = donation.state
        if not state.paid or state.refunded_cents >= state.amount_cents:
            return Delivered(f"skipped: donation is {donation.status}")
        committee = committees.get(donation.committee_id)
        answer = tokens.issue(purposes.EMPLOYMENT, donation.donor_id, donation.donation_id)
        unsubscribe = tokens.issue(purposes.UNSUBSCRIBE, donor_id_for(donation.donor.email))
        email = compose("best_efforts", "One more detail for our FEC report", to=donation.donor.email,
                        message_id=message.message_id,
                        unsubscribe_url=link(f"/api/unsubscribe/{unsubscribe}"),
                        unsubscribe_page=link(f"/u/{unsubscribe}"), first_name=donation.donor.first_name,
                        page=pages.get(donation.page_slug), answer_url=link(f"/e/{answer}"),
                        law=law_notice(committee.type), missing=missing_fields(donation.donor))
        return send_once(message, donation.donor_id, email)

    return ask


def missing_fields(donor: DonorSnapshot) -> list[str]:
    """Which of employer and occupation the donor has not given ("employer", "occupation")."""
    return [name for name in ("employer", "occupation") if is_placeholder(getattr(donor, name))]


# --- answers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """A donor's answer, as recorded on each contribution it completes."""

    employer: str
    occupation: str
    answered_at: datetime  # UTC
    # The committee's local day of the answer, per contribution (the report's date).
    answered_on: Mapping[str, date]


class AnswerStore(Protocol):
    def get(self, donation_id: str) -> Donation | None: ...
    def donations_of(self, donor_id: str) -> list[Donation]: ...
    def record_best_efforts_answer(self, donor_id: str, answer: Answer) -> bool: ...


def read_answer(body: Mapping[str, Any]) -> tuple[str, str]:
    """Employer and occupation from a form or JSON body, or InvalidInput naming the fields."""
    fields: dict[str, str] = {}
    answers: dict[str, str] = {}
    for name in ("employer", "occupation"):
        value = body.get(name)
        if not isinstance(value, str) or is_placeholder(value) or len(value.strip()) > ANSWER_MAX:
            fields[name] = "required: a real answer (Retired and Not employed are answers)"
        elif control_character(value.strip()) is not None:
            fields[name] = "must not contain control characters"
        else:
            answers[name] = value.strip()
    if fields:
        raise InvalidInput("invalid_request", "Please give your employer and occupation.", fields=fields)
    return answers["employer"], answers["occupation"]


@dataclass
class BestEffortsAnswers:
    """Donors' answers through their signed links (token purpose `employment`)."""

    store: AnswerStore
    committees: CommitteeSource
    tokens: Any
    clock: Callable[[], datetime]

    def check(self, token: str) -> None:
        """Refuse a bad (400) or expired (410) link before its body is read."""
        from chalicelib.tokens import EMPLOYMENT

        self.tokens.claims(token, EMPLOYMENT)

    def law_for(self, token: str) -> str:
        """What the law asks, for the committee of the link's contribution; a bad or expired
        link is refused here, before any form is shown."""
        from chalicelib.tokens import EMPLOYMENT

        claims = self.tokens.claims(token, EMPLOYMENT)
        donation = self.store.get(claims.subjects[1]) if len(claims.subjects) > 1 else None
        committee = self.committees.get(donation.committee_id) if donation else None
        return law_notice(committee.type if committee else "candidate")

    def record(self, token: str, employer: str, occupation: str) -> Answer:
        """Record the answer on the link's contribution and on every other flagged, unanswered
        contribution of the donor (the answer is about the person), and on the donor's record.
        A link from before requests were per contribution names the donor alone."""
        from chalicelib.tokens import EMPLOYMENT

        claims = self.tokens.claims(token, EMPLOYMENT)
        donor_id = claims.subject
        named = claims.subjects[1] if len(claims.subjects) > 1 else None
        completes = {d.donation_id: d for d in self.store.donations_of(donor_id)
                     if d.state.paid and d.best_efforts_answered_on is None
                     and needs_best_efforts(d.donor)}
        if named is not None and named not in completes:
            own = self.store.get(named)
            if own is None or own.donor_id != donor_id:
                raise NotFound("donation_not_found", "We could not find your contribution.")
            completes[named] = own
        now = self.clock()
        answer = Answer(employer, occupation, now, {
            d.donation_id: self.committees.get(d.committee_id).local_date(now)
            for d in completes.values()})
        if not self.store.record_best_efforts_answer(donor_id, answer):
            raise NotFound("donor_not_found", "We could not find your record.")
        return answer
