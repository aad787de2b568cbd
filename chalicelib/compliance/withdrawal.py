"""A candidate who lost the primary or withdrew: the gifts for elections they take no part in.

From the committee's `status_date` on (`lost_primary` or `withdrawn`), no election dated after
it is open (`Committee.open_elections`). What donors gave for those elections is not the
committee's to keep: each such contribution still holding money is refunded in full, once,
through the outbox (`refund_forgone#{donation_id}`; the Stripe idempotency key is derived from
the purpose and the donation id, see `compliance/excess.refund_handler`), and the donor is
told why. This module decides; the store only writes what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.compliance.elections import local_midnight
from chalicelib.outbox.model import Delivered, OutboxMessage

if TYPE_CHECKING:
    from chalicelib.compliance.committees import Committee
    from chalicelib.giving.ledger import PaymentState
    from chalicelib.giving.model import Donation
    from chalicelib.pages.model import Page

FORGONE_REFUND = "refund_forgone"
FORGONE_NOTICE = "forgone_notice"
PLAN_FORGONE = "end_plan_forgone"
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


def renewal_forgone(committee: Committee, plan_election: str, when: datetime) -> bool:
    """Whether a monthly gift's next renewal, paid after `when`, would count toward an election
    the candidate takes no part in: its plan's own election is forgone, or that election is
    held and the next one on the calendar (as it would have designated the renewal,
    `Committee.renewal_designation`, had the candidate stayed in) is forgone. A plan for the
    primary that lost is ended with the general's: every gift so far kept, nothing more taken."""
    forgone = forgone_elections(committee)
    if not forgone:
        return False
    if plan_election in forgone:
        return True
    day = committee.local_date(when)
    own = committee.election(plan_election)
    if own is not None and not own.held_before(day):
        return False  # its own election is still ahead: the renewal counts for it
    ahead = sorted((e for e in committee.elections if not e.held_before(day)), key=lambda e: e.date)
    return bool(ahead) and ahead[0].code in forgone


def forgone_refund(donation: Donation, committee: Committee, now: datetime) -> OutboxMessage | None:
    """The refund of a contribution designated for a forgone election: what the donor still
    has in (paid, less what was or is being refunded), none while a dispute is open or lost
    (the card network holds that money) and none for a gift with nothing left."""
    from chalicelib.compliance.reviews import refund_message

    if donation.committee_id != committee.committee_id:
        return None
    if donation.election not in forgone_elections(committee):
        return None
    # A monthly renewal's PaymentIntent is linked after its invoice is paid (invoice_payment.paid):
    # refunded all the same, the intent read when the refund is delivered (`forgone_refund_handler`).
    unlinked = bool(donation.invoice_id) and not donation.payment_intent_id
    base = refund_message(replace(donation, payment_intent_id=UNLINKED) if unlinked else donation, now)
    if base is None:
        return None
    return OutboxMessage(f"{FORGONE_REFUND}#{donation.donation_id}", FORGONE_REFUND, now, {
        **base.payload, "payment_intent_id": None if unlinked else donation.payment_intent_id,
        "reason": "requested_by_customer",
        "why": FORGONE_REASONS.get(committee.status, "the candidate is no longer in this election"),
        "election": donation.election,
    })


UNLINKED = "unlinked"


class NotLinkedYet(Exception):
    """A renewal's PaymentIntent is not recorded yet: the outbox tries again later (backoff)."""


def forgone_refund_handler(refund: Callable[[OutboxMessage], Delivered],
                           donations: Donations):  # type: ignore[no-untyped-def]
    """`refund_forgone`: the refund path every refund takes (`refund`, the excess module's
    handler), with a renewal's PaymentIntent read from its donation when the message was
    queued before it was linked (an error until it is, so the message is retried)."""

    def deliver(message: OutboxMessage) -> Delivered:
        if message.payload.get("payment_intent_id"):
            return refund(message)
        donation = donations.get(str(message.payload["donation_id"]))
        if donation is None or not donation.payment_intent_id:
            raise NotLinkedYet("the renewal's payment is not linked yet")
        return refund(OutboxMessage(message.message_id, message.kind, message.due_at,
                                    {**message.payload, "payment_intent_id": donation.payment_intent_id}))

    return deliver


