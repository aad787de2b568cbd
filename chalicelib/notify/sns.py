"""Verifying Amazon SNS messages (SES bounce and complaint notifications) before trusting them.

SNS signs a canonical string of the message's fields with the private key of a certificate it
serves from `https://sns.<region>.amazonaws.com/…pem` (RSA PKCS#1 v1.5; SHA1 for
SignatureVersion 1, SHA256 for 2). We fetch certificates (and confirm subscriptions) only on
such an origin (`SNS_URL_PATTERN`, which can be loosened on the dev stage only, for local tests),
take the certificate's RSA public key and check the signature.

The check is plain standard library (a small DER reader and RSA verification with `pow`):
`cryptography` would need a Linux wheel newer than the Lambda runtime's glibc.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from chalicelib.errors import Forbidden, InvalidInput, ProviderUnavailable

CertificateFetcher = Callable[[str], bytes]

_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}
_HASHES = {"1": "sha1", "2": "sha256"}
# DER DigestInfo prefixes for EMSA-PKCS1-v1_5 (RFC 8017, section 9.2, note 1).
_DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
}
_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # OID 1.2.840.113549.1.1.1


def fetch_https(url: str) -> bytes:
    """The certificate at `url` (callers have checked the URL against the allowed pattern)."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def _bad(message: str) -> InvalidInput:
    return InvalidInput("bad_signature", message)


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


class SnsVerifier:
    """Checks SNS signatures, with certificates cached per URL for the container's life."""

    def __init__(self, origin_pattern: str, fetch: CertificateFetcher = fetch_https,
                 topics: tuple[str, ...] = (), require_topics: bool = False) -> None:
        self.origin = re.compile(origin_pattern)
        self.fetch = fetch
        self.topics = frozenset(topics)
        self.require_topics = require_topics
        self._keys: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def verify(self, message: Any) -> dict[str, Any]:
        """The message, once its signature proves SNS sent it for one of our topics."""
        if not isinstance(message, dict):
            raise _bad("The body is not an SNS message.")
        hash_name = _HASHES.get(str(message.get("SignatureVersion")))
        if hash_name is None:
            raise _bad("Unknown SNS SignatureVersion.")
        url = message.get("SigningCertURL") or message.get("SigningCertUrl")
        if not isinstance(url, str) or not self.origin.match(url) \
                or not urllib.parse.urlsplit(url).path.endswith(".pem"):
            raise _bad("The signing certificate is not from SNS.")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except ValueError:
            raise _bad("The SNS signature is not base64.") from None
        if not rsa_pkcs1v15_verify(self._key(url), signature, string_to_sign(message), hash_name):
            raise _bad("The SNS signature does not match.")
        topic = message.get("TopicArn")
        if (self.topics or self.require_topics) and topic not in self.topics:
            raise Forbidden("unknown_topic", "Notifications from this topic are not accepted.")
        return message

    def _key(self, url: str) -> tuple[int, int]:
        with self._lock:
            if url not in self._keys:
                try:
                    pem = self.fetch(url)
                except OSError:  # SNS retries a delivery we answer with 5xx
                    raise ProviderUnavailable("try_again", "The SNS certificate could not be fetched.") \
                        from None
                try:
                    self._keys[url] = rsa_public_key(pem)
                except (ValueError, IndexError) as exc:
                    raise _bad(f"The signing certificate could not be read ({type(exc).__name__}).") \
                        from None
            return self._keys[url]

    def confirm_subscription(self, message: dict[str, Any]) -> None:
        """Visit a verified SubscriptionConfirmation's SubscribeURL (on SNS's own host only)."""
        url = str(message.get("SubscribeURL", ""))
        if not self.origin.match(url):
            raise _bad("The SubscribeURL is not on SNS.")
        self.fetch(url)
