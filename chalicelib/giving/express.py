"""Express giving: a donor who saved a card gives again with one confirmed click.

The express link (from a receipt or invitation) only opens a confirmation step; the charge
happens when the donor confirms an explicit amount there, never by opening a link. The gift
goes through the same intake as any other (limits, velocity, idempotency)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.giving.intake import (
    MAX_DONATION_CENTS,
    MIN_DONATION_CENTS,
    AttestationsInput,
    DonationRequest,
)
from chalicelib.giving.model import DonorSnapshot


class ExpressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: Annotated[str, Field(min_length=10, max_length=500)]
    page: Annotated[str, Field(min_length=1, max_length=64)]
    amount_cents: Annotated[StrictInt, Field(ge=MIN_DONATION_CENTS, le=MAX_DONATION_CENTS)]
    idempotency_key: Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
    election: str | None = None
    refcode: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    attestations: AttestationsInput


def as_donation_request(express: ExpressRequest, donor: DonorSnapshot) -> DonationRequest:
    """The express gift as an ordinary donation request, with the donor's details on file."""
    return DonationRequest.model_validate({
        "amount_cents": express.amount_cents, "election": express.election,
        "refcode": express.refcode, "idempotency_key": express.idempotency_key,
        "donor": {
            "first_name": donor.first_name, "last_name": donor.last_name, "email": donor.email,
            "phone": donor.phone, "employer": donor.employer, "occupation": donor.occupation,
            "address": {"line1": donor.address_line1, "line2": donor.address_line2,
                        "city": donor.city, "state": donor.state, "zip": donor.zip},
        },
        "attestations": express.attestations.model_dump(),
    })
