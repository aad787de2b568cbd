"""Staff authentication: random bearer keys, stored as SHA-256 digests, each with one role."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from chalicelib.errors import Forbidden, Unauthenticated

ROLES = ("organizer", "finance", "admin")
KEY_PREFIX = "gsk_"


@dataclass(frozen=True)
class StaffKey:
    key_hash: str
    role: str
    name: str
    revoked: bool = False
    email: str | None = None


class StaffKeyStore(Protocol):
    def find(self, key_hash: str) -> StaffKey | None: ...


def new_key() -> str:
    """A fresh key to show once; only its digest is stored."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def email_key(email: str, secret: str) -> str:
    """The index key of a staff member's email: keyed, so it cannot be computed from an address
    without the secret, and says nothing about the address."""
    normalized = email.strip().lower()
    return "se_" + hmac.new(secret.encode(), f"staff-email|{normalized}".encode(),
                            hashlib.sha256).hexdigest()[:40]


def may(role: str, allowed: tuple[str, ...]) -> bool:
    """The one role rule: `admin` may do anything a staff role may; others what they are allowed."""
    return role == "admin" or role in allowed


def live_key(store: StaffKeyStore, key: str) -> StaffKey:
    """The staff key `key` if it is known and not revoked (401 otherwise)."""
    found = store.find(hash_key(key.strip())) if key.strip() else None
    if found is None or found.revoked:
        raise Unauthenticated("unauthenticated", "This staff key is unknown or revoked.")
    return found


def authorize(store: StaffKeyStore, authorization: str | None, allowed: tuple[str, ...]) -> StaffKey:
    """The caller's key if it is known, live and has one of the allowed roles.

    `admin` may do anything a staff role may. No or unknown key is 401; wrong role is 403.
    """
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("unauthenticated", "A staff key is required: Authorization: Bearer <key>.")
    found = live_key(store, key)
    if not may(found.role, allowed):
        raise Forbidden("forbidden", f"This route needs the role {' or '.join(allowed)}.")
    return found


class StaffAuth:
    """The role check the views call, over the stored keys."""

    def __init__(self, store: StaffKeyStore) -> None:
        self.store = store

    def authorize(self, authorization: str | None, allowed: tuple[str, ...]) -> StaffKey:
        return authorize(self.store, authorization, allowed)
