"""The ledger's merge converges whatever order and however often events arrive."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.giving.ledger import Fact, PaymentState, merge, totals_delta

AMOUNT = 2700
facts = st.one_of(
    st.just(Fact("paid")),
    st.just(Fact("failed")),
    st.integers(min_value=0, max_value=AMOUNT).map(lambda c: Fact("refunded", refunded_cents=c)),
    st.just(Fact("dispute_opened")),
    st.sampled_from(["won", "lost"]).map(lambda o: Fact("dispute_closed", dispute_outcome=o)),
)


def fold(seq: list[Fact]) -> PaymentState:
    state = PaymentState(amount_cents=AMOUNT)
    for fact in seq:
        state = merge(state, fact)
    return state


@given(st.lists(facts, max_size=6), st.randoms())
def test_any_order_and_any_duplicates_converge(seq: list[Fact], rnd) -> None:
    shuffled = seq + seq[: len(seq) // 2]  # some delivered twice
    rnd.shuffle(shuffled)
    assert fold(shuffled) == fold(seq)


@given(st.lists(facts, max_size=6))
def test_sum_of_deltas_equals_final_totals(seq: list[Fact]) -> None:
    state = PaymentState(amount_cents=AMOUNT)
    cents = contributions = 0
    for fact in seq:
        new = merge(state, fact)
        delta = totals_delta(state, new)
        cents, contributions = cents + delta.cents, contributions + delta.contributions
        state = new
    assert cents == state.counted_cents
    assert contributions == state.counted_contributions


def test_refund_before_success_ends_like_success_then_refund() -> None:
    refund = Fact("refunded", refunded_cents=700)
    for order in itertools.permutations([Fact("paid"), refund]):
        state = fold(list(order))
        assert state.status == "succeeded"
        assert state.counted_cents == 2000
        assert state.counted_contributions == 1


def test_full_refund_counts_neither_money_nor_contribution() -> None:
    state = fold([Fact("paid"), Fact("refunded", refunded_cents=AMOUNT)])
    assert state.status == "refunded"
    assert (state.counted_cents, state.counted_contributions) == (0, 0)


def test_dispute_removes_the_money_until_won() -> None:
    opened = fold([Fact("paid"), Fact("dispute_opened")])
    assert opened.status == "disputed"
    assert (opened.counted_cents, opened.counted_contributions) == (0, 0)
    won = merge(opened, Fact("dispute_closed", dispute_outcome="won"))
    assert won.status == "succeeded" and won.counted_cents == AMOUNT
    lost = merge(opened, Fact("dispute_closed", dispute_outcome="lost"))
    assert lost.status == "disputed" and lost.counted_cents == 0
    # A closing that arrives before the opening still wins.
    assert fold([Fact("dispute_closed", dispute_outcome="won"), Fact("dispute_opened")]) == won


def test_failure_then_success_is_a_success() -> None:
    assert fold([Fact("failed"), Fact("paid")]).status == "succeeded"
    assert fold([Fact("failed")]).status == "failed"
    assert fold([]).status == "pending"


@given(st.lists(facts, max_size=6))
def test_movements_sum_to_the_counted_money(seq: list[Fact]) -> None:
    from chalicelib.giving.ledger import movements

    state = PaymentState(amount_cents=AMOUNT)
    total = 0
    for fact in seq:
        new = merge(state, fact)
        total += sum(m.cents for m in movements(state, new))
        state = new
    assert total == state.counted_cents
