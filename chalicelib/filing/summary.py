"""The summary lines of Form 3 and Form 3X, computed from transactions in one place.

Column A covers the report's period; column B the election cycle to date (Form 3: from the
start of the cycle, the day after the previous general election) or the calendar year to date
(Form 3X). Each column sums the transactions' postings (`schedules.postings`) into the lines
they count in, then derives every other line by the form's own sums. Cash on hand follows from
the committee's opening cash plus every receipt and minus every disbursement since. Values are
cents here; `Summary.fields` names them as the FEC's schema does and `Summary.dollars` gives the
form's dollars.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from chalicelib.filing.calendar import ReportPeriod
from chalicelib.filing.model import FilingCommittee, FormName, OpeningCash, Transaction
from chalicelib.filing.money import dollars
from chalicelib.filing.schedules import postings
from chalicelib.filing.schemas import schema

Column = dict[str, int]
# (line, [(sign, line), ...]) in the order each can be computed: the forms' own sums.
Sums = tuple[tuple[str, tuple[tuple[int, str], ...]], ...]


def _plus(*lines: str) -> tuple[tuple[int, str], ...]:
    return tuple((1, line) for line in lines)


F3_SUMS: Sums = (
    ("11aiii", _plus("11ai", "11aii")),
    ("11e", _plus("11aiii", "11b", "11c", "11d")),
    ("13c", _plus("13a", "13b")),
    ("16", _plus("11e", "12", "13c", "14", "15")),
    ("19c", _plus("19a", "19b")),
    ("20d", _plus("20a", "20b", "20c")),
    ("22", _plus("17", "18", "19c", "20d", "21")),
    ("6a", _plus("11e")),
    ("6b", _plus("20d")),
    ("6c", ((1, "6a"), (-1, "6b"))),
    ("7a", _plus("17")),
    ("7b", _plus("14")),
    ("7c", ((1, "7a"), (-1, "7b"))),
)
F3X_SUMS: Sums = (
    ("11aiii", _plus("11ai", "11aii")),
    ("11d", _plus("11aiii", "11b", "11c")),
    ("18c", _plus("18a", "18b")),
    ("19", _plus("11d", "12", "13", "14", "15", "16", "17", "18c")),
    ("20", ((1, "19"), (-1, "18c"))),
    ("21c", _plus("21ai", "21aii", "21b")),
    ("28d", _plus("28a", "28b", "28c")),
    ("30c", _plus("30ai", "30aii", "30b")),
    ("31", _plus("21c", "22", "23", "24", "25", "26", "27", "28d", "29", "30c")),
    ("32", ((1, "31"), (-1, "21aii"), (-1, "30aii"))),
    ("33", _plus("11d")),
    ("34", _plus("28d")),
    ("35", ((1, "33"), (-1, "34"))),
    ("36", _plus("21ai", "21b")),
    ("37", _plus("15")),
    ("38", ((1, "36"), (-1, "37"))),
)
SUMS = {"F3": F3_SUMS, "F3X": F3X_SUMS}
# The totals of what came in and what went out: cash on hand moves by their difference.
TOTAL_RECEIPTS = {"F3": "16", "F3X": "19"}
TOTAL_DISBURSEMENTS = {"F3": "22", "F3X": "31"}
_LINE_FIELD = re.compile(r"^L(\d+[a-z]*)_.*_(period|ytd)$")


@dataclass(frozen=True)
class Summary:
    """Both columns of a report's summary, in cents by line (`"11ai"`, `"27"`, …)."""

    form: FormName
    period: Column
    ytd: Column
    year: int  # F3X line 6(a) is cash on hand on January 1 of this year

    def fields(self) -> dict[str, int]:
        """Every line of both columns under its schema name (`L11ai_itemized_period`, …)."""
        out: dict[str, int] = {}
        for name, (line, column) in line_fields(self.form).items():
            out[name] = (self.period if column == "period" else self.ytd).get(line, 0)
        return out

    def dollars(self) -> dict[str, float]:
        """`fields` in dollars, as the form has them."""
        return {name: dollars(cents) for name, cents in self.fields().items()}


@cache
def line_fields(form: FormName) -> dict[str, tuple[str, str]]:
    """Schema field name → (line, column) for every amount line of the form's schema."""
    out: dict[str, tuple[str, str]] = {}
    for name, prop in schema(form)["properties"].items():
        match = _LINE_FIELD.match(name)
        types = prop.get("type")
        if match and "number" in (types if isinstance(types, list) else [types]):
            out[name] = (match[1], match[2])
    return out


def field_name(form: FormName, line: str, column: str = "period") -> str:
    """The schema's name of one line of one column (`("F3", "11aii")` →
    `L11aii_individuals_unitemized_period`)."""
    return next(name for name, key in line_fields(form).items() if key == (line, column))


def summarize(committee: FilingCommittee, period: ReportPeriod, transactions: Sequence[Transaction],
              opening: OpeningCash) -> Summary:
    """Both columns of `period`'s summary from `transactions`, which must hold every transaction
    from the earlier of the aggregation period's start and `opening.as_of` through the period's
    end."""
    form = committee.form
    start_b = committee.aggregation_start(period.coverage_from)
    column_a = derive(form, column(committee, (t for t in transactions if period.covers(t.date))))
    column_b = derive(form, column(committee, (t for t in transactions
                                               if start_b <= t.date <= period.coverage_through)))
    begin = cash_on_hand(committee, transactions, opening, period.coverage_from)
    receipts, spent = TOTAL_RECEIPTS[form], TOTAL_DISBURSEMENTS[form]
    if form == "F3":
        column_a.update({"23": begin, "24": column_a[receipts], "26": column_a[spent]})
        column_a["25"] = column_a["23"] + column_a["24"]
        column_a["27"] = column_a["25"] - column_a["26"]
        column_a["8"] = column_a["27"]
    else:
        for col, first, opening_line in ((column_a, begin, "6b"),
                                         (column_b, cash_on_hand(committee, transactions, opening,
                                                                 date(period.coverage_from.year, 1, 1)),
                                          "6a")):
            col[opening_line] = first
            col["6c"] = col[receipts]
            col["6d"] = first + col["6c"]
            col["7"] = col[spent]
            col["8"] = col["6d"] - col["7"]
    return Summary(form, column_a, column_b, period.coverage_from.year)


def column(committee: FilingCommittee, transactions: Iterable[Transaction]) -> Column:
    """The lines the transactions count in, summed (before the form's sums)."""
    out: Column = {}
    for txn in transactions:
        for posting in postings(committee, txn):
            out[posting.line] = out.get(posting.line, 0) + posting.cents
    return out


def derive(form: FormName, base: Column) -> Column:
    """Every line of a column: its base lines and the form's sums over them."""
    out = dict(base)
    for line, terms in SUMS[form]:
        out[line] = sum(sign * out.get(term, 0) for sign, term in terms)
    return out


def cash_on_hand(committee: FilingCommittee, transactions: Iterable[Transaction], opening: OpeningCash,
                 day: date) -> int:
    """Cash on hand at the start of `day`: the opening cash plus what came in and minus what went
    out between `opening.as_of` and `day` (minus it, back, for a day before `as_of`)."""
    form = committee.form
    low, high, sign = (opening.as_of, day, 1) if day >= opening.as_of else (day, opening.as_of, -1)
    moved = column(committee, (t for t in transactions if low <= t.date < high))
    net = derive(form, moved)
    return opening.cents + sign * (net.get(TOTAL_RECEIPTS[form], 0) - net.get(TOTAL_DISBURSEMENTS[form], 0))
