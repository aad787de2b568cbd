"""One Stripe customer per donor's address (issue 17), against in-memory twins: a later gift
that saves its card goes on the customer an earlier paid one recorded, with no new customer; a
stranger typing the donor's name and ZIP with another email never reaches it."""

from __future__ import annotations

from typing import Any

from chalicelib.giving.model import donor_id_for
from tests.giving_twins import donation_request, paid
from tests.unit.test_reservations import ATTACKER, VICTIM, World


def saving(w: World, email: str, cents: int = 2_700) -> Any:
    w.n += 1
    request = donation_request(cents, email, f"save-key-{w.n:04d}").model_copy(
        update={"save_payment_method": True})
    return w.giving.start_donation("spring", request, None).donation


def test_a_later_saved_card_gift_reuses_the_addresss_customer() -> None:
    w = World()
    first = saving(w, VICTIM)
    before_paid = saving(w, VICTIM)  # the first is not paid yet: nothing recorded to reuse
    w.giving.apply_event(paid(w.giving.donation(first.donation_id)))
    later = saving(w, VICTIM)
    assert first.customer_id == later.customer_id == "cus_1"
    assert before_paid.customer_id == "cus_2"
    assert [c.customer_id for c in w.payments.charges] == ["cus_1", "cus_2", "cus_1"]
    assert len(w.payments.customers) == 2  # no customer made for the later gift
    w.giving.apply_event(paid(w.giving.donation(before_paid.donation_id)))
    assert saving(w, VICTIM).customer_id == "cus_1"  # the first one recorded stays


def test_a_one_time_gift_carries_no_customer_and_a_name_link_reaches_none() -> None:
    w = World()
    w.giving.apply_event(paid(w.giving.donation(saving(w, VICTIM).donation_id)))
    assert w.intake(2_700, VICTIM).customer_id is None
    stranger = saving(w, ATTACKER)  # the victim's name and ZIP, another email
    assert stranger.donor_id == donor_id_for(VICTIM)  # linked to the victim's record
    assert stranger.customer_id not in (None, "cus_1")
