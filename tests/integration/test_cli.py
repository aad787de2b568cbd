"""The staff key CLI: a created key works once shown; a revoked key is refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import page_body, staff

pytestmark = pytest.mark.stack


def cli(local_stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chalicelib.cli", *args], env=local_stack["env"],
                          capture_output=True, text=True, timeout=60, check=False)


def test_create_use_and_revoke_a_key(local_stack, api) -> None:
    created = cli(local_stack, "create-key", "--role", "organizer", "--name", "Field Director")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("gsk_")
    listed = cli(local_stack, "list-keys").stdout
    assert "Field Director" in listed and key not in listed  # only the digest is kept
    assert api.call("POST", "/api/admin/pages", page_body(), staff(key))[0] == 201
    assert cli(local_stack, "revoke-key", "--key", key).returncode == 0
    status, error = api.call("POST", "/api/admin/pages", page_body(), staff(key))
    assert status == 401 and error["error"]["code"] == "unauthenticated"
    assert cli(local_stack, "revoke-key", "--hash", "0" * 64).returncode == 1


def test_a_key_created_with_an_email_gets_sign_in_links_and_revoking_ends_its_sessions(
        local_stack, client) -> None:
    import uuid

    from chalicelib.config import settings
    from chalicelib.staff.auth import email_key, hash_key
    from chalicelib.storage.staff_keys import StaffKeyRepository
    from tests.console_kit import Console

    address = f"dana.{uuid.uuid4().hex[:6]}@example.org"
    created = cli(local_stack, "create-key", "--role", "finance", "--name", "Dana", "--email", address)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    found = StaffKeyRepository().find_by_email(email_key(address.upper(), settings().token_secret))
    assert found is not None and found.key_hash == hash_key(key) and found.email == address
    assert address not in cli(local_stack, "list-keys").stdout
    bad = cli(local_stack, "create-key", "--role", "finance", "--name", "X", "--email", "nope")
    assert bad.returncode == 2
    browser = Console(client)
    assert browser.sign_in_with_key(key).status_code == 303
    assert browser.get("/admin/exports").status_code == 200
    revoked = cli(local_stack, "revoke-key", "--key", key)
    assert revoked.returncode == 0 and "1 console session(s) ended" in revoked.stderr
    assert browser.get("/admin/exports").status_code == 303
