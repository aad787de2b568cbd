"""Verifying Amazon SNS messages (SES bounce and complaint notifications) before trusting them.

SNS signs a canonical string of the message's fields with the private key of a certificate it
serves from `https://sns.<region>.amazonaws.com/…pem` (RSA PKCS#1 v1.5; SHA256 for
SignatureVersion 2, SHA1 for 1). The checks run cheapest and least trusting first, so that
nothing a stranger sends makes us fetch anything:

1. the topic (`TopicArn`) is one of ours (`SES_NOTIFICATION_TOPICS`; none configured, none
   accepted), else 403;
2. `SignatureVersion` is 2 (1 only when `SNS_ALLOW_SIGNATURE_V1` is set);
3. `Timestamp` is less than an hour old (and not more than five minutes ahead of our clock);
4. `SigningCertURL` is `https://sns.<the topic's region>.amazonaws.com/….pem` exactly (`.com.cn`
   in the `aws-cn` partition): no other host (not `sns.s3.amazonaws.com`, an S3 bucket anyone
   can name), no port, no user, no query;
5. the certificate is fetched without following redirects and cached per URL (a failure for a
   minute, so a bad URL costs one fetch a minute, not one per delivery); there is no global lock,
   only one per URL so that one URL is fetched once at a time;
6. the signature is checked with the certificate's RSA key.

The RSA check is plain standard library (a small DER reader and `pow`), not `cryptography`:
cryptography's manylinux2014 wheel (which does run on the python3.11 Lambda runtime) adds about
4.9 MB compressed with cffi, and the deployment zip (9.1 MB) would pass its 10 MB budget.
Tests sign with keys and certificates made by `cryptography`, so the two agree. See
docs/reliability.md, "The SNS verifier".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.errors import DomainError, Forbidden, InvalidInput, ProviderUnavailable

CertificateFetcher = Callable[[str], bytes]

MAX_AGE = timedelta(hours=1)  # SNS retries for up to an hour; an older message is a replay
MAX_AHEAD = timedelta(minutes=5)  # clock skew
CERTIFICATE_SECONDS = 24 * 3600.0  # SNS rotates certificates under new URLs
FAILURE_SECONDS = 60.0
CACHED_URLS = 64
MAX_CERTIFICATE_BYTES = 64 * 1024

_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}
_TOPIC_ARN = re.compile(r"arn:(aws|aws-cn|aws-us-gov):sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}")
# DER DigestInfo prefixes for EMSA-PKCS1-v1_5 (RFC 8017, section 9.2, note 1).
_DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
}
_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # OID 1.2.840.113549.1.1.1


class CertificateRedirected(Exception):
    """The certificate URL answered with a redirect (which we never follow)."""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        raise CertificateRedirected(f"redirect {code}")


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def fetch_https(url: str) -> bytes:
    """GET `url` (the verifier has checked it), never following a redirect, at most 64 KB."""
    with _OPENER.open(url, timeout=5) as response:
        body = bytes(response.read(MAX_CERTIFICATE_BYTES + 1))
    if len(body) > MAX_CERTIFICATE_BYTES:
        raise ValueError("certificate too large")
    return body


def _bad(message: str, code: str = "bad_signature") -> InvalidInput:
    return InvalidInput(code, message)


def _unfetched(status: int) -> DomainError:
    """SNS itself failing is worth a retry (5xx); no certificate at that URL is the sender's fault."""
    if status >= 500:
        return ProviderUnavailable("try_again", "The SNS certificate could not be fetched.")
    return _bad(f"No SNS certificate at that URL ({status}).", "untrusted_certificate")


