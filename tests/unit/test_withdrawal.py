"""A lost primary or a withdrawal: which elections are forgone, and the one refund of each gift
for them (what the donor still has in, none for a held or an active election)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from chalicelib.compliance.committees import Committee, CommitteeDefaults, CommitteeService
from chalicelib.compliance.elections import Election
from chalicelib.compliance.excess import refund_handler
from chalicelib.compliance.input import CommitteeInput
from chalicelib.compliance.withdrawal import (
    FORGO_JOB,
    FORGONE_NOTICE,
    FORGONE_REFUND,
    PAGE_FORGONE,
    forgo_handler,
    forgone_elections,
    forgone_page_changes,
    forgone_refund,
    newly_forgone,
    renewal_forgone,
)
from chalicelib.exports.model import LedgerMovement
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot
from chalicelib.outbox.model import OutboxMessage
from tests.giving_twins import Aggregate, MemoryDonations, MemoryPages, page
from tests.helpers import committee_body

D = date.fromisoformat
NOW = datetime(2026, 6, 10, 15, tzinfo=timezone.utc)
ACTIVE = Committee("C00000001", "Rivera for Congress", "candidate", 350_000, 20_000,
                   time_zone="America/Chicago", previous_general_date=D("2024-11-05"),
                   elections=(Election("P2026", D("2026-06-02")), Election("R2026", D("2026-08-04")),
                              Election("G2026", D("2026-11-03"))))


def status(committee: Committee, value: str, day: str) -> Committee:
    return replace(committee, status=value, status_date=D(day))  # type: ignore[arg-type]


def gift(n: int, election: str, cents: int = 5_000, **state: object) -> Donation:
    donor = DonorSnapshot("Ana", "Rivera", f"ana.{n}@example.org", "1 Main St", "Springfield", "IL",
                          "62701", "Acme", "Clerk")
    return Donation(f"don_{n}", "spring", "C00000001", election, donor, donor.donor_id, NOW, "fp",
                    PaymentState(cents, paid=True, **state), payment_intent_id=f"pi_{n}")  # type: ignore[arg-type]


def test_an_active_committee_forgoes_nothing() -> None:
    assert forgone_elections(ACTIVE) == frozenset()
    assert forgone_refund(gift(1, "G2026"), ACTIVE, NOW) is None


@pytest.mark.parametrize(("value", "day", "forgone"), [
    ("lost_primary", "2026-06-03", {"R2026", "G2026"}),
    ("withdrawn", "2026-08-05", {"G2026"}),
    ("withdrawn", "2026-11-04", set()),
])
def test_elections_after_the_status_date_are_forgone(value: str, day: str, forgone: set[str]) -> None:
    assert forgone_elections(status(ACTIVE, value, day)) == forgone


def test_setting_the_same_status_again_forgoes_nothing_new() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    assert newly_forgone(ACTIVE, lost) == {"R2026", "G2026"}
    assert newly_forgone(lost, lost) == frozenset()
    assert newly_forgone(None, lost) == {"R2026", "G2026"}


def test_a_general_gift_is_refunded_in_full_once_and_a_primary_gift_is_kept() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    message = forgone_refund(gift(1, "G2026"), lost, NOW)
    assert message is not None
    assert (message.message_id, message.kind) == (f"{FORGONE_REFUND}#don_1", FORGONE_REFUND)
    assert message.payload["amount_cents"] == 5_000 and message.payload["payment_intent_id"] == "pi_1"
    assert "lost the primary" in message.payload["why"]
    assert forgone_refund(gift(2, "P2026"), lost, NOW) is None


def test_only_what_is_left_is_refunded_and_nothing_under_dispute() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    partly = forgone_refund(gift(1, "G2026", refunded_cents=2_000), lost, NOW)
    assert partly is not None and partly.payload["amount_cents"] == 3_000
    assert forgone_refund(gift(2, "G2026", refunded_cents=5_000), lost, NOW) is None
    assert forgone_refund(gift(3, "G2026", dispute="open"), lost, NOW) is None
    unpaid = replace(gift(4, "G2026"), state=PaymentState(5_000))
    assert forgone_refund(unpaid, lost, NOW) is None


class Payments:
    def __init__(self) -> None:
        self.refunds: dict[str, tuple[str, int]] = {}

    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str:
        self.refunds.setdefault(idempotency_key, (payment_intent_id, amount_cents))
        return f"re_{len(self.refunds)}"


def test_delivering_the_refund_twice_sends_one_idempotency_key() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    message = forgone_refund(gift(1, "G2026"), lost, NOW)
    assert message is not None
    payments = Payments()
    deliver = refund_handler(payments, "forgone")
    deliver(message)
    deliver(message)
    assert payments.refunds == {"groundswell-forgone-don_1": ("pi_1", 5_000)}


# --- the service and the job, against in-memory twins ---------------------------------------

class Committees:
    """The committee store's twin: what was saved, with the message each save queued."""

    def __init__(self) -> None:
        self.defaults = CommitteeDefaults()
        self.saved: dict[str, Committee] = {}
        self.queued: list[OutboxMessage] = []

    def get(self, committee_id: str) -> Committee:
        return self.saved[committee_id]

    def find(self, committee_id: str) -> Committee | None:
        return self.saved.get(committee_id)

    def save(self, committee: Committee, now: datetime, queued: OutboxMessage | None = None) -> None:
        self.saved[committee.committee_id] = committee
        self.queued += [queued] if queued else []

    def list(self) -> list[Committee]:
        return list(self.saved.values())


