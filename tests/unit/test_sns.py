"""The SNS verifier (issue 12, finding 9) against real SNS-style messages: signed with a key and
certificate made by `cryptography`, the certificate served over a real local connection through
the verifier's fetch seam (`LocalSns.fetch` sends every URL, whatever its host, to the local
server, as an attacker's own host would answer). Each attack is refused by the verifier's own
checks; none is patched away."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.errors import DomainError
from chalicelib.notify.sns import FAILURE_SECONDS, SnsVerifier
from tests.followups_kit import SNS_TOPIC, LocalSns, now


@pytest.fixture(scope="module")
def sns() -> Iterator[LocalSns]:
    local = LocalSns()
    yield local
    local.close()


@pytest.fixture()
def local(sns: LocalSns) -> LocalSns:
    sns.fetched.clear()
    sns.visited.clear()
    return sns


def verifier(sns: LocalSns, **options: Any) -> SnsVerifier:
    return SnsVerifier((SNS_TOPIC,), fetch=sns.fetch, **options)


def refused(check: SnsVerifier, message: dict[str, Any]) -> str:
    with pytest.raises(DomainError) as err:
        check.verify(message)
    return err.value.code


def test_a_message_signed_with_snss_certificate_verifies(local: LocalSns) -> None:
    check = verifier(local)
    message = local.message("Notification", "{}", Subject="hello")
    assert check.verify(message) is message
    assert local.fetched == [LocalSns.cert_url()]
    # China's partition serves from amazonaws.com.cn
    china = "arn:aws-cn:sns:cn-north-1:123456789012:ses"
    message = local.message("Notification", "{}", topic=china)
    assert message["SigningCertURL"].startswith("https://sns.cn-north-1.amazonaws.com.cn/")
    assert SnsVerifier((china,), fetch=local.fetch).verify(message) is message


def test_forgeries_are_refused(local: LocalSns) -> None:
    check = verifier(local)
    good = local.message("Notification", '{"a": 1}')
    for forged in ({**good, "Message": '{"a": 2}'}, {**good, "Signature": "bm90IGl0"},
                   {**good, "Signature": "***"}, {**good, "Type": "Other"}):
        assert refused(check, forged) == "bad_signature"
    assert refused(check, {**good, "SignatureVersion": "3"}) == "signature_version"


def test_a_topic_not_ours_is_refused_before_any_fetch(local: LocalSns) -> None:
    other = "arn:aws:sns:us-east-1:999999999999:attacker"
    message = local.message("Notification", "{}", topic=other)
    assert refused(verifier(local), message) == "unknown_topic"
    # no allowlist at all accepts nothing
    assert refused(SnsVerifier((), fetch=local.fetch), local.message("Notification", "{}")) == \
        "unknown_topic"
    assert local.fetched == [] and local.visited == []


@pytest.mark.parametrize("url", [
    "https://sns.s3.amazonaws.com/SimpleNotificationService-x.pem",  # an S3 bucket anyone can own
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem",  # not the topic's region
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    "https://sns.us-east-1.amazonaws.com.evil.io/SimpleNotificationService-x.pem",
    "https://evil.io/sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-x.pem",
    "https://evil.io@sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.txt",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem?from=evil",
    "https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-x.pem",  # not the aws-cn partition
])
def test_certificates_come_only_from_sns_in_the_topics_region(local: LocalSns, url: str) -> None:
    # The seam would serve the signing certificate from any of these: only the check refuses them.
    message = local.message("Notification", "{}", cert_url=url)
    assert refused(verifier(local), message) == "untrusted_certificate"
    assert local.fetched == []


def test_a_redirect_is_never_followed(local: LocalSns) -> None:
    url = LocalSns.cert_url(path="/redirect/SimpleNotificationService-test.pem")
    message = local.message("Notification", "{}", cert_url=url)
    check = verifier(local)
    assert refused(check, message) == "untrusted_certificate"
    assert local.visited == ["/redirect/SimpleNotificationService-test.pem"]  # not its target
    # The subscription URL is not followed through a redirect either.
    confirm = local.message("SubscriptionConfirmation", "confirm",
                            SubscribeURL=LocalSns.cert_url(path="/redirect/confirm"))
    with pytest.raises(DomainError) as err:
        check.confirm_subscription(check.verify(confirm))
    assert err.value.code == "untrusted_certificate"
    assert "/confirm" not in local.visited


def test_messages_older_than_an_hour_are_refused(local: LocalSns) -> None:
    check = verifier(local)
    assert check.verify(local.message("Notification", "{}", sent=now() - timedelta(minutes=58)))
    local.fetched.clear()
    for sent in (now() - timedelta(minutes=61), now() - timedelta(days=30), now() + timedelta(minutes=10)):
        assert refused(check, local.message("Notification", "{}", sent=sent)) == "stale_message"
    message = local.message("Notification", "{}")
    assert refused(check, {**message, "Timestamp": "yesterday"}) == "bad_signature"
    assert local.fetched == []


def test_signature_version_1_only_when_allowed(local: LocalSns) -> None:
    v1 = local.message("Notification", "{}", version="1")
    assert refused(verifier(local), v1) == "signature_version"
    assert local.fetched == []
    assert verifier(local, allow_v1=True).verify(v1) is v1


def test_certificates_and_failures_are_cached_per_url(local: LocalSns) -> None:
    clock = [1000.0]
    check = verifier(local, monotonic=lambda: clock[0])
    for _ in range(3):
        check.verify(local.message("Notification", "{}"))
    assert local.fetched == [LocalSns.cert_url()]

    missing = LocalSns.cert_url(path="/missing/SimpleNotificationService-gone.pem")
    for _ in range(3):
        assert refused(check, local.message("Notification", "{}", cert_url=missing)) == \
            "untrusted_certificate"
    assert local.fetched.count(missing) == 1
    clock[0] += FAILURE_SECONDS + 1  # a failure is remembered briefly, then tried again
    assert refused(check, local.message("Notification", "{}", cert_url=missing)) == "untrusted_certificate"
    assert local.fetched.count(missing) == 2
    # SNS failing (5xx) is worth a retry by SNS: 503, cached the same way
    broken = LocalSns.cert_url(path="/broken/SimpleNotificationService-down.pem")
    for _ in range(2):
        assert refused(check, local.message("Notification", "{}", cert_url=broken)) == "try_again"
    assert local.fetched.count(broken) == 1


def test_a_slow_certificate_fetch_does_not_hold_up_another_url(local: LocalSns) -> None:
    slow_url = LocalSns.cert_url(path="/SimpleNotificationService-slow.pem")
    started, release = threading.Event(), threading.Event()

    def fetch(url: str) -> bytes:
        if url == slow_url:
            started.set()
            release.wait(10)
        return local.fetch(url)

    check = SnsVerifier((SNS_TOPIC,), fetch=fetch)
    slow_message = local.message("Notification", "{}", cert_url=slow_url)
    slow = threading.Thread(target=check.verify, args=(slow_message,))
    slow.start()
    try:
        assert started.wait(5)
        done = threading.Event()
        fast_message = local.message("Notification", "{}")
        fast = threading.Thread(target=lambda: (check.verify(fast_message), done.set()))
        fast.start()
        assert done.wait(5), "another URL waited for the slow fetch (a global lock)"
    finally:
        release.set()
        slow.join(10)
