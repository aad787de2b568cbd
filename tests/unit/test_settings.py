"""The settings object: typed, STAGE required, lenient only on a local dev stage."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.settings import DEV_SECRETS, Settings

PROD_SECRETS = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
                "STRIPE_WEBHOOK_SECRET": "whsec_x", "TOKEN_SECRET": "a-long-enough-prod-secret",
                "IDENTITY_SECRET": "another-long-enough-prod-secret"}


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean environment: none of the suite's or the shell's settings leak in."""
    import os

    for name in list(os.environ):
        if name.isupper() and name not in ("PATH", "HOME", "LANG", "TMPDIR"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_stage_is_required(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as err:
        Settings()  # type: ignore[call-arg]
    assert [e["loc"] for e in err.value.errors()] == [("stage",)]


def test_dev_defaults_only_on_a_local_dev_stage(env: pytest.MonkeyPatch) -> None:
    env.setenv("STAGE", "dev")
    env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    local = Settings()  # type: ignore[call-arg]
    assert local.local_dev and local.token_secret == DEV_SECRETS["token_secret"]
    assert local.problems() == []
    # The dev stage against anything but a loopback endpoint (real AWS, another host) gets none.
    for endpoint in ("", "https://dynamodb.us-east-1.amazonaws.com", "http://10.0.0.5:5000",
                     "http://127.0.0.1.evil.example:5000"):
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        remote = Settings()  # type: ignore[call-arg]
        assert not remote.local_dev
        assert (remote.token_secret, remote.stripe_webhook_secret, remote.stripe_secret_key,
                remote.identity_secret) == ("", "", "", "")
        assert "TOKEN_SECRET is not set" in remote.problems()


def test_outside_local_dev_nothing_loosens(env: pytest.MonkeyPatch) -> None:
    env.setenv("STAGE", "prod")
    env.setenv("TRUST_X_FORWARDED_FOR", "1")
    s = Settings()  # type: ignore[call-arg]
    assert s.trust_forwarded_for is False


def test_problems_name_each_setting_and_never_a_value(env: pytest.MonkeyPatch) -> None:
    env.setenv("STAGE", "prod")
    assert set(Settings().problems()) == {  # type: ignore[call-arg]
        "STRIPE_SECRET_KEY is not set", "STRIPE_PUBLISHABLE_KEY is not set",
        "STRIPE_WEBHOOK_SECRET is not set", "TOKEN_SECRET is not set", "IDENTITY_SECRET is not set",
        "PUBLIC_BASE_URL is not an https URL",
        "SES_NOTIFICATION_TOPICS is empty (no SNS topic would be trusted)"}
    for name, value in PROD_SECRETS.items():
        env.setenv(name, value)
    env.setenv("TOKEN_SECRET", "s3cr3t")
    env.setenv("PUBLIC_BASE_URL", "https://give.example.org")
    env.setenv("SES_NOTIFICATION_TOPICS", " arn:aws:sns:us-east-1:1:ses , arn:aws:sns:us-east-1:1:b ,")
    s = Settings()  # type: ignore[call-arg]
    assert s.problems() == ["TOKEN_SECRET is shorter than 16 characters"]
    assert not any("s3cr3t" in p for p in s.problems())
    assert s.ses_notification_topics == ("arn:aws:sns:us-east-1:1:ses", "arn:aws:sns:us-east-1:1:b")
    env.setenv("TOKEN_SECRET", PROD_SECRETS["TOKEN_SECRET"])
    assert Settings().problems() == []  # type: ignore[call-arg]


def test_values_are_typed_and_checked(env: pytest.MonkeyPatch) -> None:
    env.setenv("STAGE", "prod")
    env.setenv("COUNTER_SHARDS", "32")
    env.setenv("AWS_DEFAULT_REGION", "us-west-2")
    env.setenv("EXPRESS_LINK_TTL_DAYS", "")  # empty means unset
    s = Settings()  # type: ignore[call-arg]
    assert (s.counter_shards, s.region, s.express_link_ttl_days) == (32, "us-west-2", 30)
    env.setenv("AWS_REGION", "eu-west-1")
    assert Settings().region == "eu-west-1"  # type: ignore[call-arg]
    for name, bad in (("COUNTER_SHARDS", "0"), ("COUNTER_SHARDS", "many"), ("STAGE", "Prod!")):
        env.setenv(name, bad)
        with pytest.raises(ValidationError):
            Settings()  # type: ignore[call-arg]
        env.setenv(name, "prod" if name == "STAGE" else "20")
