"""The FEC's JSON Schemas (fecgov/fecfile-validate, copied verbatim into `schemas/`) and the
`.fec` layouts that follow from them.

Each schema names a record's fields; its `fec_spec.COL_SEQ` is the field's position in the
`.fec` record, so the schema is both the validation rule and the file layout (as in the FEC's
own FECfile+). Forms with no JSON schema (Form 6 and its `F65` lines) use the format's field
order, as the `fecfile` parser reads it. Schemas are read on first use, never at import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

FieldKind = Literal["text", "amount", "date", "flag"]

# The schema whose column order lays out each record, by form type.
_LAYOUT_SCHEMA = {"HDR": "HDR", "F3N": "F3", "F3A": "F3", "F3XN": "F3X", "F3XA": "F3X"}

# Form 6 (48-hour notice of contributions received) and its lines, format 8.4.
F6_FIELDS = (
    "form_type", "filer_committee_id_number", "original_amendment_date", "committee_name",
    "street_1", "street_2", "city", "state", "zip_code", "candidate_id_number",
    "candidate_last_name", "candidate_first_name", "candidate_middle_name", "candidate_prefix",
    "candidate_suffix", "candidate_office", "candidate_state", "candidate_district",
    "signer_last_name", "signer_first_name", "signer_middle_name", "signer_prefix",
    "signer_suffix", "date_signed",
)
F65_FIELDS = (
    "form_type", "filer_committee_id_number", "transaction_id", "entity_type",
    "contributor_organization_name", "contributor_last_name", "contributor_first_name",
    "contributor_middle_name", "contributor_prefix", "contributor_suffix", "contributor_street_1",
    "contributor_street_2", "contributor_city", "contributor_state", "contributor_zip_code",
    "contributor_fec_id", "contribution_date", "contribution_amount", "contributor_employer",
    "contributor_occupation",
)
_F6_KINDS: dict[str, FieldKind] = {"original_amendment_date": "date", "date_signed": "date",
                                   "contribution_date": "date", "contribution_amount": "amount"}


@dataclass(frozen=True)
class Layout:
    """A record's fields in `.fec` order (None where a position has no field) and how each is
    written."""

    fields: tuple[str | None, ...]
    kinds: dict[str, FieldKind]


@cache
def schema(name: str) -> dict[str, Any]:
    """One of the FEC's schemas by file name (`INDIVIDUAL_RECEIPT`, `F3X`, …)."""
    text = resources.files("chalicelib.filing").joinpath("schemas", f"{name}.json").read_text()
    return dict(json.loads(text))


def layout_schema_name(form_type: str) -> str | None:
    """The schema laying out a record of `form_type` (`SA…` rows use SchA, `SB…` SchB)."""
    if form_type in _LAYOUT_SCHEMA:
        return _LAYOUT_SCHEMA[form_type]
    if form_type.startswith("SA"):
        return "SchA"
    if form_type.startswith("SB"):
        return "SchB"
    return None


@cache
def layout(form_type: str) -> Layout:
    """The `.fec` layout of a record of `form_type`."""
    if form_type in ("F6", "F6N", "F6A", "F65"):
        names = F65_FIELDS if form_type == "F65" else F6_FIELDS
        return Layout(names, {f: _F6_KINDS.get(f, "text") for f in names})
    name = layout_schema_name(form_type)
    if name is None:
        raise ValueError(f"no .fec layout for form type {form_type!r}")
    properties: dict[str, Any] = schema(name)["properties"]
    by_position = {p["fec_spec"]["COL_SEQ"]: field for field, p in properties.items()
                   if (p.get("fec_spec") or {}).get("COL_SEQ")}
    fields = tuple(by_position.get(i) for i in range(1, max(by_position) + 1))
    return Layout(fields, {field: _kind(properties[field]) for field in fields if field})


def _kind(prop: dict[str, Any]) -> FieldKind:
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    if "number" in types:
        return "amount"
    if "boolean" in types:
        return "flag"
    if prop.get("pattern") == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$":
        return "date"
    return "text"
