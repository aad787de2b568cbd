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
