"""Express giving's rules against in-memory twins: a link charges once, only its committee's
pages, a few times a day, big gifts only with the ZIP code on file, revocable at once; the same
request retried after a lost answer gets its donation back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.errors import DomainError
from chalicelib.giving.express import ExpressRequest, ExpressRules, ExpressService
from chalicelib.giving.model import DonorSnapshot
from chalicelib.giving.service import GivingService, SavedCard
from chalicelib.tokens import DONOR, EXPRESS, Tokens
from tests.giving_twins import (
    ATTESTATIONS,
    Clock,
    DonorRecord,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    page,
)

SECRET = "unit-test-secret-0123456789"
DONOR_ID = "dnr_ana"
COMMITTEE = "C00000001"
ON_FILE = DonorSnapshot(first_name="Ana", last_name="Rivera", email="ana@example.org",
                        address_line1="1 Main St", city="Springfield", state="IL", zip="627011234",
                        employer="City Library", occupation="Librarian")


class World:
    def __init__(self, rules: ExpressRules | None = None) -> None:
        self.clock = Clock()
        self.store = MemoryDonations()
        self.store.donors[DONOR_ID] = DonorRecord(ON_FILE, customer_id="cus_ana")
        self.payments = MemoryPayments()
        self.payments.cards["cus_ana"] = SavedCard("pm_1", "visa", "4242")
        self.pages = MemoryPages(page("spring", COMMITTEE, "P2026"), page("other", "C00000002"))
        self.tokens = Tokens(SECRET, self.clock, lifetimes={EXPRESS: timedelta(days=30)})
        giving = GivingService(self.store, self.pages, self.payments, MemoryCommittees(), self.clock)
        self.express = ExpressService(giving, self.store, self.pages, self.payments, self.tokens,
                                      rules or ExpressRules(max_per_day=3, step_up_cents=25_000),
                                      self.clock)
        self.keys = 0

    def link(self, committee: str = COMMITTEE, donor: str = DONOR_ID) -> str:
        return self.tokens.issue(EXPRESS, donor, committee)

    def request(self, token: str, amount: int = 5_000, key: str | None = None,
                **extra: Any) -> ExpressRequest:
        self.keys += 1
        return ExpressRequest.model_validate({
            "token": token, "page": extra.pop("page", "spring"), "amount_cents": amount,
            "idempotency_key": key or f"express-{self.keys:04d}", "attestations": ATTESTATIONS, **extra})

    def give(self, token: str, amount: int = 5_000, key: str | None = None, **extra: Any) -> Any:
        return self.express.give(self.request(token, amount, key, **extra), "203.0.113.9")


def refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as err:
        call()
    return err.value


def test_a_link_charges_once_whatever_the_idempotency_key() -> None:
    w = World()
    token = w.link()
    first = w.give(token, key="express-first")
    err = refused(lambda: w.give(token, key="express-second"))
    assert (err.code, err.kind) == ("link_used", "gone")
    assert [c.donation_id for c in w.payments.charges] == [first.donation.donation_id]


def test_the_same_request_retried_after_a_lost_answer_gets_its_donation_back() -> None:
    w = World(ExpressRules(max_per_day=1))
    token = w.link()
    request = w.request(token, key="express-retry")
    first = w.express.give(request, None)
    again = w.express.give(request, None)  # the day's one charge and the link are both used now
    assert again.donation.donation_id == first.donation.donation_id
    assert len(w.payments.charges) == 1
    # The first attempt wrote its donation (the link used) but never reached Stripe: the same
    # request again charges it, once.
    lost = World()
    request = lost.request(lost.link(), key="express-lost")
    lost.payments.unavailable = 1
    assert refused(lambda: lost.express.give(request, None)).code == "payment_provider_unavailable"
    retried = lost.express.give(request, None)
    assert [c.donation_id for c in lost.payments.charges] == [retried.donation.donation_id]


def test_the_same_idempotency_key_with_another_link_is_a_conflict_not_a_charge() -> None:
    w = World()
    w.give(w.link(), key="express-shared")
    err = refused(lambda: w.give(w.link(), key="express-shared"))
    assert err.code == "idempotency_key_reused" and len(w.payments.charges) == 1


def test_a_link_gives_only_to_its_own_committees_pages() -> None:
    w = World()
    err = refused(lambda: w.give(w.link(), page="other"))
    assert (err.code, err.kind) == ("wrong_committee", "forbidden")
    err = refused(lambda: w.express.confirmation("other", w.link()))
    assert err.kind == "forbidden" and w.payments.charges == []


def test_the_election_is_the_pages_and_cannot_be_chosen() -> None:
    w = World()
    with pytest.raises(ValidationError):
        w.request(w.link(), election="G2026")
    assert w.give(w.link()).donation.election == "P2026"


def test_a_fourth_charge_in_a_day_is_refused_until_the_first_is_a_day_old() -> None:
    w = World()
    for _ in range(3):
        w.give(w.link())
        w.clock.advance(hours=1)
    err = refused(lambda: w.give(w.link()))
    assert (err.code, err.kind) == ("rate_limited", "rate_limited")
    assert err.extra["retry_after"] == 21 * 3600 + 1 and len(w.payments.charges) == 3
    w.clock.advance(hours=21, seconds=1)
    w.give(w.link())
    assert len(w.payments.charges) == 4


def test_a_big_gift_needs_the_zip_code_on_file() -> None:
    w = World()
    token = w.link()
    for zip_ in (None, "10001"):
        extra = {"zip": zip_} if zip_ else {}
        err = refused(lambda extra=extra: w.give(token, 25_001, **extra))
        assert (err.code, err.kind, set(err.fields)) == ("verification_failed", "rule", {"zip"})
    assert w.payments.charges == [] and not w.store.used_links  # nothing charged, link unused
    w.give(token, 25_000)  # at the threshold, no question asked
    w.give(w.link(), 30_000, zip="62701")  # the first five digits of the ZIP+4 on file
    assert [c.amount_cents for c in w.payments.charges] == [25_000, 30_000]


def test_revoking_stops_every_link_issued_before_and_none_after() -> None:
    w = World()
    used, spare = w.link(), w.link()
    w.give(used)
    w.clock.advance(seconds=1)
    w.express.revoke(used)  # a used link may still revoke
    err = refused(lambda: w.give(spare))
    assert err.code == "link_used"
    assert refused(lambda: w.express.confirmation("spring", spare)).code == "link_used"
    w.clock.advance(seconds=1)
    w.give(w.link())  # a receipt's new link works
    w.clock.advance(seconds=1)
    w.express.revoke(w.tokens.issue(DONOR, DONOR_ID))  # a donor token revokes too
    assert refused(lambda: w.give(w.link())).code == "link_used"
    tampered = w.tokens.issue(DONOR, DONOR_ID)[:-4] + "AAAA"
    assert refused(lambda: w.express.revoke(tampered)).code == "bad_token"


def test_the_confirmation_step_changes_nothing_and_refuses_a_used_link() -> None:
    w = World()
    token = w.link()
    shown = w.express.confirmation("spring", token)
    assert shown.card == SavedCard("pm_1", "visa", "4242") and shown.step_up_cents == 25_000
    assert w.store.donations == {} and w.store.used_links == {}
    w.give(token)
    assert refused(lambda: w.express.confirmation("spring", token)).code == "link_used"


def test_a_link_expires_after_its_lifetime() -> None:
    w = World()
    token = w.link()
    w.clock.advance(days=30)
    assert refused(lambda: w.give(token)).code == "token_expired"


def test_a_donor_without_a_saved_card_is_told_so() -> None:
    w = World()
    w.store.donors[DONOR_ID].customer_id = None
    assert refused(lambda: w.give(w.link())).code == "no_saved_card"


def test_another_purposes_token_is_not_an_express_link() -> None:
    w = World()
    assert refused(lambda: w.give(w.tokens.issue(DONOR, DONOR_ID))).code == "bad_token"
    assert refused(lambda: w.give(w.tokens.issue(EXPRESS, DONOR_ID))).code == "bad_token"  # no committee