class Queue:
    def __init__(self) -> None:
        self.messages: dict[str, OutboxMessage] = {}

    def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        self.messages.setdefault(message.message_id, message)


def movement(d: Donation, kind: str = "contribution") -> LedgerMovement:
    return LedgerMovement(f"mv_{d.donation_id}_{kind}", kind, d.amount_cents, NOW, d.donation_id,  # type: ignore[arg-type]
                          d.donor_id, d.committee_id, d.election, d.page_slug, "evt")


class Ledger:
    def __init__(self, *movements: LedgerMovement) -> None:
        self.items = list(movements)
        self.asked: list[tuple[str, datetime, datetime]] = []

    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterator[LedgerMovement]:
        self.asked.append((committee_id, start, end))
        return iter([m for m in self.items
                     if m.committee_id == committee_id and start <= m.occurred_at < end])


def test_setting_lost_primary_queues_one_job_and_the_job_one_refund_per_general_gift() -> None:
    store = Committees()
    store.saved[ACTIVE.committee_id] = ACTIVE
    service = CommitteeService(store, lambda: NOW)
    body = committee_body(elections=[{"code": e.code, "date": e.date.isoformat()} for e in ACTIVE.elections],
                          previous_general_date="2024-11-05", time_zone="America/Chicago")
    service.configure(ACTIVE.committee_id, CommitteeInput.model_validate({**body, "status": "lost_primary"}))
    service.configure(ACTIVE.committee_id, CommitteeInput.model_validate({**body, "status": "lost_primary"}))
    (job,) = store.queued  # set twice, queued once
    assert job.kind == FORGO_JOB

    donations = MemoryDonations()
    gifts = [gift(1, "G2026"), gift(2, "G2026", refunded_cents=1_000), gift(3, "P2026"), gift(4, "R2026")]
    for g in gifts:
        donations.donations[g.donation_id] = g
    ledger = Ledger(*map(movement, gifts), movement(gifts[1], "refund"))
    queue = Queue()
    forgo = forgo_handler(store, ledger, donations, queue, lambda: NOW)
    forgo(job)
    forgo(job)  # delivered twice
    assert {m.message_id: m.payload["amount_cents"] for m in queue.messages.values()
            if m.kind == FORGONE_REFUND} == {
        "refund_forgone#don_1": 5_000, "refund_forgone#don_2": 4_000, "refund_forgone#don_4": 5_000}
    notices = sorted(m.message_id for m in queue.messages.values() if m.kind == FORGONE_NOTICE)
    assert notices == ["forgone_notice#don_1", "forgone_notice#don_2", "forgone_notice#don_4"]
    assert ledger.asked[0][1] == datetime(2024, 11, 6, 6, tzinfo=timezone.utc)  # the cycle, local


def test_a_monthly_gift_for_the_lost_primary_ends_with_the_general_and_keeps_its_gifts() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-08-04")  # the runoff was lost: the general forgone
    primary = replace(gift(5, "P2026"), subscription_id="sub_primary")  # its renewals: the general's
    runoff = replace(gift(6, "R2026"), subscription_id="sub_runoff")
    one_time = gift(7, "P2026")
    later = datetime(2026, 8, 10, 15, tzinfo=timezone.utc)
    assert renewal_forgone(lost, "P2026", later) and renewal_forgone(lost, "R2026", later)
    assert not renewal_forgone(lost, "R2026", NOW)  # the runoff still ahead: it counts for it
    assert not renewal_forgone(ACTIVE, "P2026", later)  # an active committee ends nothing
    store = Committees()
    store.saved[lost.committee_id] = lost
    donations = MemoryDonations()
    for g in (primary, runoff, one_time):
        donations.donations[g.donation_id] = g
    queue = Queue()
    forgo = forgo_handler(store, Ledger(*map(movement, (primary, runoff, one_time))), donations, queue,
                          lambda: later)
    forgo(OutboxMessage(f"{FORGO_JOB}#x", FORGO_JOB, later, {"committee_id": lost.committee_id}))
    assert sorted(queue.messages) == ["end_plan_forgone#sub_primary", "end_plan_forgone#sub_runoff"]


