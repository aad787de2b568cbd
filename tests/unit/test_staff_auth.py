"""Staff keys: 401 without a live key, 403 with the wrong role, admin may do anything."""

from __future__ import annotations

import pytest

from chalicelib.errors import Forbidden, Unauthenticated
from chalicelib.staff.auth import StaffKey, authorize, hash_key, new_key


class Keys:
    def __init__(self, *keys: tuple[str, str, bool]) -> None:
        self.keys = {hash_key(k): StaffKey(hash_key(k), role, "t", revoked) for k, role, revoked in keys}

    def find(self, key_hash: str) -> StaffKey | None:
        return self.keys.get(key_hash)


STORE = Keys(("org", "organizer", False), ("fin", "finance", False), ("adm", "admin", False),
             ("old", "organizer", True))


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Basic org", "Bearer nope", "Bearer old"])
def test_no_unknown_or_revoked_key_is_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        authorize(STORE, header, ("organizer",))


def test_wrong_role_is_forbidden() -> None:
    with pytest.raises(Forbidden):
        authorize(STORE, "Bearer fin", ("organizer",))


def test_right_role_and_admin_pass() -> None:
    assert authorize(STORE, "Bearer org", ("organizer",)).role == "organizer"
    assert authorize(STORE, "bearer adm", ("finance",)).role == "admin"


def test_new_keys_are_random_and_only_hashes_are_compared() -> None:
    a, b = new_key(), new_key()
    assert a != b and len(a) > 40
    assert hash_key(a) != a
