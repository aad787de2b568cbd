"""A CSV file of contributions finance received off the pages (docs/reports.md, "Import a
file"): its documented header, each row read into the single entry's model
(`giving.offline.OfflineContribution`), each problem tied to the row's line number. Imported
only by the routes that take a file (pydantic, like offline.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chalicelib.errors import DomainError, InvalidInput, invalid_fields
from chalicelib.giving.offline import OfflineContribution

# The header, in this order or any other; every column is optional but the required fields of
# the entry (docs/reports.md lists what each means). Empty cells are "not given".
COLUMNS: tuple[str, ...] = (
    "committee_id", "method", "amount_cents", "received_on", "election", "reference",
    "deposit_batch", "in_kind_description", "idempotency_key",
    "first_name", "last_name", "email", "phone", "address_line1", "address_line2", "city",
    "state", "zip", "employer", "occupation",
    "conduit_name", "conduit_fec_id", "conduit_address_line1", "conduit_address_line2",
    "conduit_city", "conduit_state", "conduit_zip",
)
REQUIRED_COLUMNS = ("committee_id", "method", "amount_cents", "received_on")
_ENTRY = ("committee_id", "method", "received_on", "election", "reference", "deposit_batch",
          "in_kind_description")
_DONOR = ("first_name", "last_name", "email", "phone", "employer", "occupation")
_ADDRESS = {"line1": "address_line1", "line2": "address_line2", "city": "city",
            "state": "state", "zip": "zip"}
# What a row with no idempotency key is keyed by: its content's digest (the entry's own
# fingerprint, which leaves the key out), so the same row imported again is the same gift.
DERIVED_KEY_PREFIX = "csv-"
_PLACEHOLDER_KEY = "csv-derived-later"


@dataclass(frozen=True)
class RowError:
    """One problem of one row: the file's line number (the header is line 1) and the error in
    the API's terms (its code, message, fields and, for a legal rule, the rule)."""

    line: int
    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    rule: str | None = None

    @classmethod
    def of(cls, line: int, error: DomainError) -> RowError:
        rule = error.extra.get("rule")
        return cls(line, error.code, error.message, dict(error.fields),
                   str(rule) if rule is not None else None)

    def view(self) -> dict[str, Any]:
        view: dict[str, Any] = {"line": self.line, "code": self.code, "message": self.message,
                                "fields": self.fields}
        if self.rule:
            view["rule"] = self.rule
        return view


@dataclass(frozen=True)
class ImportRow:
    """A row read: its line, and the entry it is (or why it is none)."""

    line: int
    entry: OfflineContribution | None = None
    error: RowError | None = None
    derived_key: bool = False


def read_rows(data: bytes, max_rows: int) -> list[ImportRow]:
    """Every data row of the file. A file that is not a CSV of this header, or has more than
    `max_rows` rows, is refused whole (400); a row's own problems are kept with its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("invalid_csv", "The file is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise InvalidInput("invalid_csv", "The file is empty: its first line is the header.",
                               fields={"header": "required"})
        unknown = [n for n in header if n not in COLUMNS]
        missing = [n for n in REQUIRED_COLUMNS if n not in header]
        if unknown or missing or len(set(header)) != len(header):
            fields = {**{n: "not a column of the import" for n in unknown},
                      **{n: "required column" for n in missing}}
            raise InvalidInput("invalid_csv", "The header does not match the documented columns.",
                               fields=fields or {"header": "a column is repeated"})
        rows: list[ImportRow] = []
        while True:
            line = reader.line_num + 1  # where the next record begins (a cell may span lines)
            cells = next(reader, None)
            if cells is None:
                break
            if not any(c.strip() for c in cells):
                continue  # a blank line
            if len(rows) >= max_rows:
                raise InvalidInput("too_many_rows", f"A file may hold at most {max_rows} rows; "
                                   "split it and import each part.",
                                   fields={"file": f"at most {max_rows} rows"})
            rows.append(read_row(line, header, cells))
    except csv.Error as exc:
        raise InvalidInput("invalid_csv", f"Line {reader.line_num}: {exc}.") from None
    if not rows:
        raise InvalidInput("invalid_csv", "The file has a header and no rows.",
                           fields={"file": "no rows"})
    return rows


def read_row(line: int, header: Sequence[str], values: Sequence[str]) -> ImportRow:
    """One row as the single entry's model; a row with no `idempotency_key` gets one derived
    from its content."""
    if len(values) > len(header):
        return ImportRow(line, error=RowError(line, "invalid_request",
                                              "The row has more cells than the header.",
                                              {"row": "more cells than columns"}))
    cells = {name: value.strip() for name, value in zip(header, values, strict=False)}
    body = entry_body(cells)
    derived = "idempotency_key" not in body
    if derived:
        body["idempotency_key"] = _PLACEHOLDER_KEY
    try:
        entry = OfflineContribution.model_validate(body)
    except ValidationError as exc:
        error = invalid_fields(exc.errors(include_url=False, include_input=False))
        return ImportRow(line, error=RowError.of(line, error))
    if derived:
        entry = entry.model_copy(update={
            "idempotency_key": DERIVED_KEY_PREFIX + entry.fingerprint()[:48]})
    return ImportRow(line, entry=entry, derived_key=derived)


def entry_body(cells: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of the single entry that a row's cells stand for (empty cells left out,
    the donor and the conduit as their nested objects)."""
    body: dict[str, Any] = {k: cells[k] for k in _ENTRY if cells.get(k)}
    if cells.get("idempotency_key"):
        body["idempotency_key"] = cells["idempotency_key"]
    if cells.get("amount_cents"):
        amount = cells["amount_cents"]
        body["amount_cents"] = int(amount) if amount.isdigit() else amount
    donor: dict[str, Any] = {k: cells[k] for k in _DONOR if cells.get(k)}
    address = {k: cells[c] for k, c in _ADDRESS.items() if cells.get(c)}
    if address:
        donor["address"] = address
    if donor:
        body["donor"] = donor
    conduit: dict[str, Any] = {}
    if cells.get("conduit_name"):
        conduit["name"] = cells["conduit_name"]
    if cells.get("conduit_fec_id"):
        conduit["fec_id"] = cells["conduit_fec_id"]
    conduit_address = {k: cells["conduit_" + c] for k, c in _ADDRESS.items()
                       if cells.get("conduit_" + c)}
    if conduit_address:
        conduit["address"] = conduit_address
    if conduit:
        body["conduit"] = conduit
    return body


def column_of(path: str) -> str:
    """The column (and the console form's field) an entry's error path is about:
    `donor.address.zip` is `zip`, `conduit.address.city` is `conduit_city`."""
    parts = path.split(".")
    if parts[0] in ("donor", "conduit") and len(parts) > 1:
        prefix = "conduit_" if parts[0] == "conduit" else ""
        if parts[1] == "address" and len(parts) > 2:
            return prefix + _ADDRESS.get(parts[2], parts[2])
        return prefix + parts[1]
    return parts[0]