# --- a minimal DER reader: just enough to find an X.509 certificate's RSA public key ------------
def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `at`."""
    tag = data[at]
    length = data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at:at + count], "big")
        at += count
    end = at + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, at, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found = []
    while start < end:
        tag, value, stop = _tlv(data, start)
        found.append((tag, value, stop))
        start = stop
    return found


def rsa_public_key(pem: bytes) -> tuple[int, int]:
    """(modulus, exponent) of the RSA key in a PEM X.509 certificate."""
    text = pem.decode("ascii", "replace")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", text, re.S)
    if not match:
        raise ValueError("not a PEM certificate")
    der = base64.b64decode("".join(match.group(1).split()))
    _, cert_start, cert_end = _tlv(der, 0)
    _, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
    fields = _children(der, tbs_start, tbs_end)
    # tbsCertificate: [0] version (optional), serial, signature alg, issuer, validity, subject, SPKI
    offset = 1 if fields[0][0] == 0xA0 else 0
    _, spki_start, spki_end = fields[offset + 5]
    algorithm, bit_string = _children(der, spki_start, spki_end)[:2]
    oid = _children(der, algorithm[1], algorithm[2])[0]
    if der[oid[1]:oid[2]] != _RSA_ENCRYPTION:
        raise ValueError("not an RSA key")
    key = der[bit_string[1] + 1:bit_string[2]]  # skip the unused-bits byte
    _, seq_start, seq_end = _tlv(key, 0)
    (_, n_start, n_end), (_, e_start, e_end) = _children(key, seq_start, seq_end)[:2]
    return int.from_bytes(key[n_start:n_end], "big"), int.from_bytes(key[e_start:e_end], "big")


def rsa_pkcs1v15_verify(key: tuple[int, int], signature: bytes, message: bytes, hash_name: str) -> bool:
    n, e = key
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    encoded = pow(s, e, n).to_bytes(size, "big")
    digest = _DIGEST_INFO[hash_name] + hashlib.new(hash_name, message).digest()
    padding = size - len(digest) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest
    return hmac.compare_digest(encoded, expected)


def string_to_sign(message: dict[str, Any]) -> bytes:
    """SNS's canonical form: `Name\\nValue\\n` for each signed field present, in order."""
    names = _FIELDS.get(str(message.get("Type")))
    if names is None:
        raise _bad("Not an SNS message type we know.")
    parts = []
    for name in names:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue
            raise _bad(f"The SNS message lacks {name}.")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode()


def sns_host(topic_arn: str) -> str:
    """The one host that serves certificates for the topic: SNS's endpoint in its region."""
    match = _TOPIC_ARN.fullmatch(topic_arn)
    if match is None:
        raise _bad("The TopicArn is not an SNS topic.")
    partition, region = match.groups()
    return f"sns.{region}.amazonaws.com" + (".cn" if partition == "aws-cn" else "")


def _on_host(url: object, host: str) -> urllib.parse.SplitResult | None:
    if not isinstance(url, str):
        return None
    parts = urllib.parse.urlsplit(url)
    # netloc compared whole: no port, no user info, no other host spelled around it
    if parts.scheme != "https" or parts.netloc != host or "\\" in url:
        return None
    return parts


@dataclass(frozen=True)
class _Cached:
    until: float
    key: tuple[int, int] | None = None
    error: DomainError | None = None


