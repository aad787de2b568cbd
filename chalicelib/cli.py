"""Staff key management: `python -m chalicelib.cli create-key --role finance --name "Dana"
--email dana@example.org`.

A new key is printed once and stored only as its SHA-256 digest; `--email` registers the address
the console's sign-in links go to (found by a keyed digest of it). Revoke by key or by the digest
that `list-keys` shows: revoking also ends the key's console sessions.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from chalicelib.staff.auth import ROLES, email_key, hash_key, new_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", help="create a staff key and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True, help="who holds the key")
    create.add_argument("--email", help="where the console's sign-in links go")
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
        address = (args.email or "").strip() or None
        if address is not None and ("@" not in address or len(address) > 254):
            print("--email must be an email address", file=sys.stderr)
            return 2
        digest = None
        if address is not None:
            from chalicelib.config import ensure_secrets

            ensure_secrets()  # the email's index key is keyed with TOKEN_SECRET
            secret = settings().token_secret
            if len(secret) < 16:
                print("TOKEN_SECRET is needed to register an email", file=sys.stderr)
                return 2
            digest = email_key(address, secret)
        repo.save(hash_key(key), args.role, args.name, now, email=address, email_key=digest)
        print(key)
        print(f"role {args.role} for {args.name}; shown once, store it safely", file=sys.stderr)
        return 0
    if args.command == "revoke-key":
        digest = args.key_hash or hash_key(args.key)
        if not repo.revoke(digest, now):
            print("no such key", file=sys.stderr)
            return 1
        from chalicelib import deps

        ended = deps.console_sessions().end_all(digest)
        print(f"revoked {digest[:12]}…; {ended} console session(s) ended", file=sys.stderr)
        return 0
    for staff_key in sorted(repo.all(), key=lambda k: (k.role, k.name)):
        state = "revoked" if staff_key.revoked else "active"
        print(f"{staff_key.key_hash}\t{staff_key.role}\t{staff_key.name}\t{state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
