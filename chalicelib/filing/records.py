"""Schedule A and B records, one builder per kind of row, in the FEC's JSON field names.

Each builder takes the transaction as the domain has it (cents, local dates, the contributor as
given) and returns the record the FEC's transaction schema describes (`INDIVIDUAL_RECEIPT`,
`RETURN_RECEIPT`, `IN_KIND_RECEIPT`, `EARMARK_RECEIPT`, `EARMARK_MEMO`, `INDIVIDUAL_REFUNDS`,
`DISBURSEMENTS`), text made ASCII and cut to the FEC's lengths (`text`). Which rows a report has
is decided in `schedules`; here only what a row says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from chalicelib.filing import text as t
from chalicelib.filing.ids import child_id
from chalicelib.filing.model import (
    Address,
    BestEffortsAnswer,
    Contributor,
    FormName,
    Name,
    Organization,
    Reattribution,
    Receipt,
    Redesignation,
    Refund,
    ReturnedContribution,
)
from chalicelib.filing.money import dollars

Record = dict[str, Any]
Tag = Literal["REATTRIBUTED", "REDESIGNATED", "REATTRIBUTION_FROM", "REATTRIBUTION_TO",
              "REDESIGNATION_FROM", "REDESIGNATION_TO"]

# The line each kind of row is on, by form: receipts from individuals are line 11(a) on both;
# operating expenditures are F3 line 17 and F3X line 21(b); refunds to individuals F3 line 20(a)
# and F3X line 28(a).
ITEMIZED_RECEIPTS = "SA11AI"
OPERATING_LINE = {"F3": "17", "F3X": "21b"}
REFUND_LINE = {"F3": "20a", "F3X": "28a"}
OPERATING = {form: "SB" + line.upper() for form, line in OPERATING_LINE.items()}
REFUNDS = {form: "SB" + line.upper() for form, line in REFUND_LINE.items()}
PREFIX = 10
SUFFIX = 10
CONDUIT_NAME = 200
ELECTION_WORDS = {"P": "PRIMARY", "G": "GENERAL", "R": "RUNOFF", "C": "CONVENTION",
                  "S": "SPECIAL", "E": "RECOUNT", "O": "OTHER"}
PROCESSING_PURPOSE = "Payment processing fees"
ADMINISTRATIVE = "001"  # the FEC's disbursement category: administrative, salary, overhead


@dataclass(frozen=True)
class Filer:
    """Who files: every record carries the committee's id, and the form decides line numbers
    and whether receipts report their election."""

    committee_id: str
    form: FormName


def compact(record: Record) -> Record:
    """The record without the fields that have no value (they are left out, never null)."""
    return {k: v for k, v in record.items() if v is not None and v != ""}


def person_fields(person: Contributor, prefix: str) -> Record:
    """Name and address of an individual as `contributor_*` or `payee_*` fields."""
    return {**name_fields(person.name, prefix), **address_fields(person.address, prefix)}


def name_fields(name: Name, prefix: str) -> Record:
    """A person's name as `{prefix}_last_name` … `{prefix}_suffix` (30, 20, 20, 10 and 10
    characters; a first name too long for its field carries over to the middle name)."""
    first, overflow = t.first_and_middle(name.first)
    middle = " ".join(p for p in (overflow or "", t.ascii_text(name.middle)) if p)
    return {
        f"{prefix}_last_name": t.last_name(name.last),
        f"{prefix}_first_name": first,
        f"{prefix}_middle_name": middle[:t.MIDDLE_NAME].rstrip() or None,
        f"{prefix}_prefix": t.fit(name.prefix, PREFIX) or None,
        f"{prefix}_suffix": t.fit(name.suffix, SUFFIX) or None,
    }


def address_fields(address: Address, prefix: str) -> Record:
    """An address as `{prefix}_street_1` … `{prefix}_zip`, in ASCII and the FEC's lengths."""
    street_1, street_2 = t.streets(address.line1, address.line2)
    return {f"{prefix}_street_1": street_1, f"{prefix}_street_2": street_2,
            f"{prefix}_city": t.fit(address.city, t.CITY), f"{prefix}_state": t.state(address.state),
            f"{prefix}_zip": t.zip_code(address.zip)}


