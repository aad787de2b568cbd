"""Replaying donor aggregates: crossing $200 midway, refunds lowering later aggregates,
periods that start afresh (a candidate's cycle, a PAC's calendar year)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.compliance.committees import Committee, CommitteeDefaults, default_committee
from chalicelib.exports.aggregates import AggregateReplay, election_of, replay_start
from chalicelib.exports.model import LedgerMovement

CANDIDATE = default_committee("C00000001", CommitteeDefaults())
PAC = default_committee("C00000002", CommitteeDefaults(), type="pac")
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
_ids = itertools.count()


def move(kind: str, cents: int, when: datetime, donor: str = "dnr_a") -> LedgerMovement:
    n = next(_ids)
    return LedgerMovement(f"evt_{n}#{kind}", kind, cents, when, f"don_{n}", donor,  # type: ignore[arg-type]
                          "C00000001", "P2026", "page", f"evt_{n}")


def replay(rules: Committee, moves: list[LedgerMovement]) -> list[tuple[str, int, bool]]:
    r = AggregateReplay(rules)
    out = []
    for m in moves:
        got = r.apply(m)
        out.append((m.kind, got.aggregate_cents, got.itemized))
    return out


def test_a_donor_crossing_200_is_itemized_from_the_crossing_contribution_on() -> None:
    moves = [move("contribution", cents, T0 + timedelta(days=i))
             for i, cents in enumerate([10000, 10000, 100, 500])]
    assert replay(CANDIDATE, moves) == [
        ("contribution", 10000, False), ("contribution", 20000, False),  # $200 is not over $200
        ("contribution", 20100, True), ("contribution", 20600, True),
    ]


def test_a_refund_lowers_later_aggregates_and_can_undo_itemization() -> None:
    steps = [("contribution", 15000), ("contribution", 10000), ("refund", -10000),
             ("contribution", 2500), ("dispute", -2500), ("dispute_reversal", 2500),
             ("contribution", 5000)]
    moves = [move(kind, cents, T0 + timedelta(days=i)) for i, (kind, cents) in enumerate(steps)]
    assert replay(CANDIDATE, moves) == [
        ("contribution", 15000, False), ("contribution", 25000, True), ("refund", 15000, False),
        ("contribution", 17500, False), ("dispute", 15000, False), ("dispute_reversal", 17500, False),
        ("contribution", 22500, True),
    ]


def test_donors_are_separate() -> None:
    moves = [move("contribution", 25000, T0, "dnr_a"), move("contribution", 100, T0, "dnr_b")]
    assert replay(CANDIDATE, moves) == [("contribution", 25000, True), ("contribution", 100, False)]


def test_a_pac_starts_afresh_each_local_year_and_a_candidate_each_cycle() -> None:
    # Both committees are in the assumed Eastern time (UTC-5 in winter and in November).
    dec = datetime(2026, 1, 1, 4, 59, tzinfo=timezone.utc)  # 23:59 on December 31 in New York
    jan = datetime(2026, 1, 1, 5, 0, tzinfo=timezone.utc)  # midnight there
    general_day = datetime(2026, 11, 4, 4, 59, tzinfo=timezone.utc)  # 23:59 on November 3
    next_cycle = datetime(2026, 11, 4, 5, 0, tzinfo=timezone.utc)  # the day after the general
    moves = [move("contribution", 15000, dec), move("contribution", 15000, jan),
             move("contribution", 100, general_day), move("contribution", 100, next_cycle)]
    assert [a for _, a, _ in replay(PAC, moves)] == [15000, 15000, 15100, 15200]
    assert [a for _, a, _ in replay(CANDIDATE, moves)] == [15000, 30000, 30100, 100]


def test_replay_starts_at_the_beginning_of_the_period() -> None:
    july = datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert replay_start(PAC, july) == datetime(2026, 1, 1, 5, tzinfo=timezone.utc)
    assert replay_start(CANDIDATE, july) == datetime(2024, 11, 6, 5, tzinfo=timezone.utc)
    assert election_of(datetime(2025, 5, 1, tzinfo=timezone.utc)) == "G2026"


def test_a_snapshot_replays_independently_and_ended_periods_are_forgotten() -> None:
    r = AggregateReplay(PAC)
    r.apply(move("contribution", 15000, datetime(2025, 6, 1, tzinfo=timezone.utc)))
    copy = r.snapshot()
    r.apply(move("contribution", 10000, datetime(2025, 7, 1, tzinfo=timezone.utc)))
    assert copy.aggregate("dnr_a", datetime(2025, 7, 2, tzinfo=timezone.utc)) == 15000
    assert r.aggregate("dnr_a", datetime(2025, 7, 2, tzinfo=timezone.utc)) == 25000
    r.apply(move("contribution", 100, datetime(2026, 1, 2, tzinfo=timezone.utc), "dnr_b"))
    assert r.donors_tracked == 1  # 2025's totals are gone once 2026 has begun


@given(st.lists(st.tuples(st.sampled_from(["contribution", "refund"]), st.integers(1, 50000),
                          st.sampled_from(["dnr_a", "dnr_b", "dnr_c"])), max_size=30))
def test_each_aggregate_is_the_signed_sum_of_the_donors_movements_so_far(steps) -> None:  # type: ignore[no-untyped-def]
    moves = [move(kind, cents if kind == "contribution" else -cents, T0 + timedelta(hours=i), donor)
             for i, (kind, cents, donor) in enumerate(steps)]
    r = AggregateReplay(CANDIDATE)
    for i, m in enumerate(moves):
        got = r.apply(m)
        expected = sum(x.amount_cents for x in moves[: i + 1] if x.donor_id == m.donor_id)
        assert got.aggregate_cents == expected
        assert got.itemized == (m.kind == "contribution" and expected > 20000)
