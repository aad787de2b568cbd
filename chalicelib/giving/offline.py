"""What finance enters for a contribution received off the pages (a check, cash, a wire, an
in-kind gift, or one forwarded by a conduit), validated with pydantic. Imported only by its
routes (the single entry and the CSV import)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StrictInt, model_validator

from chalicelib.giving.intake import (
    MAX_DONATION_CENTS,
    AddressInput,
    AttestationsInput,
    DonorInput,
    DonorText,
    ElectionCode,
    _Strict,
)
from chalicelib.giving.model import Conduit, DonorSnapshot

OfflineMethod = Literal["check", "cash", "wire", "in_kind", "conduit"]
OFFLINE_METHODS: tuple[str, ...] = ("check", "cash", "wire", "in_kind", "conduit")


class ConduitInput(_Strict):
    """Who forwarded an earmarked gift: a platform or committee (its FEC id, `C` and 8 digits,
    is what the report's EARMARK_MEMO needs; without it the report lists an error to fix)."""

    name: Annotated[DonorText, Field(min_length=1, max_length=200)]
    address: AddressInput
    fec_id: Annotated[str, Field(pattern=r"^C\d{8}$")] | None = None

    def conduit(self) -> Conduit:
        a = self.address
        return Conduit(name=self.name, address_line1=a.line1, address_line2=a.line2 or None,
                       city=a.city, state=a.state, zip=a.zip, fec_id=self.fec_id)


BATCH_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


def checked_batch(batch: str) -> str:
    """A deposit batch's name as a URL gives it, or a 400 (the API's and the console's rule)."""
    import re

    from chalicelib.errors import InvalidInput

    if not re.fullmatch(BATCH_PATTERN, batch):
        raise InvalidInput("invalid_request", "A deposit batch is 1 to 64 letters, digits or . _ : -",
                           fields={"batch": "1 to 64 of A-Z a-z 0-9 . _ : -"})
    return batch


class DepositDeclaration(_Strict):
    """What finance declares of a bank deposit (`PUT /api/admin/deposits/{batch}`): the
    committee and the deposit slip's total, and the day it was banked."""

    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")]
    expected_total_cents: Annotated[StrictInt, Field(ge=0, le=10_000_000_000)]
    deposited_on: date | None = None


class OfflineContribution(_Strict):
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")]
    method: OfflineMethod
    amount_cents: Annotated[StrictInt, Field(ge=1, le=MAX_DONATION_CENTS)]
    received_on: date
    reference: Annotated[DonorText, Field(max_length=100)] | None = None
    # What was given, for `in_kind` (required then, refused otherwise).
    in_kind_description: Annotated[DonorText, Field(min_length=1, max_length=100)] | None = None
    deposit_batch: Annotated[str, Field(pattern=BATCH_PATTERN)] | None = None
    election: ElectionCode | None = None
    # Who forwarded it, for `conduit` (required then, refused otherwise).
    conduit: ConduitInput | None = None
    idempotency_key: Annotated[str, Field(min_length=8, max_length=128,
                                          pattern=r"^[A-Za-z0-9_.:-]+$")]
    # None: an anonymous gift (refused by rule, see compliance/offline.py).
    donor: DonorInput | None = None
    attestations: AttestationsInput | None = None

    @model_validator(mode="after")
    def _in_kind_says_what(self) -> OfflineContribution:
        if (self.method == "in_kind") != (self.in_kind_description is not None):
            raise ValueError("in_kind_description is required for in_kind and only for it")
        if (self.method == "conduit") != (self.conduit is not None):
            raise ValueError("conduit is required for the conduit method and only for it")
        return self

    def donor_snapshot(self) -> DonorSnapshot:
        assert self.donor is not None
        d, a = self.donor, self.donor.address
        return DonorSnapshot(
            first_name=d.first_name, last_name=d.last_name, email=d.email, phone=d.phone,
            address_line1=a.line1, address_line2=a.line2 or None, city=a.city, state=a.state,
            zip=a.zip, employer=d.employer, occupation=d.occupation,
        )

    def fingerprint(self) -> str:
        """A digest of what was entered, so a reused idempotency key with other content is caught."""
        body = self.model_dump(mode="json", exclude={"idempotency_key"})
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