def organization_fields(org: Organization, prefix: str) -> Record:
    """An organization's name and address as `{prefix}_organization_name` and address fields."""
    return {f"{prefix}_organization_name": t.fit(org.name, CONDUIT_NAME),
            **address_fields(org.address, prefix)}


def employment(person: Contributor) -> Record:
    """Employer and occupation, `INFORMATION REQUESTED` where the donor has not given them."""
    return {"contributor_employer": t.employer_or_occupation(person.employer, t.EMPLOYER),
            "contributor_occupation": t.employer_or_occupation(person.occupation, t.OCCUPATION)}


def receipt_type(receipt: Receipt) -> str:
    """The FEC's transaction type of a receipt, by how it came in."""
    return {"in_kind": "IN_KIND_RECEIPT", "conduit": "EARMARK_RECEIPT"}.get(receipt.method,
                                                                           "INDIVIDUAL_RECEIPT")


def receipt_purpose(receipt: Receipt) -> str | None:
    """What the FEC's schema wants in `contribution_purpose_descrip` for the receipt's type."""
    if receipt.method == "in_kind":
        return t.fit(f"In-Kind: {receipt.in_kind_description or 'goods or services'}", t.PURPOSE)
    if receipt.method == "conduit" and receipt.conduit:
        return t.fit(f"Earmarked through {receipt.conduit.name}", t.PURPOSE)
    return None


def receipt_row(filer: Filer, receipt: Receipt, *, transaction_id: str | None = None,
                contributor: Contributor | None = None, amount_cents: int | None = None,
                aggregate_cents: int | None = None, day: date | None = None,
                election: str | None = None, memo: bool = False, memo_text: str | None = None,
                tag: Tag | None = None, back_reference: str | None = None) -> Record:
    """An itemized contribution (`SA11AI`) of the receipt's type; the keyword arguments make the
    memo entries that restate it (a redesignation, a reattribution, an answer received later)."""
    person = contributor or receipt.contributor
    row: Record = {
        "form_type": ITEMIZED_RECEIPTS,
        "report_type": filer.form,
        "filer_committee_id_number": filer.committee_id,
        "transaction_type_identifier": receipt_type(receipt),
        "transaction_id": transaction_id or receipt.transaction_id,
        "back_reference_tran_id_number": back_reference,
        "back_reference_sched_name": ITEMIZED_RECEIPTS if back_reference else None,
        "entity_type": "IND",
        **person_fields(person, "contributor"),
        "contribution_date": (day or receipt.date).isoformat(),
        "contribution_amount": dollars(receipt.amount_cents if amount_cents is None else amount_cents),
        "contribution_aggregate": dollars(receipt.aggregate_cents if aggregate_cents is None
                                          else aggregate_cents),
        "aggregation_group": "GENERAL",
        "contribution_purpose_descrip": receipt_purpose(receipt),
        **employment(person),
        "memo_code": True if memo else None,
        "memo_text_description": t.fit(memo_text, t.MEMO) or None,
        "reattribution_redesignation_tag": tag,
    }
    if filer.form == "F3":
        # Form 3 reports which election a contribution is for (`P2026`, `G2026`).
        row["election_code"] = t.fit(election or receipt.election, 5) or None
    if receipt.method == "conduit" and receipt.conduit:
        row.update({"conduit_name": t.fit(receipt.conduit.name, CONDUIT_NAME),
                    **address_fields(receipt.conduit.address, "conduit")})
    return compact(row)


def earmark_memo(filer: Filer, receipt: Receipt) -> Record:
    """The memo entry naming the conduit that forwarded an earmarked contribution."""
    conduit = receipt.conduit
    assert conduit is not None  # only conduit receipts have one
    row: Record = {
        "form_type": ITEMIZED_RECEIPTS,
        "report_type": filer.form,
        "filer_committee_id_number": filer.committee_id,
        "transaction_type_identifier": "EARMARK_MEMO",
        "transaction_id": child_id(receipt.transaction_id, "earmark_memo"),
        "back_reference_tran_id_number": receipt.transaction_id,
        "back_reference_sched_name": ITEMIZED_RECEIPTS,
        "entity_type": "COM",
        **organization_fields(conduit, "contributor"),
        "contribution_date": receipt.date.isoformat(),
        "contribution_amount": dollars(receipt.amount_cents),
        "contribution_aggregate": dollars(receipt.aggregate_cents),
        "aggregation_group": "GENERAL",
        "contribution_purpose_descrip": "Total earmarked through conduit.",
        "donor_committee_fec_id": conduit.fec_id,
        "donor_committee_name": t.fit(conduit.name, CONDUIT_NAME),
        "memo_code": True,
    }
    if filer.form == "F3":
        row["election_code"] = t.fit(receipt.election, 5) or None
    return compact(row)