class Redesignations(Protocol):
    def undo_redesignation(self, undo: Any, now: datetime) -> bool: ...


def refund_forgone_redesignation(donation: Donation, committee: Committee, store: Redesignations,
                                 queue: Queue, now: datetime) -> bool:
    """A gift whose excess was presumptively redesignated to an election now forgone: that part
    counts toward an election the candidate takes no part in, so it is refunded as the donor's
    own request would (`remedies.undo_redesignation`, whatever the day: its refund
    `refund_redesignated#{donation_id}`, the part moved back, in one conditional write, so once),
    and the donor told why (`forgone_notice#{donation_id}`, after it). Whether it was queued."""
    from chalicelib.compliance.remedies import PRESUMED, undo_redesignation
    from chalicelib.errors import Conflict

    if (donation.redesignation_status != PRESUMED or not donation.redesignated_cents
            or donation.redesignated_to not in forgone_elections(committee)):
        return False
    try:
        undo = undo_redesignation(donation, now, any_day=True)
    except Conflict:
        return False
    if not store.undo_redesignation(undo, now):
        return False
    queue.enqueue(OutboxMessage(f"{FORGONE_NOTICE}#{donation.donation_id}", FORGONE_NOTICE, now, {
        "donation_id": donation.donation_id, "amount_cents": undo.cents,
        "why": FORGONE_REASONS.get(committee.status, "the candidate is no longer in this election"),
        "election": donation.redesignated_to}), now)
    return True


def forgone_notice(refund: OutboxMessage) -> OutboxMessage:
    """The donor's email saying why (`forgone_notice#{donation_id}`, once per refund)."""
    keep = ("donation_id", "amount_cents", "why", "election")
    return OutboxMessage(f"{FORGONE_NOTICE}#{refund.payload['donation_id']}", FORGONE_NOTICE, refund.due_at,
                         {k: refund.payload[k] for k in keep})


class ForgonePlanner:
    """A contribution for a forgone election paid after the job read the ledger (a gift started
    before the status took effect and confirmed after it, or a monthly renewal paid before its
    plan was ended): its success queues its refund and the donor's notice with the commit that
    records it (the same ids as the job's, so the two never both queue it: the job queues only
    gifts already paid, this only the one commit that makes a gift paid)."""

    def __init__(self, committees: Committees) -> None:
        self.committees = committees

    def __call__(self, donation: Donation, new: PaymentState, now: datetime) -> list[OutboxMessage]:
        if not new.paid or donation.state.paid:
            return []
        committee = self.committees.get(donation.committee_id)
        if donation.election not in forgone_elections(committee):
            return []
        refund = forgone_refund(replace(donation, state=new), committee, now)
        return [refund, forgone_notice(refund)] if refund is not None else []


def forgone_refund_planned(messages: Iterable[OutboxMessage]) -> bool:
    """Whether a commit's messages refund its whole gift as forgone (then it has no excess to
    remedy: all of it goes back)."""
    return any(m.kind == FORGONE_REFUND for m in messages)


PAGE_FORGONE = "election_forgone"
PAGE_FORGONE_NOTICE = "The candidate is no longer running in this election; no new gifts are taken."


def forgone_page_changes(committee: Committee, page: Page) -> dict[str, Any] | None:
    """What a page of `committee` must change once elections are forgone (None: nothing).
    A page whose every offered election is forgone closes (`closed_reason`
    `election_forgone`); one that also offers an election still open offers only those, its
    own election the first of them when its own is forgone. A page closed already, or offering
    nothing forgone, changes nothing (so running the job again writes nothing)."""
    forgone = forgone_elections(committee)
    if page.committee_id != committee.committee_id or page.closed_reason is not None or not forgone:
        return None
    offered = page.offered
    kept = [code for code in offered if code not in forgone]
    if len(kept) == len(offered):
        return None
    if not kept:
        return {"closed_reason": PAGE_FORGONE}
    return {"elections": kept, "election": page.election if page.election in kept else kept[0]}


FORGO_JOB = "forgo_elections"


