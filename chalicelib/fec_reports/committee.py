"""Our committee as its reports show it (`filing.model.FilingCommittee`), and its opening cash.

What the committee has not been given yet (an address, a treasurer, a candidate) stays empty,
so the report shows the FEC schema's error for it rather than a made-up value.
"""

from __future__ import annotations

from chalicelib.compliance.committees import Committee
from chalicelib.filing import model as m
from chalicelib.filing.calendar import ReportPeriod
from chalicelib.filing.model import FilingCommittee, OpeningCash

_NO_ADDRESS = m.Address("", "", "", "")
_NO_NAME = m.Name("", "")


def filing_committee(committee: Committee) -> FilingCommittee:
    """The committee as the FEC's forms take it."""
    candidate = committee.type == "candidate"
    return FilingCommittee(
        fec_id=committee.committee_id, name=committee.name,
        address=committee.address or _NO_ADDRESS, treasurer=committee.treasurer or _NO_NAME,
        type=committee.type, time_zone=committee.zone,
        filing_frequency=committee.filing_frequency,
        candidate=committee.candidate if candidate else None,
        elections=tuple(_elections(committee)) if candidate else (),
        previous_general_date=committee.previous_general_date,
        itemization_threshold_cents=committee.itemization_threshold_cents,
    )


def _elections(committee: Committee) -> list[m.Election]:
    """The candidate's elections; after a lost primary or a withdrawal, the later ones are not
    `participating` (no pre-election report, no 48-hour notices)."""
    out_since = committee.status_date if committee.status != "active" else None
    return [m.Election(e.code, e.date, participating=out_since is None or e.date <= out_since)
            for e in committee.elections]


def opening_cash(committee: Committee, filing: FilingCommittee, period: ReportPeriod) -> OpeningCash:
    """Cash on hand when the committee's books here began. A committee that never said counts
    from zero at the start of the period's aggregation period (and its reports warn)."""
    if committee.opening_cash_as_of is not None:
        return OpeningCash(committee.opening_cash_on_hand_cents, committee.opening_cash_as_of)
    return OpeningCash(0, filing.aggregation_start(period.coverage_from))