def returned_row(filer: Filer, returned: ReturnedContribution) -> Record:
    """A chargeback or returned check: a negative Schedule A row (`RETURN_RECEIPT`)."""
    purpose = "Chargeback" if returned.reason == "chargeback" else "Returned contribution"
    row: Record = {
        "form_type": ITEMIZED_RECEIPTS,
        "report_type": filer.form,
        "filer_committee_id_number": filer.committee_id,
        "transaction_type_identifier": "RETURN_RECEIPT",
        "transaction_id": returned.transaction_id,
        "entity_type": "IND",
        **person_fields(returned.contributor, "contributor"),
        "contribution_date": returned.date.isoformat(),
        "contribution_amount": dollars(-returned.amount_cents),
        "contribution_aggregate": dollars(returned.aggregate_cents),
        "aggregation_group": "GENERAL",
        "contribution_purpose_descrip": purpose,
        **employment(returned.contributor),
        "memo_text_description": f"Contribution received {returned.original_date.isoformat()}",
    }
    if filer.form == "F3":
        row["election_code"] = t.fit(returned.election, 5) or None
    return compact(row)


def refund_row(filer: Filer, refund: Refund) -> Record:
    """A refund to an individual: `SB20A` on Form 3, `SB28A` on Form 3X, amount positive."""
    purpose = "Refund of excess contribution" if refund.excess else "Refund of contribution"
    row: Record = {
        "form_type": REFUNDS[filer.form],
        "report_type": filer.form,
        "filer_committee_id_number": filer.committee_id,
        "transaction_type_identifier": "REFUND_INDIVIDUAL_CONTRIBUTION",
        "transaction_id": refund.transaction_id,
        "entity_type": "IND",
        **person_fields(refund.contributor, "payee"),
        "expenditure_date": refund.date.isoformat(),
        "expenditure_amount": dollars(refund.amount_cents),
        "aggregation_group": "GENERAL",
        "expenditure_purpose_descrip": purpose,
        "memo_text_description": f"Contribution received {refund.original_date.isoformat()}",
    }
    if filer.form == "F3":
        row["election_code"] = t.fit(refund.election, 5) or None
    return compact(row)


def in_kind_expenditure(filer: Filer, receipt: Receipt, aggregate_cents: int) -> Record:
    """The other half of an in-kind gift: what it paid for, an operating expenditure to the
    contributor, so cash on hand is unchanged (`IN_KIND_OUT`)."""
    row: Record = {
        "form_type": OPERATING[filer.form],
        "report_type": filer.form,
        "filer_committee_id_number": filer.committee_id,
        "transaction_type_identifier": "IN_KIND_OUT",
        "transaction_id": child_id(receipt.transaction_id, "SB in_kind_out"),
        "back_reference_tran_id_number": receipt.transaction_id,
        "back_reference_sched_name": ITEMIZED_RECEIPTS,
        "entity_type": "IND",
        **person_fields(receipt.contributor, "payee"),
        "expenditure_date": receipt.date.isoformat(),
        "expenditure_amount": dollars(receipt.amount_cents),
        "aggregate_amount": dollars(aggregate_cents),
        "aggregation_group": "GENERAL_DISBURSEMENT",
        "expenditure_purpose_descrip": receipt_purpose(receipt),
    }
    return compact(row)


