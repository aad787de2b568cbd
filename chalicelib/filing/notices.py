"""48-hour notices (Form 6): contributions of $1,000 or more a candidate's committee receives
less than 20 days but more than 48 hours before an election the candidate runs in.

In local dates of the committee's time zone (11 CFR 104.5(f); election day begins at 12:01 a.m.):
a contribution received from the 19th day before the election through the 3rd day before needs
a notice within 48 hours of its receipt. Every kind counts (online, check, cash, wire, in kind,
earmarked). One notice carries the contributions of one day for one election, one `F65` line
each, with the same transaction ids the next report itemizes them under.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.filing import text as t
from chalicelib.filing.errors import NotEligible
from chalicelib.filing.fec import fec_bytes, jsonl_bytes
from chalicelib.filing.forms import Signature, header
from chalicelib.filing.model import Election, FilingCommittee, Receipt
from chalicelib.filing.money import dollars
from chalicelib.filing.records import Record, address_fields, compact, employment, name_fields
from chalicelib.filing.thresholds import NOTICE_THRESHOLD_CENTS

WINDOW_OPENS = 19  # days before the election: the day after the pre-election report's books close
WINDOW_CLOSES = 3  # days before: a later gift is less than 48 hours before 12:01 a.m. of the day
NOTICE_DUE = timedelta(hours=48)


def notice_window(election: Election) -> tuple[date, date]:
    """The first and last day (both included) a contribution for `election` needs a notice."""
    return (election.date - timedelta(days=WINDOW_OPENS),
            election.date - timedelta(days=WINDOW_CLOSES))


def notice_election(committee: FilingCommittee, receipt: Receipt) -> Election | None:
    """The election `receipt` needs a 48-hour notice for, if any."""
    if committee.type != "candidate" or receipt.amount_cents < NOTICE_THRESHOLD_CENTS:
        return None
    for election in committee.elections:
        first, last = notice_window(election)
        if election.participating and first <= receipt.date <= last:
            return election
    return None


def notice_due(received_at: datetime) -> datetime:
    """When the notice of a contribution received at `received_at` is due."""
    return received_at + NOTICE_DUE


@dataclass(frozen=True)
class Notice:
    """One 48-hour notice: the contributions of one day for one election."""

    committee: FilingCommittee
    election: Election
    received_on: date
    contributions: tuple[Receipt, ...]

    def records(self, signature: Signature) -> list[Record]:
        """The `F6` record and one `F65` line per contribution."""
        return [notice_form(self.committee, signature),
                *(notice_line(self.committee, r) for r in self.contributions)]

    def fec_bytes(self, signature: Signature) -> bytes:
        comment = f"48-hour notice {self.election.code} {self.received_on.isoformat()}"
        return fec_bytes([header(comment), *self.records(signature)])

    def jsonl_bytes(self, signature: Signature) -> bytes:
        return jsonl_bytes(self.records(signature))


def notices(committee: FilingCommittee, receipts: Iterable[Receipt]) -> list[Notice]:
    """The notices `receipts` call for, one per election and day received, in date order."""
    groups: dict[tuple[date, str], list[Receipt]] = defaultdict(list)
    elections: dict[str, Election] = {}
    for receipt in receipts:
        election = notice_election(committee, receipt)
        if election:
            groups[(receipt.date, election.code)].append(receipt)
            elections[election.code] = election
    return [Notice(committee, elections[code], day, tuple(sorted(group, key=lambda r: r.transaction_id)))
            for (day, code), group in sorted(groups.items())]


def notice_form(committee: FilingCommittee, signature: Signature) -> Record:
    """The `F6` record: the committee, its candidate and the signer."""
    candidate = committee.candidate
    if candidate is None:
        raise NotEligible("not_a_candidate_committee",
                          "48-hour notices are for a candidate's committee.")
    a = committee.address
    street_1, street_2 = t.streets(a.line1, a.line2)
    signer = signature.treasurer or committee.treasurer
    return compact({
        "form_type": "F6",
        "filer_committee_id_number": committee.fec_id,
        "committee_name": t.fit(committee.name, 200),
        "street_1": street_1, "street_2": street_2, "city": t.fit(a.city, t.CITY),
        "state": t.state(a.state), "zip_code": t.zip_code(a.zip),
        "candidate_id_number": candidate.fec_id,
        **name_fields(candidate.name, "candidate"),
        "candidate_office": candidate.office,
        "candidate_state": t.state(candidate.state),
        "candidate_district": candidate.district if candidate.office == "H" else None,
        **name_fields(signer, "signer"),
        "date_signed": signature.date_signed.isoformat(),
    })


def notice_line(committee: FilingCommittee, receipt: Receipt) -> Record:
    """One contribution of a notice (`F65`), under the transaction id of its Schedule A row."""
    person = receipt.contributor
    address = address_fields(person.address, "contributor")
    address["contributor_zip_code"] = address.pop("contributor_zip")
    return compact({
        "form_type": "F65",
        "filer_committee_id_number": committee.fec_id,
        "transaction_id": receipt.transaction_id,
        "entity_type": "IND",
        **name_fields(person.name, "contributor"),
        **address,
        "contribution_date": receipt.date.isoformat(),
        "contribution_amount": dollars(receipt.amount_cents),
        **employment(person),
    })
