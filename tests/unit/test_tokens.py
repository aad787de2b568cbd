"""Link tokens: one table of purposes and lifetimes, signed, expiring, single-use by nonce."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import tokens
from chalicelib.errors import DomainError
from tests.helpers import tampered_token

SECRET = "unit-test-secret-0123456789"
T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, moment: datetime = T0) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


def test_a_token_reads_back_its_subject_until_it_expires() -> None:
    clock = Clock()
    t = tokens.Tokens(SECRET, clock)
    token = t.issue(tokens.RSVP, "dnr_1.act_2")
    assert t.read(token, tokens.RSVP) == "dnr_1.act_2"
    clock.now += t.lifetime(tokens.RSVP)
    with pytest.raises(DomainError) as err:
        t.read(token, tokens.RSVP)
    assert (err.value.code, err.value.kind) == ("token_expired", "gone")


@pytest.mark.parametrize("mangle", [
    tampered_token,                                                       # signature changed
    lambda tok: "x" + tok[1:],                                            # body changed
    lambda tok: tok.replace(".", ""),                                     # no signature
    lambda tok: "",                                                       # nothing
    lambda tok: "%%%.%%%",                                                # not base64
])
def test_a_tampered_token_is_invalid(mangle) -> None:
    t = tokens.Tokens(SECRET, Clock())
    token = t.issue(tokens.UNSUBSCRIBE, "dnr_1")
    with pytest.raises(DomainError) as err:
        t.read(mangle(token), tokens.UNSUBSCRIBE)
    assert (err.value.code, err.value.kind) == ("bad_token", "invalid")


def test_a_moved_expiry_is_tampering_not_expiry() -> None:
    t = tokens.Tokens(SECRET, Clock())
    token = t.issue(tokens.RSVP, "s")
    fields = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode().split("|")
    fields[2] = str(int(fields[2]) + 86400)  # purpose|issued|expires|nonce|subject
    later = "|".join(fields)
    forged = base64.urlsafe_b64encode(later.encode()).rstrip(b"=").decode() + "." + token.split(".")[1]
    with pytest.raises(DomainError) as err:
        t.read(forged, tokens.RSVP)
    assert err.value.code == "bad_token"


def test_tokens_are_bound_to_purpose_and_secret() -> None:
    t = tokens.Tokens(SECRET, Clock())
    token = t.issue(tokens.UNSUBSCRIBE, "dnr_1")
    with pytest.raises(DomainError):
        t.read(token, tokens.RSVP)
    with pytest.raises(DomainError):
        tokens.Tokens("another-secret-0123456789", Clock()).read(token, tokens.UNSUBSCRIBE)
    with pytest.raises(ValueError):
        tokens.Tokens("", Clock())


def test_share_codes_are_keyed_and_stable() -> None:
    a, b = tokens.Tokens(SECRET), tokens.Tokens("another-secret-0123456789")
    assert a.share_code("dnr_1") == a.share_code("dnr_1") != a.share_code("dnr_2")
    assert a.share_code("dnr_1") != b.share_code("dnr_1")
    assert a.share_code("dnr_1").isalnum()


def test_every_purpose_has_one_lifetime_from_the_table() -> None:
    t = tokens.Tokens(SECRET, Clock())
    for code, purpose in tokens.PURPOSES.items():
        claims = t.claims(t.issue(code, "subject"), code)
        assert claims.expires_at - claims.issued_at == purpose.lifetime
    assert tokens.PURPOSES[tokens.EXPRESS].lifetime <= timedelta(days=30)
    assert tokens.PURPOSES[tokens.SIGNIN].lifetime == timedelta(minutes=15)
    shorter = tokens.Tokens(SECRET, Clock(), lifetimes={tokens.EXPRESS: timedelta(days=7)})
    claims = shorter.claims(shorter.issue(tokens.EXPRESS, "dnr_1", "C1"), tokens.EXPRESS)
    assert claims.expires_at - claims.issued_at == timedelta(days=7)
    with pytest.raises(ValueError):
        tokens.Tokens(SECRET, Clock(), lifetimes={"nonsense": timedelta(days=1)})


def test_single_use_tokens_carry_a_fresh_nonce_and_several_subjects() -> None:
    t = tokens.Tokens(SECRET, Clock())
    first, second = (t.claims(t.issue(tokens.EXPRESS, "dnr_1", "C00123456"), tokens.EXPRESS)
                     for _ in range(2))
    assert first.subjects == ("dnr_1", "C00123456") and first.subject == "dnr_1"
    assert first.nonce and second.nonce and first.nonce != second.nonce
    assert first.use_key == f"express#{first.nonce}" and "dnr_1" not in first.use_key
    reusable = t.claims(t.issue(tokens.RSVP, "inv_1"), tokens.RSVP)
    assert reusable.nonce is None
    with pytest.raises(ValueError):
        _ = reusable.use_key
    for bad in ((), ("a|b",), ("",)):
        with pytest.raises(ValueError):
            t.issue(tokens.RSVP, *bad)
