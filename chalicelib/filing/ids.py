"""Transaction ids that stay the same in every build, so amendments line up row for row."""

from __future__ import annotations

import hashlib


def transaction_id(kind: str, source_id: str) -> str:
    """At most 20 uppercase characters: `kind` (two letters, `SA` for a receipt, `SB` for a
    disbursement) + 18 hex digits of SHA-256(`source_id`). The same source always gets the
    same id."""
    return kind + hashlib.sha256(source_id.encode()).hexdigest()[:18].upper()


def child_id(parent_id: str, role: str) -> str:
    """The id of a row that exists because of another (an earmark's memo, an in-kind gift's
    expenditure, a redesignation's two memo entries): derived from the parent and its role."""
    kind = "SB" if role.startswith("SB") else "SA"
    return transaction_id(kind, f"{parent_id}#{role}")