def operating_expenditure(filer: Filer, transaction_id: str, payee: Organization, day: date,
                          amount_cents: int, aggregate_cents: int, purpose: str,
                          memo_text: str | None = None) -> Record:
    """An operating expenditure to an organization (`OPERATING_EXPENDITURE`): Stripe's fees."""
    row: Record = {
        "form_type": OPERATING[filer.form],
        "report_type": filer.form,
        "filer_committee_id_number": filer.committee_id,
        "transaction_type_identifier": "OPERATING_EXPENDITURE",
        "transaction_id": transaction_id,
        "entity_type": "ORG",
        **organization_fields(payee, "payee"),
        "expenditure_date": day.isoformat(),
        "expenditure_amount": dollars(amount_cents),
        "aggregate_amount": dollars(aggregate_cents),
        "aggregation_group": "GENERAL_DISBURSEMENT",
        "expenditure_purpose_descrip": t.fit(purpose, t.PURPOSE),
        "category_code": ADMINISTRATIVE,
        "memo_text_description": t.fit(memo_text, t.MEMO) or None,
    }
    return compact(row)


def best_efforts_memo(filer: Filer, answer: BestEffortsAnswer) -> Record:
    """A memo entry restating a contribution reported earlier, with the employer and occupation
    its donor gave afterwards (not counted again in the totals)."""
    original = answer.original
    person = Contributor(original.contributor.name, original.contributor.address,
                         answer.employer, answer.occupation)
    text = (f"Employer and occupation received {answer.date.isoformat()}; "
            f"first reported as {original.transaction_id}")
    return receipt_row(filer, original, transaction_id=answer.transaction_id, contributor=person,
                       memo=True, memo_text=text)


def redesignation_memos(filer: Filer, redesignation: Redesignation) -> list[Record]:
    """The two memo entries of a redesignation: the amount out of the first election (negative)
    and into the second."""
    r = redesignation
    original = r.original
    source, target = _election_word(r.from_election), _election_word(r.to_election)
    return [
        receipt_row(filer, original, transaction_id=child_id(r.transaction_id, "from"),
                    amount_cents=-r.amount_cents, day=r.date, election=r.from_election, memo=True,
                    memo_text=f"REDESIGNATION TO {target}", tag="REDESIGNATION_FROM",
                    back_reference=original.transaction_id),
        receipt_row(filer, original, transaction_id=child_id(r.transaction_id, "to"),
                    amount_cents=r.amount_cents, day=r.date, election=r.to_election, memo=True,
                    memo_text=f"REDESIGNATION FROM {source}", tag="REDESIGNATION_TO",
                    back_reference=original.transaction_id),
    ]


def reattribution_memos(filer: Filer, reattribution: Reattribution) -> list[Record]:
    """The two memo entries of a reattribution: the amount away from the first contributor
    (negative) and to the second, each with their aggregate after it."""
    r = reattribution
    original = r.original
    return [
        receipt_row(filer, original, transaction_id=child_id(r.transaction_id, "from"),
                    amount_cents=-r.amount_cents, aggregate_cents=r.from_aggregate_cents, day=r.date,
                    memo=True, memo_text=f"REATTRIBUTION TO {t.ascii_text(r.to.name.display).upper()}",
                    tag="REATTRIBUTION_FROM", back_reference=original.transaction_id),
        receipt_row(filer, original, transaction_id=child_id(r.transaction_id, "to"),
                    contributor=r.to, amount_cents=r.amount_cents,
                    aggregate_cents=r.to_aggregate_cents, day=r.date, memo=True,
                    memo_text=f"REATTRIBUTION FROM "
                              f"{t.ascii_text(original.contributor.name.display).upper()}",
                    tag="REATTRIBUTION_TO", back_reference=original.transaction_id),
    ]


def restated_original(filer: Filer, memo: Redesignation | Reattribution) -> Record:
    """The original of a redesignation or reattribution reported in an earlier report, restated
    as a memo entry so the tagged pair below it has its original in the same report."""
    tag: Tag = "REDESIGNATED" if isinstance(memo, Redesignation) else "REATTRIBUTED"
    word = "redesignation" if tag == "REDESIGNATED" else "reattribution"
    return receipt_row(filer, memo.original, transaction_id=child_id(memo.transaction_id, "original"),
                       memo=True, tag=tag,
                       memo_text=f"Originally reported as {memo.original.transaction_id}; "
                                 f"see {word} below")


def _election_word(code: str) -> str:
    return ELECTION_WORDS.get(code[:1], code)
