"""Donor ids and identity keys are keyed with IDENTITY_SECRET (issue 12, finding 10): whoever
sees an id (a log, an export, a URL) cannot confirm a guessed email address by hashing it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from chalicelib.config import settings
from chalicelib.giving.model import DonorSnapshot, donor_id_for, identity_keys, name_key


@pytest.fixture()
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change IDENTITY_SECRET for one test (settings re-read before and after)."""
    settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    settings.cache_clear()


def snapshot(email: str) -> DonorSnapshot:
    return DonorSnapshot(email=email, first_name="Ana", last_name="Rivera", zip="62701",
                         address_line1="1 Main St", city="Springfield", state="IL",
                         employer="Acme", occupation="Engineer")


def test_a_donor_id_cannot_be_computed_from_the_email() -> None:
    email = "Ana.Rivera@Example.org "
    guessed = "dnr_" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    assert donor_id_for(email) != guessed
    assert donor_id_for(email) == donor_id_for("ana.rivera@example.org")  # still one donor per address
    email_key, by_name = identity_keys(snapshot(email))
    assert by_name != "name#" + hashlib.sha256(b"rivera|ana|62701").hexdigest()[:32]
    assert name_key("Rivera") != "nm_" + hashlib.sha256(b"rivera").hexdigest()[:32]
    assert email_key == f"email#{donor_id_for(email)}"


def test_the_ids_depend_on_the_secret(secret: pytest.MonkeyPatch) -> None:
    before = donor_id_for("ana@example.org"), identity_keys(snapshot("ana@example.org"))
    secret.setenv("IDENTITY_SECRET", "another-identity-secret-0123456789")
    settings.cache_clear()
    after = donor_id_for("ana@example.org"), identity_keys(snapshot("ana@example.org"))
    assert before[0] != after[0] and before[1][1] != after[1][1]


def test_without_the_secret_no_id_is_made(secret: pytest.MonkeyPatch) -> None:
    secret.delenv("IDENTITY_SECRET")
    # Not a local dev stage (the dev default would apply there), whatever the suite ran before:
    # the integration tests' local stack points AWS_ENDPOINT_URL at loopback.
    secret.delenv("AWS_ENDPOINT_URL", raising=False)
    settings.cache_clear()
    assert not settings().local_dev and "IDENTITY_SECRET is not set" in settings().problems()
    with pytest.raises(RuntimeError, match="IDENTITY_SECRET"):
        donor_id_for("ana@example.org")
