"""A candidate who lost the primary or withdrew: the gifts for elections they take no part in.

From the committee's `status_date` on (`lost_primary` or `withdrawn`), no election dated after
it is open (`Committee.open_elections`). What donors gave for those elections is not the
committee's to keep: each such contribution still holding money is refunded in full, once,
through the outbox (`refund_forgone#{donation_id}`; the Stripe idempotency key is derived from
the purpose and the donation id, see `compliance/excess.refund_handler`), and the donor is
told why. This module decides; the store only writes what it returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.outbox.model import OutboxMessage

if TYPE_CHECKING:
    from chalicelib.compliance.committees import Committee
    from chalicelib.giving.model import Donation

FORGONE_REFUND = "refund_forgone"
FORGONE_REASONS = {"lost_primary": "the candidate lost the primary election",
                   "withdrawn": "the candidate withdrew from the race"}


def forgone_elections(committee: Committee) -> frozenset[str]:
    """The codes of the elections the candidate takes no part in: those dated after the day
    they lost the primary or withdrew (none while the committee is active or undated)."""
    if committee.type != "candidate" or committee.status == "active" or committee.status_date is None:
        return frozenset()
    cutoff = committee.status_date
    return frozenset(e.code for e in committee.elections if e.date > cutoff)


def newly_forgone(before: Committee | None, after: Committee) -> frozenset[str]:
    """The elections a status change forgoes that were not forgone before it: setting the same
    status again forgoes nothing new (so it refunds nothing twice)."""
    return forgone_elections(after) - (forgone_elections(before) if before else frozenset())


def forgone_refund(donation: Donation, committee: Committee, now: datetime) -> OutboxMessage | None:
    """The refund of a contribution designated for a forgone election: what the donor still
    has in (paid, less what was or is being refunded), none while a dispute is open or lost
    (the card network holds that money) and none for a gift with nothing left."""
    from chalicelib.compliance.reviews import refund_message

    if donation.committee_id != committee.committee_id:
        return None
    if donation.election not in forgone_elections(committee):
        return None
    base = refund_message(donation, now)
    if base is None:
        return None
    return OutboxMessage(f"{FORGONE_REFUND}#{donation.donation_id}", FORGONE_REFUND, now, {
        **base.payload, "reason": "requested_by_customer",
        "why": FORGONE_REASONS.get(committee.status, "the candidate is no longer in this election"),
        "election": donation.election,
    })
