""""Best efforts" for employer and occupation (11 CFR 104.7).

The FEC rejects placeholders; a contribution given with one is flagged, and the donor is asked
once (a follow-up request through the outbox); their answer updates the donor record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.outbox.model import OutboxMessage

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