class SnsVerifier:
    """Checks SNS messages for our topics; certificates (and failures, briefly) cached per URL."""

    def __init__(self, topics: tuple[str, ...], *, allow_v1: bool = False,
                 fetch: CertificateFetcher = fetch_https,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.topics = frozenset(topics)
        self.hashes = {"2": "sha256", **({"1": "sha1"} if allow_v1 else {})}
        self.fetch = fetch
        self.clock = clock
        self.monotonic = monotonic
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()  # held only to find a URL's lock, never to fetch

    def verify(self, message: Any) -> dict[str, Any]:
        """The message, once its signature proves SNS sent it for one of our topics."""
        if not isinstance(message, dict):
            raise _bad("The body is not an SNS message.")
        topic = message.get("TopicArn")
        if topic not in self.topics:
            raise Forbidden("unknown_topic", "Notifications from this topic are not accepted.")
        hash_name = self.hashes.get(str(message.get("SignatureVersion")))
        if hash_name is None:
            raise _bad("This SNS SignatureVersion is not accepted (2 is required).",
                       "signature_version")
        self._check_time(message.get("Timestamp"))
        url = message.get("SigningCertURL") or message.get("SigningCertUrl")
        parts = _on_host(url, sns_host(str(topic)))
        if parts is None or not parts.path.endswith(".pem") or parts.query or parts.fragment:
            raise _bad("The signing certificate is not from SNS in the topic's region.",
                       "untrusted_certificate")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except ValueError:
            raise _bad("The SNS signature is not base64.") from None
        signed = string_to_sign(message)
        if not rsa_pkcs1v15_verify(self._key(str(url)), signature, signed, hash_name):
            raise _bad("The SNS signature does not match.")
        return message

    def _check_time(self, stamp: object) -> None:
        try:
            sent = datetime.fromisoformat(str(stamp))
        except ValueError:
            raise _bad("The SNS Timestamp is not a time.") from None
        if sent.tzinfo is None:
            raise _bad("The SNS Timestamp has no time zone.")
        age = self.clock() - sent
        if age > MAX_AGE or age < -MAX_AHEAD:
            raise _bad("The SNS message is more than an hour old (or from the future).",
                       "stale_message")

    def _key(self, url: str) -> tuple[int, int]:
        cached = self._fresh(url)
        if cached is None:
            with self._lock_for(url):
                cached = self._fresh(url) or self._load(url)  # another thread may have loaded it
        if cached.error is not None:
            raise cached.error
        assert cached.key is not None
        return cached.key

    def _fresh(self, url: str) -> _Cached | None:
        cached = self._cache.get(url)
        return cached if cached is not None and cached.until > self.monotonic() else None

    def _lock_for(self, url: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(url, threading.Lock())

    def _load(self, url: str) -> _Cached:
        now = self.monotonic()
        try:
            entry = _Cached(now + CERTIFICATE_SECONDS, key=rsa_public_key(self.fetch(url)))
        except CertificateRedirected:
            entry = _Cached(now + FAILURE_SECONDS, error=_bad(
                "The signing certificate URL redirects.", "untrusted_certificate"))
        except urllib.error.HTTPError as exc:
            entry = _Cached(now + FAILURE_SECONDS, error=_unfetched(exc.code))
        except OSError:  # unreachable or timed out: SNS retries a 5xx
            entry = _Cached(now + FAILURE_SECONDS, error=ProviderUnavailable(
                "try_again", "The SNS certificate could not be fetched."))
        except (ValueError, IndexError) as exc:
            entry = _Cached(now + FAILURE_SECONDS, error=_bad(
                f"The signing certificate could not be read ({type(exc).__name__}).",
                "untrusted_certificate"))
        self._cache[url] = entry
        self._cache.move_to_end(url)
        while len(self._cache) > CACHED_URLS:
            self._cache.popitem(last=False)
        with self._locks_guard:
            if len(self._locks) > CACHED_URLS:
                self._locks = {u: lock for u, lock in self._locks.items() if u in self._cache}
        return entry

    def confirm_subscription(self, message: dict[str, Any]) -> None:
        """Visit a verified SubscriptionConfirmation's SubscribeURL (on the topic's SNS host only)."""
        url = message.get("SubscribeURL")
        if _on_host(url, sns_host(str(message.get("TopicArn")))) is None:
            raise _bad("The SubscribeURL is not on SNS in the topic's region.", "untrusted_certificate")
        try:
            self.fetch(str(url))
        except CertificateRedirected:
            raise _bad("The SubscribeURL redirects.", "untrusted_certificate") from None
        except urllib.error.HTTPError as exc:
            raise _unfetched(exc.code) from None
        except OSError:
            raise ProviderUnavailable("try_again", "SNS could not be reached to confirm.") from None
