"""Stripe's rate limit at intake (issue 18), over real connections: the stand-in answers 429 on
demand; intake answers 503 `payment_provider_busy` with Retry-After and writes nothing; the
same request again gives once."""

from __future__ import annotations

import pytest

from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import DonationModel, DonorAggregateModel
from tests.helpers import donation_body, standin_faults

pytestmark = pytest.mark.stack

# The SDK retries a 429 twice (Stripe marks it retryable): three answers make intake give up.
SDK_ATTEMPTS = 3


def aggregates_of(email: str) -> list[DonorAggregateModel]:
    return list(DonorAggregateModel.query(donor_id_for(email)))


def test_a_429_from_stripe_is_503_busy_with_retry_after_and_writes_nothing(api, local_stack) -> None:
    page = api.create_page()
    email = "busy.night@example.org"
    body = donation_body(email=email, idempotency_key="busy-night-0001")
    donations_before = DonationModel.count()
    with standin_faults(local_stack["stripe_url"], rate_limit_next=SDK_ATTEMPTS,
                        paths=["/v1/payment_intents"]) as counts:
        status, answer = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
        assert counts()["rate_limited"] == SDK_ATTEMPTS
    assert status == 503, answer
    assert answer["error"]["code"] == "payment_provider_busy"
    assert api.last_headers["Retry-After"] == "2"
    assert DonationModel.count() == donations_before
    assert aggregates_of(email) == []  # no reservation held, not even an empty aggregate
    # A moment later the same request (the same idempotency key) gives, once.
    status, started = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
    assert status == 201, started
    assert DonationModel.count() == donations_before + 1
    assert [a.reserved_cents for a in aggregates_of(email)] == [body["amount_cents"]]


def test_a_returning_donors_reservation_is_given_back_exactly(api, local_stack) -> None:
    page = api.create_page()
    email = "busy.again@example.org"
    api.donate(page["slug"], email=email, amount_cents=5_000)  # pending: 5,000 reserved
    with standin_faults(local_stack["stripe_url"], rate_limit_next=SDK_ATTEMPTS,
                        paths=["/v1/payment_intents"]):
        status, _ = api.call("POST", f"/api/pages/{page['slug']}/donations",
                             donation_body(email=email, amount_cents=2_700))
    assert status == 503
    (held,) = aggregates_of(email)
    assert (held.reserved_cents, held.exposure_cents) == (5_000, 5_000)


def test_the_busy_answer_takes_the_addresss_counts_back(api, local_stack) -> None:
    """Issue 18: intake counts the address in its own transaction, so taking the donation back
    takes its counts back too: a first intake's counter items are gone again, a returning
    address's counters are where they were."""
    from datetime import datetime, timezone

    from chalicelib import deps
    from chalicelib.giving.velocity import intake_counter_keys
    from chalicelib.storage.models import VelocityModel
    from tests.helpers import unique_ip

    def counters(ip: str, at: datetime) -> list[int | None]:
        keys = intake_counter_keys(ip, at, deps.donation_store().velocity.limits)
        found = {i.counter_key: int(i.hits) for i in VelocityModel.batch_get(list(keys))}
        return [found.get(key) for key in keys]

    slug = api.create_page()["slug"]
    fresh, returning = unique_ip(), unique_ip()
    status, first = api.call("POST", f"/api/pages/{slug}/donations", donation_body(),
                             {"X-Forwarded-For": returning})
    assert status == 201
    counted_at = DonationModel.get(first["donation_id"]).created_at
    assert counters(returning, counted_at) == [1, 1]
    started = datetime.now(timezone.utc)
    for ip in (fresh, returning):
        with standin_faults(local_stack["stripe_url"], rate_limit_next=SDK_ATTEMPTS,
                            paths=["/v1/payment_intents"]):
            status, _ = api.call("POST", f"/api/pages/{slug}/donations", donation_body(),
                                 {"X-Forwarded-For": ip})
        assert status == 503
    for at in (started, datetime.now(timezone.utc)):  # the windows the attempts fell in
        assert counters(fresh, at) == [None, None]  # no item left behind
    assert counters(returning, counted_at) == [1, 1]
