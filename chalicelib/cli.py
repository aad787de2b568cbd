"""Staff key management: `python -m chalicelib.cli create-key --role finance --name "Dana"`.

A new key is printed once and stored only as its SHA-256 digest. Revoke by key or by the digest
that `list-keys` shows.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from chalicelib.staff.auth import ROLES, hash_key, new_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", help="create a staff key and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True, help="who holds the key")
    revoke = commands.add_parser("revoke-key", help="revoke a key")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--key")
    which.add_argument("--hash", dest="key_hash")
    commands.add_parser("list-keys", help="list keys (digests, roles, names)")
    args = parser.parse_args(argv)
    from pydantic import ValidationError

    from chalicelib.config import settings

    try:
        settings()
    except ValidationError:
        print("set STAGE (and the stage's AWS credentials) first, e.g. STAGE=prod", file=sys.stderr)
        return 2
    from chalicelib.storage.staff_keys import StaffKeyRepository

    repo = StaffKeyRepository()
    now = datetime.now(timezone.utc)
    if args.command == "create-key":
        key = new_key()
        repo.save(hash_key(key), args.role, args.name, now)
        print(key)
        print(f"role {args.role} for {args.name}; shown once, store it safely", file=sys.stderr)
        return 0
    if args.command == "revoke-key":
        digest = args.key_hash or hash_key(args.key)
        if not repo.revoke(digest, now):
            print("no such key", file=sys.stderr)
            return 1
        print(f"revoked {digest[:12]}…", file=sys.stderr)
        return 0
    for staff_key in sorted(repo.all(), key=lambda k: (k.role, k.name)):
        state = "revoked" if staff_key.revoked else "active"
        print(f"{staff_key.key_hash}\t{staff_key.role}\t{staff_key.name}\t{state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
