"""What a returning donor's ask ladder is built from: their highest contribution (through the
donations' `by-donor` index) and what counts against their limit (their aggregate)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.storage.models import DonationModel, DonorAggregateModel


class DonorGivingReader:
    def highest_contribution(self, donor_id: str) -> int | None:
        """The largest contribution the donor made that stands (net of partial refunds)."""
        highest = None
        succeeded = DonationModel.status == "succeeded"
        for item in DonationModel.by_donor.query(donor_id, filter_condition=succeeded,
                                                 attributes_to_get=["amount_cents", "refunded_cents"]):
            net = int(item.amount_cents) - int(item.refunded_cents or 0)
            highest = net if highest is None else max(highest, net)
        return highest

    def exposure(self, donor_id: str, scope: str) -> int:
        """Net giving plus pending reservations in the limit period: what intake checks."""
        try:
            item = DonorAggregateModel.get(donor_id, scope)
        except DoesNotExist:
            return 0
        return int(item.exposure_cents or 0)
