"""Which line each transaction counts in, which rows a report itemizes, and in what order.

- A contribution (online, check, cash, wire, in kind, earmarked) counts in line 11(a): it is
  itemized on Schedule A (11(a)(i)) when the contributor's aggregate in the aggregation period
  (the election cycle of a candidate's committee, the calendar year of a PAC) passes the
  threshold ($200), and otherwise summed into 11(a)(ii).
- A chargeback or returned check is a negative entry on the line its contribution was on:
  itemized (`RETURN_RECEIPT`) when the contributor was itemized before it, else netted in
  11(a)(ii).
- An in-kind gift also counts as an operating expenditure (F3 line 17, F3X 21(b)) of the same
  amount, so cash on hand is unchanged; its expenditure is itemized with its receipt.
- A refund to an individual (excess refunds included) is always itemized (F3 20(a), F3X 28(a)).
- Stripe's fees are operating expenditures to Stripe: one row per calendar month (the part of the
  month inside the report), itemized once the fees paid to Stripe in the aggregation period
  pass $200; the line counts every fee.
- Memo entries (an answer to a best-efforts request received after the contribution was
  reported, redesignations, reattributions) are always itemized and never counted in a line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from chalicelib.filing import records as r
from chalicelib.filing.calendar import ReportPeriod
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import (
    BestEffortsAnswer,
    Contributor,
    FilingCommittee,
    Organization,
    ProcessingFee,
    Reattribution,
    Receipt,
    Redesignation,
    Refund,
    ReturnedContribution,
    Transaction,
)

ITEMIZED = "11ai"
UNITEMIZED = "11aii"


def is_itemized(aggregate_cents: int, threshold_cents: int) -> bool:
    """The FEC's rule: a contribution is itemized once its contributor's aggregate in the
    aggregation period (this contribution included) passes the threshold."""
    return aggregate_cents > threshold_cents


@dataclass(frozen=True)
class Posting:
    """What a transaction adds to one summary line, in cents."""

    line: str
    cents: int
    transaction_id: str


def postings(committee: FilingCommittee, txn: Transaction) -> list[Posting]:
    """The summary lines `txn` counts in (none for a memo entry)."""
    threshold = committee.itemization_threshold_cents
    operating = r.OPERATING_LINE[committee.form]
    if isinstance(txn, Receipt):
        line = ITEMIZED if is_itemized(txn.aggregate_cents, threshold) else UNITEMIZED
        out = [Posting(line, txn.amount_cents, txn.transaction_id)]
        if txn.method == "in_kind":
            out.append(Posting(operating, txn.amount_cents, txn.transaction_id))
        return out
    if isinstance(txn, ReturnedContribution):
        line = ITEMIZED if _return_itemized(txn, threshold) else UNITEMIZED
        return [Posting(line, -txn.amount_cents, txn.transaction_id)]
    if isinstance(txn, Refund):
        return [Posting(r.REFUND_LINE[committee.form], txn.amount_cents, txn.transaction_id)]
    if isinstance(txn, ProcessingFee):
        return [Posting(operating, txn.amount_cents, txn.transaction_id)]
    return []


@dataclass
class Schedules:
    """A report's itemized rows in file order (Schedule A, then B), and what they stand for."""

    rows: list[r.Record] = field(default_factory=list)
    # row transaction_id → the transaction it comes from (they differ for derived rows)
    sources: dict[str, str] = field(default_factory=dict)
    unitemized_receipts: int = 0

    def counts(self) -> dict[str, int]:
        """Rows per schedule line (form type), with the unitemized contributions as `SA11AII`."""
        out: dict[str, int] = defaultdict(int)
        for row in self.rows:
            out[row["form_type"]] += 1
        out["SA11AII"] = self.unitemized_receipts
        return dict(out)


