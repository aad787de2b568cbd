"""Every record checked against the FEC's JSON Schemas (Draft 7), as errors and warnings.

A record is checked against the schema of its transaction type (`INDIVIDUAL_RECEIPT`,
`RETURN_RECEIPT`, …; F3, F3X and HDR for the form and header records) and, for schedule rows,
against its schedule's generic schema (`SchA`, `SchB`) too. Two kinds of Form 3 row have no
schema of their own (refunds `SB20A`, operating expenditures `SB17`), and an in-kind gift's
expenditure has none either: each is checked as its Form 3X equivalent (`INDIVIDUAL_REFUNDS`,
`DISBURSEMENTS`), line number aside. The generic schemas require the organization and the
person name fields of every row, which their own spec marks conditional; those conditions are
the transaction schemas' to check, so the generic check leaves them out.

A schema's `fec_recommended` fields that a record lacks are warnings, and so is a contributor
whose employer or occupation is still `INFORMATION REQUESTED`. Each finding names the schema,
the field, the rule (the JSON Schema keyword, or ours) and the transaction it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from chalicelib.filing.schemas import layout_schema_name, schema
from chalicelib.filing.text import INFORMATION_REQUESTED

Severity = Literal["error", "warning"]

# Transaction type → (schema, fields replaced before checking, for types checked as another).
_TYPE_SCHEMAS: dict[str, tuple[str, dict[str, str]]] = {
    "INDIVIDUAL_RECEIPT": ("INDIVIDUAL_RECEIPT", {}),
    "IN_KIND_RECEIPT": ("IN_KIND_RECEIPT", {}),
    "EARMARK_RECEIPT": ("EARMARK_RECEIPT", {}),
    "EARMARK_MEMO": ("EARMARK_MEMO", {}),
    "RETURN_RECEIPT": ("RETURN_RECEIPT", {}),
    "REFUND_INDIVIDUAL_CONTRIBUTION": ("INDIVIDUAL_REFUNDS", {"form_type": "SB28A"}),
    "OPERATING_EXPENDITURE": ("DISBURSEMENTS", {"form_type": "SB21B"}),
    "IN_KIND_OUT": ("DISBURSEMENTS", {"form_type": "SB21B",
                                      "transaction_type_identifier": "OPERATING_EXPENDITURE"}),
}
# Required by the generic schedule schemas, but only for some entity types (their spec says
# "conditional error"); the transaction schemas check those conditions.
_CONDITIONAL = {"SchA": {"contributor_organization_name", "contributor_last_name",
                         "contributor_first_name"},
                "SchB": {"payee_organization_name", "payee_last_name", "payee_first_name"}}
_ELECTION_FIELDS = {"election_code", "date_of_election", "state_of_election"}


@dataclass(frozen=True)
class Finding:
    """One problem with one field of one record. `transaction_id` is the transaction it concerns
    (for a derived row, such as an earmark's memo, the transaction it comes from) and
    `record_id` the row's own id in the file."""

    severity: Severity
    schema: str
    field: str
    rule: str
    message: str
    form_type: str
    transaction_id: str | None = None
    record_id: str | None = None

    def view(self) -> dict[str, Any]:
        return {"schema": self.schema, "field": self.field, "rule": self.rule,
                "message": self.message, "form_type": self.form_type,
                "transaction_id": self.transaction_id, "record_id": self.record_id}


@dataclass(frozen=True)
class Findings:
    errors: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(records: Iterable[Mapping[str, Any]], sources: Mapping[str, str] | None = None) -> Findings:
    """Check each record; `sources` maps a row's transaction id to the transaction it comes from."""
    errors: list[Finding] = []
    warnings: list[Finding] = []
    for record in records:
        for finding in check(record, (sources or {}).get(str(record.get("transaction_id")))):
            (errors if finding.severity == "error" else warnings).append(finding)
    return Findings(tuple(errors), tuple(warnings))


def check(record: Mapping[str, Any], source_id: str | None = None) -> list[Finding]:
    """The findings for one record (none when it is valid and complete)."""
    form_type = str(record.get("form_type") or record.get("record_type") or "")
    record_id = record.get("transaction_id")
    concerns = source_id or record_id

    def finding(severity: Severity, schema_name: str, field: str, rule: str, message: str) -> Finding:
        return Finding(severity, schema_name, field, rule, message, form_type, concerns, record_id)

    txn_type = record.get("transaction_type_identifier")
    if txn_type and str(txn_type) not in _TYPE_SCHEMAS:
        return [finding("error", "(none)", "transaction_type_identifier", "transaction_type",
                        f"no FEC schema for transaction type {txn_type!r}")]
    out: list[Finding] = []
    for name, checked in _schemas_for(record):
        for error in _validator(name).iter_errors(checked):
            field = ".".join(str(p) for p in error.path)
            if error.validator == "required":
                field = str(error.message).split("'")[1]
                if field in _CONDITIONAL.get(name, ()):
                    continue
            out.append(finding("error", name, field or "(record)", str(error.validator),
                               str(error.message)[:300]))
    own = _own_schema(record)
    if own:
        election_report = str(record.get("report_code", "")).startswith(("12", "30"))
        for field in schema(own).get("fec_recommended") or ():
            if field in _ELECTION_FIELDS and not election_report:
                continue  # the spec asks for the election only on pre- and post-election reports
            if record.get(field) in (None, ""):
                out.append(finding("warning", own, field, "fec_recommended",
                                   f"{field} is recommended by the FEC"))
    for field in ("contributor_employer", "contributor_occupation"):
        if record.get(field) == INFORMATION_REQUESTED and not record.get("memo_code"):
            out.append(finding("warning", own or form_type, field, "best_efforts",
                               f"{field} not given yet: best efforts to obtain it are under way"))
    return out


def _schemas_for(record: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The schemas a record is checked against, each with the record as that schema sees it."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    txn_type = record.get("transaction_type_identifier")
    if txn_type:
        name, replaced = _TYPE_SCHEMAS[str(txn_type)]
        out.append((name, {**record, **replaced}))
    generic = layout_schema_name(str(record.get("form_type") or record.get("record_type") or ""))
    if generic:
        out.append((generic, record))
    return out


def _own_schema(record: Mapping[str, Any]) -> str | None:
    txn_type = record.get("transaction_type_identifier")
    if txn_type:
        return _TYPE_SCHEMAS[str(txn_type)][0]
    return layout_schema_name(str(record.get("form_type") or record.get("record_type") or ""))


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(schema(name))
