"""The donation form's rules, as the intake model enforces them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.giving.intake import DonationRequest
from tests.helpers import donation_body


def errors(body: dict) -> set[str]:
    with pytest.raises(ValidationError) as exc:
        DonationRequest.model_validate(body)
    return {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}


def test_a_complete_donation_is_accepted_and_normalized() -> None:
    body = donation_body(email="  Ana.Rivera@Example.ORG ")
    body["donor"]["address"].update(state="il", zip="62701-1234")
    request = DonationRequest.model_validate(body)
    snapshot = request.donor_snapshot()
    assert snapshot.state == "IL" and snapshot.zip == "627011234"
    assert snapshot.email == "Ana.Rivera@example.org"
    assert snapshot.donor_id == DonationRequest.model_validate(
        donation_body(email="ana.rivera@example.org")).donor_snapshot().donor_id


@pytest.mark.parametrize("amount", [99, 0, -100, 27.5, "2700", True, None])
def test_amount_is_integer_cents_of_at_least_a_dollar(amount: object) -> None:
    assert "amount_cents" in errors(donation_body(amount_cents=amount))


@pytest.mark.parametrize("attestation", ["us_citizen_or_permanent_resident", "own_funds",
                                         "not_federal_contractor", "personal_card"])
def test_every_attestation_must_be_true(attestation: str) -> None:
    body = donation_body()
    body["attestations"][attestation] = False
    assert f"attestations.{attestation}" in errors(body)


@pytest.mark.parametrize(("field", "value"), [("state", "ZZ"), ("zip", "1234"), ("zip", "123456"),
                                              ("zip", "ABCDE")])
def test_address_must_be_a_us_address(field: str, value: str) -> None:
    body = donation_body()
    body["donor"]["address"][field] = value
    assert f"donor.address.{field}" in errors(body)


@pytest.mark.parametrize("field", ["employer", "occupation", "first_name", "last_name"])
def test_required_donor_fields(field: str) -> None:
    body = donation_body()
    body["donor"][field] = "   "
    assert f"donor.{field}" in errors(body)


def test_retired_and_not_employed_are_answers() -> None:
    body = donation_body()
    body["donor"].update(employer="Not employed", occupation="Retired")
    assert DonationRequest.model_validate(body).donor.occupation == "Retired"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "ana@@example.org", ""])
def test_email_must_be_valid(email: str) -> None:
    body = donation_body()
    body["donor"]["email"] = email
    assert "donor.email" in errors(body)


def test_unknown_fields_are_refused() -> None:
    assert "surprise" in errors(donation_body(surprise=1))


def test_fingerprint_ignores_the_idempotency_key_but_not_the_amount() -> None:
    a = DonationRequest.model_validate(donation_body(email="x@example.org", idempotency_key="key-aaaaaaa"))
    b = DonationRequest.model_validate({**a.model_dump(), "idempotency_key": "key-bbbbbbbb"})
    c = DonationRequest.model_validate({**a.model_dump(), "amount_cents": 5000})
    assert a.fingerprint("demo") == b.fingerprint("demo") != c.fingerprint("demo")