def schedules(committee: FilingCommittee, period: ReportPeriod,
              transactions: Sequence[Transaction]) -> Schedules:
    """The rows of `period`'s report. `transactions` must hold every transaction from the start
    of the aggregation period through the period's end (expenditure aggregates need them)."""
    filer = r.Filer(committee.fec_id, committee.form)
    threshold = committee.itemization_threshold_cents
    inside = [t for t in transactions if period.covers(t.date)]
    receipts = {t.transaction_id for t in inside if isinstance(t, Receipt)}
    itemized = {t.transaction_id for t in inside
                if isinstance(t, Receipt) and is_itemized(t.aggregate_cents, threshold)}
    answered = {a.original.transaction_id: a for a in inside
                if isinstance(a, BestEffortsAnswer) and a.original.transaction_id in receipts}
    tags: dict[str, r.Tag] = {
        m.original.transaction_id: "REDESIGNATED" if isinstance(m, Redesignation) else "REATTRIBUTED"
        for m in inside if isinstance(m, Redesignation | Reattribution)}

    out = Schedules()
    schedule_a: list[_Group] = []
    schedule_b: list[_Group] = []
    for txn in inside:
        if isinstance(txn, Receipt):
            if not is_itemized(txn.aggregate_cents, threshold):
                out.unitemized_receipts += 1
                continue
            answer = answered.get(txn.transaction_id)
            receipt = _with_answer(txn, answer) if answer else txn
            rows = [r.receipt_row(filer, receipt, tag=tags.get(txn.transaction_id))]
            if txn.method == "conduit" and txn.conduit:
                rows.append(r.earmark_memo(filer, txn))
            schedule_a.append(_Group(txn, rows))
            if txn.method == "in_kind":
                aggregate = _in_kind_aggregate(committee, transactions, txn)
                schedule_b.append(_Group(txn, [r.in_kind_expenditure(filer, txn, aggregate)]))
        elif isinstance(txn, ReturnedContribution):
            if _return_itemized(txn, threshold):  # otherwise netted in 11(a)(ii)
                schedule_a.append(_Group(txn, [r.returned_row(filer, txn)]))
        elif isinstance(txn, Refund):
            schedule_b.append(_Group(txn, [r.refund_row(filer, txn)]))
        elif isinstance(txn, BestEffortsAnswer):
            if txn.original.transaction_id not in receipts:
                schedule_a.append(_Group(txn, [r.best_efforts_memo(filer, txn)]))
        elif isinstance(txn, Redesignation | Reattribution):
            # The memo rows refer back to their gift's row: a gift not itemized here (reported
            # earlier, or in 11(a)(ii)) is restated first as a memo row (counting in no line).
            rows = [] if txn.original.transaction_id in itemized else [r.restated_original(filer, txn)]
            rows += (r.redesignation_memos(filer, txn) if isinstance(txn, Redesignation)
                     else r.reattribution_memos(filer, txn))
            schedule_a.append(_Group(txn, rows))
    schedule_b += _fee_rows(filer, committee, period, transactions)
    for group in sorted(schedule_a, key=_Group.order) + sorted(schedule_b, key=_Group.order):
        for row in group.rows:
            out.rows.append(row)
            out.sources[row["transaction_id"]] = group.source_id
    return out


@dataclass(frozen=True)
class _Group:
    """Rows that stand together (a receipt and its earmark memo), and where they come from."""

    source: Transaction | None
    rows: list[r.Record]
    day: date | None = None
    group_id: str = ""

    @property
    def source_id(self) -> str:
        return self.source.transaction_id if self.source else self.group_id

    def order(self) -> tuple[date, str]:
        if self.source is not None:
            return self.source.date, self.source.transaction_id
        assert self.day is not None
        return self.day, self.group_id


def _return_itemized(returned: ReturnedContribution, threshold: int) -> bool:
    # Itemized when the contributor's aggregate before the money went back was itemized.
    return is_itemized(returned.aggregate_cents + returned.amount_cents, threshold)


def _with_answer(receipt: Receipt, answer: BestEffortsAnswer) -> Receipt:
    person = receipt.contributor
    return replace(receipt, contributor=Contributor(person.name, person.address, answer.employer,
                                                    answer.occupation))


def _in_kind_aggregate(committee: FilingCommittee, transactions: Iterable[Transaction],
                       receipt: Receipt) -> int:
    """In-kind expenditures to the same person in the aggregation period, through this one."""
    start = committee.aggregation_start(receipt.date)
    return sum(t.amount_cents for t in transactions
               if isinstance(t, Receipt) and t.method == "in_kind" and t.contributor == receipt.contributor
               and start <= t.date and (t.date, t.transaction_id) <= (receipt.date, receipt.transaction_id))


def _fee_rows(filer: r.Filer, committee: FilingCommittee, period: ReportPeriod,
              transactions: Iterable[Transaction]) -> list[_Group]:
    """Processing fees: one row per payee and calendar month within the period (split where an
    election cycle ends inside it), itemized once the payee's aggregate in the aggregation period
    passes the threshold (the fees of months before that still count in the line)."""
    earliest = committee.aggregation_start(period.coverage_from)
    running: dict[tuple[Organization, date], int] = defaultdict(int)
    segments: dict[tuple[date, str], list[ProcessingFee]] = defaultdict(list)
    for fee in transactions:
        if not (isinstance(fee, ProcessingFee) and earliest <= fee.date <= period.coverage_through):
            continue
        cycle = committee.aggregation_start(fee.date)
        if fee.date < period.coverage_from:
            running[(fee.payee, cycle)] += fee.amount_cents
        else:
            segment = max(fee.date.replace(day=1), period.coverage_from, cycle)
            segments[(segment, fee.payee.name)].append(fee)
    groups: list[_Group] = []
    for (segment_start, _), fees in sorted(segments.items()):
        payee = fees[0].payee
        key = (payee, committee.aggregation_start(segment_start))
        running[key] += sum(f.amount_cents for f in fees)
        if not is_itemized(running[key], committee.itemization_threshold_cents):
            continue
        day = max(f.date for f in fees)
        row_id = transaction_id("SB", f"fees#{payee.name}#{segment_start.isoformat()}")
        memo = f"Fees on charges {segment_start.isoformat()} to {day.isoformat()}"
        groups.append(_Group(None, [r.operating_expenditure(
            filer, row_id, payee, day, sum(f.amount_cents for f in fees), running[key],
            r.PROCESSING_PURPOSE, memo)], day=day, group_id=row_id))
    return groups