def forgo_message(before: Committee | None, after: Committee, now: datetime) -> OutboxMessage | None:
    """The one job a status change queues when it forgoes elections (None otherwise): its id
    names the status and its date, so setting the same status again queues nothing new."""
    if not newly_forgone(before, after):
        return None
    assert after.status_date is not None  # forgone elections need a status date
    # Due the day the status takes effect (intake closes those elections that day too).
    due = max(now, local_midnight(after.status_date, after.zone).astimezone(timezone.utc))
    return OutboxMessage(f"{FORGO_JOB}#{after.committee_id}#{after.status}#{after.status_date.isoformat()}",
                         FORGO_JOB, due, {"committee_id": after.committee_id})


class Movements(Protocol):
    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterator[Any]: ...


class Donations(Protocol):
    def get(self, donation_id: str) -> Donation | None: ...


class Committees(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class Queue(Protocol):
    def enqueue(self, message: OutboxMessage, now: datetime) -> None: ...


class Pages(Protocol):
    def committee_pages(self, committee_id: str, after: str | None = None) -> Iterator[Page]: ...
    def get(self, slug: str, consistent: bool = False) -> Page | None: ...
    def update(self, slug: str, expected_version: int, changes: dict[str, Any],
               updated_at: datetime) -> Page: ...


PAGE_ATTEMPTS = 3


def close_forgone_page(committee: Committee, pages: Pages, page: Page, now: datetime) -> bool:
    """Write `forgone_page_changes` for one page (conditional on the version read; an
    organizer's concurrent edit means deciding again). Whether it changed."""
    from chalicelib.pages.service import StalePage

    current: Page | None = page
    for _ in range(PAGE_ATTEMPTS):
        changes = forgone_page_changes(committee, current) if current is not None else None
        if changes is None:
            return False
        try:
            pages.update(page.slug, current.version, changes, now)  # type: ignore[union-attr]
            return True
        except StalePage:
            current = pages.get(page.slug, consistent=True)
    return False


def close_forgone_pages(committee: Committee, pages: Pages, now: datetime) -> int:
    """`close_forgone_page` for each of the committee's pages. How many changed."""
    return sum(close_forgone_page(committee, pages, page, now)
               for page in pages.committee_pages(committee.committee_id))


RESUME = "resume"
"""The payload key of a continuation: {"pages_after": slug} (pages up to that slug are done)
or {"ledger_from": ISO time} (pages done, movements before that instant done)."""


def continuation(message: OutboxMessage, resume: dict[str, str], now: datetime) -> OutboxMessage:
    """The job's next part, from `resume`: its id is the first part's with the resume point
    (`…@pages_after=slug`, `…@ledger_from=time`), so a part delivered twice that stopped at the
    same place queues its continuation once."""
    base = message.message_id.split("@", 1)[0]
    ((key, value),) = resume.items()
    return OutboxMessage(f"{base}@{key}={value}", FORGO_JOB, now,
                         {"committee_id": message.payload["committee_id"], RESUME: resume})


def forgo_handler(committees: Committees, ledger: Movements, donations: Donations, queue: Queue,
                  clock: Callable[[], datetime], pages: Pages | None = None,
                  budget: timedelta | None = None,
                  timer: Callable[[], float] = time.monotonic,
                  redesignations: Redesignations | None = None):  # type: ignore[no-untyped-def]
    """`forgo_elections`: first close the committee's pages that offer only forgone elections
    and narrow the others to their open ones (`close_forgone_page`; a page changed already is
    left as it is), in slug order from the committee's `by-committee` index; then page through
    its movement ledger (its `by-month` index, never a table scan) over the cycle of the
    forgone elections, and queue one `refund_forgone#{donation_id}` per contribution
    designated for one of them, and one `end_plan_forgone#{subscription_id}` per monthly gift
    whose gifts were for them or whose next renewal would be (`renewal_forgone`). Queueing is
    conditional on the message id, so a job delivered twice queues each refund once.

    Once `budget` (FORGO_SECONDS, by `timer`) is spent it stops between two pages, or between
    two instants of the ledger (never inside one instant's movements, so every part moves on),
    and queues its `continuation` from there: a very large committee's work finishes across
    deliveries, each refund, plan ending and page change still once."""

    def forgo(message: OutboxMessage) -> Delivered:
        committee = committees.get(str(message.payload["committee_id"]))
        forgone = forgone_elections(committee)
        if not forgone:
            return Delivered("nothing forgone")
        started = timer()
        now = clock()
        resume: dict[str, str] = dict(message.payload.get(RESUME) or {})

        def spent() -> bool:
            return budget is not None and timer() - started >= budget.total_seconds()

        def stop(at: dict[str, str], queued: int, closed: int) -> Delivered:
            part = continuation(message, at, now)
            queue.enqueue(part, now)
            return Delivered(f"{queued} refunds queued, {closed} pages changed; "
                             f"continues as {part.message_id}")

        closed = 0
        if pages is not None and "ledger_from" not in resume:
            last: str | None = None
            for page in pages.committee_pages(committee.committee_id, resume.get("pages_after")):
                if last is not None and spent():
                    return stop({"pages_after": last}, 0, closed)
                closed += close_forgone_page(committee, pages, page, now)
                last = page.slug
        if "ledger_from" in resume:
            start = datetime.fromisoformat(resume["ledger_from"])
        else:
            days = [e.date for e in committee.elections if e.code in forgone]
            start = local_midnight(committee.cycle(min(days)).start, committee.zone).astimezone(timezone.utc)
        seen: set[str] = set()
        queued = 0
        instant: datetime | None = None
        for movement in ledger.movements(committee.committee_id, start, now + timedelta(seconds=1)):
            if movement.occurred_at != instant:
                if instant is not None and spent():
                    return stop({"ledger_from": movement.occurred_at.isoformat()}, queued, closed)
                instant = movement.occurred_at
            if movement.kind != "contribution" or movement.donation_id in seen:
                continue
            seen.add(movement.donation_id)
            queued += forgo_contribution(committee, forgone, movement, donations.get(movement.donation_id),
                                         queue, now, redesignations)
        return Delivered(f"{queued} refunds queued, {closed} pages changed")

    return forgo


def forgo_contribution(committee: Committee, forgone: frozenset[str], movement: Any,
                       donation: Donation | None, queue: Queue, now: datetime,
                       redesignations: Redesignations | None = None) -> int:
    """Queue what one contribution needs once elections are forgone: its plan's end and its
    refund with the donor's notice (1 when a refund was queued)."""
    if movement.election not in forgone:
        # Kept; but the part of it redesignated to a forgone election is refunded,
        if donation is not None and redesignations is not None:
            refund_forgone_redesignation(donation, committee, redesignations, queue, now)
        # and a monthly gift whose next renewal would be for a forgone election ends.
        if (donation is not None and donation.subscription_id
                and renewal_forgone(committee, donation.election, now)):
            queue.enqueue(OutboxMessage(f"{PLAN_FORGONE}#{donation.subscription_id}", PLAN_FORGONE, now,
                                        {"subscription_id": donation.subscription_id}), now)
        return 0
    if donation is not None and donation.subscription_id:
        # Its renewals would be for an election the candidate takes no part in.
        queue.enqueue(OutboxMessage(f"{PLAN_FORGONE}#{donation.subscription_id}", PLAN_FORGONE, now,
                                    {"subscription_id": donation.subscription_id}), now)
    refund = forgone_refund(donation, committee, now) if donation else None
    if refund is None:
        return 0
    queue.enqueue(refund, now)
    queue.enqueue(forgone_notice(refund), now)
    return 1


class Subscriptions(Protocol):
    def cancel_subscription(self, subscription_id: str) -> None: ...


class Plans(Protocol):
    def end_plan(self, subscription_id: str, when: datetime,
                 notice: OutboxMessage | None = None) -> Any: ...


def end_plan_handler(stripe: Subscriptions, plans: Plans,
                     clock: Callable[[], datetime]):  # type: ignore[no-untyped-def]
    """`end_plan_forgone`: cancel the monthly gift at Stripe (cancelling twice is fine) and
    mark the plan ended, queueing the donor's `plan_ended` email (reason `forgone`) only with
    the write that ends it."""
    from chalicelib.giving.recurring import plan_ended_notice

    def end(message: OutboxMessage) -> Delivered:
        subscription_id = str(message.payload["subscription_id"])
        stripe.cancel_subscription(subscription_id)
        now = clock()
        plans.end_plan(subscription_id, now, plan_ended_notice(subscription_id, PLAN_FORGONE_REASON, now))
        return Delivered("plan ended")

    return end


PLAN_FORGONE_REASON = "forgone"
