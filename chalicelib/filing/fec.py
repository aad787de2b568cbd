"""The one writer of FEC files: records (dicts in the FEC's JSON field names) to a `.fec` file
(format 8.4) and to JSON Lines.

A record is the JSON object the FEC's schemas describe: amounts are dollars as JSON numbers
(made from cents by `money.dollars`), dates `YYYY-MM-DD`, memo codes booleans, and a field with
no value is left out. The `.fec` record places the same values in the schema's column order
(`schemas.layout`), separated by ASCII 28: amounts with two decimals computed back from cents,
dates `YYYYMMDD`, a true flag `X`. One record per line, LF line ends, ASCII only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.filing.money import cents_of, dollars_text
from chalicelib.filing.schemas import FieldKind, layout

FEC_VERSION = "8.4"
SEPARATOR = "\x1c"


def fec_line(record: Mapping[str, Any]) -> str:
    """One `.fec` record (no line end)."""
    spec = layout(str(record["form_type"] if "form_type" in record else record["record_type"]))
    return SEPARATOR.join("" if field is None else _value(spec.kinds[field], record.get(field))
                          for field in spec.fields)


def fec_bytes(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Records as the bytes of a `.fec` file (the first one its `HDR`)."""
    return lines_bytes([fec_line(r) for r in records])


def lines_bytes(lines: Iterable[str]) -> bytes:
    """`.fec` records as bytes: ASCII, one per line, LF line ends (for files written in parts)."""
    return "".join(line + "\n" for line in lines).encode("ascii", errors="replace")


def jsonl_line(record: Mapping[str, Any]) -> bytes:
    """One record as a JSON Lines line."""
    return json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"


def jsonl_bytes(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Records as JSON Lines: one object per record, in the FEC's field names."""
    return b"".join(jsonl_line(r) for r in records)


def _value(kind: FieldKind, value: Any) -> str:
    if value is None:
        return ""
    if kind == "flag" or isinstance(value, bool):
        return "X" if value else ""
    if kind == "amount" and isinstance(value, int | float):
        return dollars_text(cents_of(value))
    if kind == "date":
        return str(value).replace("-", "")  # YYYY-MM-DD → YYYYMMDD
    return _clean(str(value))


def _clean(value: str) -> str:
    # The separator and line ends must never appear inside a field; text is ASCII already.
    return value.replace(SEPARATOR, " ").replace("\r", " ").replace("\n", " ")