def test_a_lost_primary_closes_the_pages_that_offer_only_forgone_elections() -> None:
    lost = status(ACTIVE, "lost_primary", "2026-06-03")  # the runoff and the general forgone
    general = page("general", election="G2026")
    both = replace(page("both", election="G2026"), elections=["P2026", "G2026"])
    runoff_general = replace(page("later", election="R2026"), elections=["R2026", "G2026"])
    primary = page("primary", election="P2026")
    other = page("other", committee_id="C00000002", election="G2026")
    assert forgone_page_changes(ACTIVE, general) is None  # nothing forgone while active
    assert forgone_page_changes(lost, general) == {"closed_reason": PAGE_FORGONE}
    assert forgone_page_changes(lost, runoff_general) == {"closed_reason": PAGE_FORGONE}
    # Still open for the (held) primary's debts, and only for it.
    assert forgone_page_changes(lost, both) == {"elections": ["P2026"], "election": "P2026"}
    assert forgone_page_changes(lost, primary) is None
    assert forgone_page_changes(lost, other) is None  # another committee's page

    store = Committees()
    store.saved[lost.committee_id] = lost
    pages = MemoryPages(general, both, runoff_general, primary, other)
    forgo = forgo_handler(store, Ledger(), MemoryDonations(), Queue(), lambda: NOW, pages)
    job = OutboxMessage(f"{FORGO_JOB}#x", FORGO_JOB, NOW, {"committee_id": lost.committee_id})
    assert forgo(job).result.endswith("3 pages changed")
    assert pages.pages["general"].closed_reason == PAGE_FORGONE
    assert not pages.pages["general"].is_open(NOW)
    assert pages.pages["both"].is_open(NOW) and pages.pages["both"].offered == ["P2026"]
    assert pages.pages["primary"] == primary and pages.pages["other"] == other
    writes = pages.writes
    assert forgo(job).result.endswith("0 pages changed")  # delivered twice: nothing more
    assert pages.writes == writes == 3


