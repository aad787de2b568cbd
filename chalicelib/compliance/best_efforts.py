""""Best efforts" for employer and occupation (11 CFR 104.7).

The FEC rejects placeholders; a contribution given with one is flagged, and the donor is asked
once (a follow-up request through the outbox); their answer updates the donor record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure

PLACEHOLDERS = frozenset({
    "information requested", "info requested", "requested", "n/a", "na", "n.a.", "none", "self",
    "unknown", "not provided", "refused", "no", "-", "--", ".", "?", "x", "xx", "xxx", "tbd",
    "same", "see above", "employer", "occupation", "job", "work",
})
# Initials only: "J.", "J.S.", "J. S." or a lone letter (but not acronyms such as IBM or GE).
_INITIALS = re.compile(r"^(?:(?:[A-Za-z]\.\s*){1,3}|[A-Za-z])$")


def is_placeholder(value: str | None) -> bool:
    text = (value or "").strip()
    return not text or text.lower() in PLACEHOLDERS or bool(_INITIALS.fullmatch(text))


def needs_best_efforts(donor: DonorSnapshot) -> bool:
    return is_placeholder(donor.employer) or is_placeholder(donor.occupation)


def plan_best_efforts_request(donation: Donation, new: PaymentState,
                              now: datetime) -> Sequence[OutboxMessage]:
    """When a flagged contribution succeeds, queue one request for the missing information
    (the handler asks each donor at most once)."""
    if not (new.paid and not donation.state.paid and needs_best_efforts(donation.donor)):
        return []
    return [OutboxMessage(f"best_efforts#{donation.donation_id}", "best_efforts_request", now,
                          {"donor_id": donation.donor_id, "donation_id": donation.donation_id})]


class EmploymentAnswer(Protocol):
    def donor_asked(self, donor_id: str, message_id: str, when: datetime) -> bool: ...
    def record_employment(self, donor_id: str, employer: str, occupation: str, when: datetime) -> bool: ...


def best_efforts_handler(donations: Any, store: EmploymentAnswer, send: Callable[[Any], str],
                         tokens: Any, link: Callable[[str], str], pages: Any,
                         clock: Callable[[], datetime]) -> Callable[[OutboxMessage], Delivered]:
    """Ask a flagged donor once (per donor, whatever the number of flagged gifts) for their
    employer and occupation, with a signed link to a one-question form."""
    from chalicelib import tokens as purposes
    from chalicelib.giving.model import donor_id_for

    def ask(message: OutboxMessage) -> Delivered:
        from chalicelib.followups.compose import compose

        donation = donations.get(str(message.payload.get("donation_id")))
        if donation is None:
            raise PermanentFailure("donation not found")
        if not store.donor_asked(donation.donor_id, message.message_id, clock()):
            return Delivered("skipped: donor already asked")
        answer = tokens.issue(purposes.EMPLOYMENT, donation.donor_id)
        unsubscribe = tokens.issue(purposes.UNSUBSCRIBE, donor_id_for(donation.donor.email))
        email = compose("best_efforts", "One more detail for our FEC report", to=donation.donor.email,
                        message_id=message.message_id,
                        unsubscribe_url=link(f"/api/unsubscribe/{unsubscribe}"),
                        unsubscribe_page=link(f"/u/{unsubscribe}"), first_name=donation.donor.first_name,
                        page=pages.get(donation.page_slug), answer_url=link(f"/e/{answer}"))
        return Delivered(send(email))

    return ask
