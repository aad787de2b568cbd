"""Issue 12, finding 7, against in-memory twins: the reconciler pages past the pending
donations it checked recently (so a flood of abandoned intakes cannot hold it on the same ones
run after run), still settles a reservation when it expires, and one address may keep at most
`PENDING_PER_IP` donations pending in an hour."""

from __future__ import annotations

import pytest

from chalicelib.giving.velocity import RateLimited
from tests.giving_twins import GivingWorld as World
from tests.giving_twins import paid


def test_the_reconciler_pages_past_what_it_checked_recently() -> None:
    w = World()
    flood = [w.intake() for _ in range(300)]  # abandoned: never confirmed
    w.clock.advance(minutes=1)
    real = w.intake()
    w.payments.confirm(real.payment_intent_id)  # paid at Stripe; its webhook never came
    w.clock.advance(minutes=19)
    first = w.reconciler.run(limit=200)
    assert (first.checked, first.settled) == (200, {"waiting": 200})  # the oldest 200 of the flood
    w.clock.advance(minutes=5)
    second = w.reconciler.run(limit=200)
    # The next run pages past those 200: the other 100 of the flood, then the real one.
    assert second.checked == 101 and second.settled == {"waiting": 100, "succeeded": 1}
    assert w.giving.donation(real.donation_id).status == "succeeded"
    assert all(w.giving.donation(d.donation_id).status == "pending" for d in flood)


def test_a_checked_reservation_still_expires_on_time() -> None:
    w = World()
    d = w.intake()
    w.clock.advance(minutes=16)
    assert w.reconciler.run().settled == {"waiting": 1}
    w.clock.advance(minutes=9)  # 25 minutes: checked 9 minutes ago, not yet due
    assert w.reconciler.run().checked == 0
    w.clock.advance(minutes=6)  # 31 minutes: the reservation has expired, it is due at once
    assert w.reconciler.run().settled == {"canceled": 1}
    assert w.payments.cancelled == [d.payment_intent_id]


def test_at_most_twenty_pending_donations_per_address_an_hour() -> None:
    w = World()
    started = [w.intake("198.51.100.9") for _ in range(20)]
    with pytest.raises(RateLimited) as refused:
        w.intake("198.51.100.9")
    assert 0 < refused.value.extra["retry_after"] <= 3600
    count = len(w.store.donations)
    w.giving.apply_event(paid(w.giving.donation(started[0].donation_id)))  # one is paid
    w.intake("198.51.100.9")  # so one more may be pending
    assert len(w.store.donations) == count + 1
    w.clock.advance(hours=2)  # an hour later the address starts afresh
    for _ in range(20):
        w.intake("198.51.100.9")


@pytest.mark.parametrize("before", [0, 1, 7, 19, 20, 31])
@pytest.mark.parametrize("into_hour", [0, 1, 900, 1800, 3599])
def test_the_transactions_condition_is_the_same_cap_as_the_read_check(before: int, into_hour: int) -> None:
    """Issue 18: what intake adds carries the room its read saw, as the commit's condition:
    a pending count passes the condition exactly when the read check would let it through."""
    from datetime import datetime, timedelta, timezone

    from chalicelib.giving.velocity import VelocityLimits, check_intake, intake_counters, pending_key

    limits, ip = VelocityLimits(), "198.51.100.9"
    now = datetime(2026, 11, 3, 20, tzinfo=timezone.utc) + timedelta(seconds=into_hour)
    last_hour = pending_key(ip, now - timedelta(hours=1))
    for current in range(-2, 25):
        counts = {last_hour: before, pending_key(ip, now): current}
        room = intake_counters(counts, ip, now, limits)[1].at_most
        weighted = max(current, 0) + before * (1 - into_hour / 3600)
        assert (current <= room) is (weighted < limits.pending_per_ip) or current < 0
        try:
            check_intake(counts, ip, "a@example.org", now, limits)
        except RateLimited:
            assert weighted >= limits.pending_per_ip
        else:
            assert weighted < limits.pending_per_ip