class Ticks:
    """A timer that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_spent_budget_stops_the_job_and_its_continuations_finish_it_once_each() -> None:
    from datetime import timedelta

    lost = status(ACTIVE, "lost_primary", "2026-06-03")  # the runoff and the general forgone
    store = Committees()
    store.saved[lost.committee_id] = lost
    gifts = [gift(n, "G2026" if n % 3 else "P2026", 1_000 + n) for n in range(1, 10)]
    gifts[0] = replace(gifts[0], subscription_id="sub_1")
    donations = MemoryDonations()
    for g in gifts:
        donations.donations[g.donation_id] = g
    # Two gifts share an instant: a part never stops between them.
    times = [NOW - timedelta(days=30 - n) for n in (1, 2, 3, 3, 4, 5, 6, 7, 8)]
    ledger = Ledger(*(replace(movement(g), occurred_at=t) for g, t in zip(gifts, times, strict=True)))
    pages = MemoryPages(*(page(f"general-{n}", election="G2026") for n in range(4)),
                        page("primary", election="P2026"))
    queue = Queue()
    forgo = forgo_handler(store, ledger, donations, queue, lambda: NOW, pages,
                          budget=timedelta(seconds=2), timer=Ticks())

    job = OutboxMessage(f"{FORGO_JOB}#C00000001#lost_primary#2026-06-03", FORGO_JOB, NOW,
                        {"committee_id": lost.committee_id})
    first = forgo(job)
    assert "continues as" in first.result and pages.writes < 4  # stopped midway through the pages
    parts, done = [job], {job.message_id}
    while pending := [m for m in queue.messages.values() if m.kind == FORGO_JOB and m.message_id not in done]:
        (part,) = pending  # each part queues one continuation, from where it stopped
        result = forgo(part).result
        # A part delivered twice stops at the same place: the same continuation, nothing new.
        assert forgo(part).result.partition(";")[2] == result.partition(";")[2]
        done.add(part.message_id)
        parts.append(part)
    assert len(parts) > 3
    assert "continues as" not in result
    assert [p.payload.get("resume") for p in parts[:2]] == [None, {"pages_after": "general-1"}]
    assert {"ledger_from": times[2].isoformat()} in [p.payload.get("resume") for p in parts]

    refunds = {m.message_id: m.payload["amount_cents"] for m in queue.messages.values()
               if m.kind == FORGONE_REFUND}
    assert refunds == {f"refund_forgone#don_{g.donation_id[4:]}": g.amount_cents for g in gifts
                       if g.election == "G2026"}
    plans = sorted(m for m in queue.messages if m.startswith("end_plan_forgone#"))
    assert plans == ["end_plan_forgone#sub_1"]
    assert all(pages.pages[f"general-{n}"].closed_reason == PAGE_FORGONE for n in range(4))
    assert pages.writes == 4 and pages.pages["primary"].closed_reason is None
    queued, writes = dict(queue.messages), pages.writes
    for part in parts:  # every part delivered once more, after the rest: nothing new
        forgo(part)
    assert queue.messages == queued and pages.writes == writes


class Paying:
    """The giving service over the twins, with the forgone planner, for the committee ACTIVE."""

    def __init__(self) -> None:
        from chalicelib.compliance.withdrawal import ForgonePlanner
        from chalicelib.giving.service import GivingService
        from tests.giving_twins import Clock, MemoryCommittees, MemoryPayments

        self.clock = Clock(NOW)
        self.store = MemoryDonations()
        self.committees = MemoryCommittees(ACTIVE)
        offered = replace(page("spring", election="G2026"), elections=["R2026", "G2026"])
        self.giving = GivingService(self.store, MemoryPages(offered), MemoryPayments(), self.committees,
                                    self.clock, planners=[ForgonePlanner(self.committees)])

    def start(self, cents: int, n: int) -> Donation:
        from tests.giving_twins import donation_request

        request = donation_request(cents, f"ana.{n}@example.org", f"key-{n:06d}", "G2026")
        return self.giving.start_donation("spring", request).donation

    def lose(self, **changes: object) -> None:
        c = self.committees.committees[ACTIVE.committee_id]
        lost = replace(status(c, "lost_primary", "2026-06-10"), **changes)
        self.committees.committees[c.committee_id] = lost

    def queued(self, kind: str) -> dict[str, int]:
        return {m.message_id: int(m.payload["amount_cents"]) for m in self.store.outbox if m.kind == kind}


def test_a_gift_for_a_forgone_election_paid_after_the_job_is_refunded_with_its_success() -> None:
    """Started before the status took effect, confirmed after the job read the ledger: its
    success queues its refund (whole) and the notice, once; a gift of an election kept is not."""
    from tests.giving_twins import paid

    w = Paying()
    late = w.start(2_700, 1)
    w.lose()
    forgo = forgo_handler(w.committees, Ledger(), w.store, w.store, w.clock)
    forgo(OutboxMessage(f"{FORGO_JOB}#x", FORGO_JOB, NOW, {"committee_id": ACTIVE.committee_id}))
    assert w.queued(FORGONE_REFUND) == {}  # not paid when the job ran
    w.giving.apply_event(paid(w.giving.donation(late.donation_id)))
    w.giving.apply_event(paid(w.giving.donation(late.donation_id)))  # delivered twice
    assert w.queued(FORGONE_REFUND) == {f"refund_forgone#{late.donation_id}": 2_700}
    assert [m.message_id for m in w.store.outbox if m.kind == FORGONE_NOTICE] == [
        f"forgone_notice#{late.donation_id}"]


def test_a_forgone_gift_over_the_limit_is_refunded_whole_not_remedied_as_excess() -> None:
    from tests.giving_twins import paid

    w = Paying()
    gift_ = w.start(3_000, 2)
    w.lose(limit_cents=2_000)  # lowered too: the success is over it
    w.giving.apply_event(paid(w.giving.donation(gift_.donation_id)))
    assert w.queued(FORGONE_REFUND) == {f"refund_forgone#{gift_.donation_id}": 3_000}
    assert w.queued("refund_excess") == {} and not w.giving.donation(gift_.donation_id).redesignated_cents


def test_a_renewal_for_the_general_paid_before_its_plan_ended_is_refunded() -> None:
    """The plan's end is queued by the job; an invoice paid in between is for the forgone
    general: its success queues its refund too."""
    from datetime import timedelta

    from chalicelib.giving.events import PaymentEvent
    from chalicelib.giving.ledger import Fact
    from chalicelib.giving.model import RecurringPlan

    w = Paying()
    first = w.start(2_500, 1)
    w.store.save_plan(RecurringPlan("sub_1", first.donation_id, first.donor_id, first.donor, "spring",
                                    "C00000001", first.election, 2_500, "cus_1", "active", first.created_at))
    w.lose()
    renewal = PaymentEvent("evt_in1", "invoice.paid", Fact("paid"), None, "pi_in1", NOW + timedelta(days=1),
                           subscription_id="sub_1", invoice_id="in_1", amount_cents=2_500,
                           committee_id="C00000001", currency="usd")
    w.giving.apply_event(renewal)
    (donation,) = [d for d in w.store.donations.values() if d.invoice_id == "in_1"]
    assert donation.election == "G2026"
    assert w.queued(FORGONE_REFUND) == {f"refund_forgone#{donation.donation_id}": 2_500}
    (refund,) = [m for m in w.store.outbox if m.kind == FORGONE_REFUND]
    assert refund.payload["payment_intent_id"] is None  # linked by invoice_payment.paid, later

    from chalicelib.compliance.withdrawal import NotLinkedYet, forgone_refund_handler
    from chalicelib.outbox.model import Delivered

    sent: list[OutboxMessage] = []
    deliver = forgone_refund_handler(lambda m: sent.append(m) or Delivered("re_1"), w.store)
    with pytest.raises(NotLinkedYet):  # retried by the outbox until the intent is linked
        deliver(refund)
    assert w.store.link_invoice_payment(donation.donation_id, "pi_in1")
    assert deliver(refund).result == "re_1"
    assert [(m.payload["payment_intent_id"], m.payload["amount_cents"]) for m in sent] == [("pi_in1", 2_500)]


def test_the_part_of_a_primary_gift_redesignated_to_the_general_is_refunded_once() -> None:
    """A primary gift whose excess was presumed for the general: once the general is forgone
    that part is refunded (past its 60 days too) and moved back off the general, the donor told
    why; the rest of the gift, for the primary, is kept; the job run again refunds nothing more."""
    from datetime import timedelta

    from chalicelib.compliance.remedies import REDESIGNATED_REFUND

    lost = status(ACTIVE, "lost_primary", "2026-06-03")
    store = Committees()
    store.saved[lost.committee_id] = lost
    early = replace(gift(8, "P2026", 5_000), redesignated_cents=1_500, redesignated_to="G2026",
                    redesignated_scope="C00000001#G2026", redesignation_status="presumed",
                    redesignated_on=D("2026-03-01"), created_at=NOW - timedelta(days=100))
    donations = MemoryDonations()
    donations.donations[early.donation_id] = early
    donations.aggregates[(early.donor_id, "C00000001#G2026")] = Aggregate(net_cents=1_500)
    forgo = forgo_handler(store, Ledger(movement(early)), donations, donations, lambda: NOW,
                          redesignations=donations)
    job = OutboxMessage(f"{FORGO_JOB}#x", FORGO_JOB, NOW, {"committee_id": lost.committee_id})
    forgo(job)
    forgo(job)  # delivered twice
    assert [(m.message_id, m.payload["amount_cents"]) for m in donations.outbox] == [
        (f"{REDESIGNATED_REFUND}#don_8", 1_500), (f"{FORGONE_NOTICE}#don_8", 1_500)]
    assert donations.outbox[1].payload["election"] == "G2026"
    assert donations.donations["don_8"].redesignation_status == "refunded"
    assert donations.aggregate(early.donor_id, "C00000001#G2026").net_cents == 0


def test_an_excess_is_never_presumed_for_a_forgone_election() -> None:
    """A primary gift given before the primary and paid over the limit after the general was
    forgone: its excess has nowhere to go and is refunded, not redesignated to the general."""
    from chalicelib.compliance.remedies import redesignation_target
    from chalicelib.giving.service import GivingService
    from tests.giving_twins import Clock, MemoryCommittees, MemoryPayments, donation_request, paid

    clock = Clock(datetime(2026, 5, 20, 15, tzinfo=timezone.utc))
    store, committees = MemoryDonations(), MemoryCommittees(ACTIVE)
    offered = replace(page("spring", election="P2026"), elections=["P2026", "G2026"])
    giving = GivingService(store, MemoryPages(offered), MemoryPayments(), committees, clock)
    early = giving.start_donation("spring", donation_request(3_000, "ana@example.org", "key-000001")).donation
    assert early.election == "P2026" and redesignation_target(ACTIVE, early) is not None
    clock.now = NOW
    lost = replace(status(ACTIVE, "lost_primary", "2026-06-03"), limit_cents=2_000)
    committees.committees[lost.committee_id] = lost
    assert redesignation_target(lost, early) is None  # the runoff and the general are forgone
    giving.apply_event(paid(giving.donation(early.donation_id)))
    assert not giving.donation(early.donation_id).redesignated_cents
    assert [m.payload["amount_cents"] for m in store.outbox if m.kind == "refund_excess"] == [1_000]
