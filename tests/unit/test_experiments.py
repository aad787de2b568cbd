"""A/B tests: deterministic assignment, the Bayesian probability of beating the control, and the
winner rule (no winner below the minimum sample)."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest

from chalicelib.pages.experiments import (
    BUCKETS,
    ArmStats,
    arm_results,
    assign,
    bucket_of,
    probability_beats,
    probability_best,
    thompson_assign,
    valid_bucket,
    winner,
)

ARMS = ["control", "urgent", "local"]


def test_a_visitor_has_one_bucket_and_a_bucket_one_arm() -> None:
    visitor = "v-" + uuid.uuid4().hex
    bucket = bucket_of(visitor)
    assert 0 <= bucket < BUCKETS and all(bucket_of(visitor) == bucket for _ in range(5))
    first = assign(bucket, "demo", "x1", ARMS)
    assert all(assign(bucket, "demo", "x1", ARMS) == first for _ in range(20))
    # Another experiment (a changed set of arms) or another page may turn the arms another way.
    turns = {tuple(assign(b, slug, exp, ARMS) for b in range(BUCKETS))
             for slug in ("demo", "other", "third") for exp in ("x1", "x2", "x3")}
    assert len(turns) > 1


@pytest.mark.parametrize("arms", [2, 3, 4, 5, 6])
def test_buckets_split_arms_evenly(arms: int) -> None:
    ids = [f"arm{i}" for i in range(arms)]
    per_arm = Counter(assign(b, "demo", "x1", ids) for b in range(BUCKETS))
    assert set(per_arm) == set(ids)
    assert max(per_arm.values()) - min(per_arm.values()) <= (0 if BUCKETS % arms == 0 else 1)
    # And visitors spread evenly over buckets, so over arms.
    visitors = Counter(assign(bucket_of(f"visitor-{i}"), "demo", "x1", ids) for i in range(30_000))
    assert all(abs(n / 30_000 - per_arm[a] / BUCKETS) < 0.02 for a, n in visitors.items()), visitors


def test_only_edge_shaped_buckets_are_read() -> None:
    assert [valid_bucket(str(b)) for b in range(BUCKETS)] == list(range(BUCKETS))
    for bad in (None, "", str(BUCKETS), "-1", "1.0", "٣", " 1", "0x1", "9999"):
        assert valid_bucket(bad) is None, bad


def test_thompson_sampling_sends_most_buckets_to_the_better_arm() -> None:
    stats = {"control": ArmStats(2_000, 40), "urgent": ArmStats(2_000, 90), "local": ArmStats(2_000, 38)}
    counts = Counter(thompson_assign(b, "demo", "x1", stats, ARMS, period)
                     for b in range(BUCKETS) for period in range(100))
    assert counts["urgent"] > 0.95 * BUCKETS * 100
    # Deterministic for one bucket, period and the same counts: every visitor of it sees one arm.
    once = thompson_assign(1, "demo", "x1", stats, ARMS, 7)
    assert all(thompson_assign(1, "demo", "x1", stats, ARMS, 7) == once for _ in range(5))
    # With no data every arm gets traffic.
    fresh = Counter(thompson_assign(b, "demo", "x1", {}, ARMS, period)
                    for b in range(BUCKETS) for period in range(250))
    assert all(n > 800 for n in fresh.values()), fresh


def monte_carlo(variant: ArmStats, control: ArmStats, draws: int = 40_000) -> float:
    rng = random.Random(7)
    wins = sum(rng.betavariate(variant.alpha, variant.beta) > rng.betavariate(control.alpha, control.beta)
               for _ in range(draws))
    return wins / draws


@pytest.mark.parametrize(("variant", "control"), [
    (ArmStats(100, 10), ArmStats(100, 10)),
    (ArmStats(1_000, 60), ArmStats(1_000, 40)),
    (ArmStats(1_000, 30), ArmStats(1_200, 45)),
    (ArmStats(50, 0), ArmStats(60, 3)),
    (ArmStats(5_000, 260), ArmStats(5_000, 250)),
])
def test_probability_beats_control_matches_monte_carlo(variant: ArmStats, control: ArmStats) -> None:
    exact = probability_beats(variant, control)
    assert abs(exact - monte_carlo(variant, control)) < 0.01
    assert abs(exact + probability_beats(control, variant) - 1) < 1e-9


def test_equal_arms_are_a_coin_flip_and_a_clear_lead_is_near_certain() -> None:
    assert probability_beats(ArmStats(1_000, 50), ArmStats(1_000, 50)) == pytest.approx(0.5, abs=1e-9)
    assert probability_beats(ArmStats(10_000, 600), ArmStats(10_000, 400)) > 0.9999
    assert probability_beats(ArmStats(0, 0), ArmStats(0, 0)) == pytest.approx(0.5)


def test_probability_best_sums_to_one_and_is_reproducible() -> None:
    stats = {"control": ArmStats(1_000, 40), "urgent": ArmStats(1_000, 55), "local": ArmStats(1_000, 41)}
    best = probability_best(stats)
    assert sum(best.values()) == pytest.approx(1.0)
    assert best == probability_best(stats)
    assert max(best, key=lambda a: best[a]) == "urgent"


def test_no_winner_below_the_minimum_sample_even_with_a_huge_lead() -> None:
    stats = {"control": ArmStats(999, 1), "urgent": ArmStats(999, 300)}
    assert winner(stats, min_sample=1_000) is None
    stats["control"] = ArmStats(1_000, 1)
    assert winner(stats, min_sample=1_000) is None  # every arm needs the minimum sample
    assert winner({"control": ArmStats(1_000, 1), "urgent": ArmStats(1_000, 300)}, 1_000) == "urgent"


def test_winner_needs_95_percent() -> None:
    close = {"control": ArmStats(2_000, 100), "urgent": ArmStats(2_000, 110)}
    assert 0.5 < probability_beats(close["urgent"], close["control"]) < 0.95
    assert winner(close, 1_000) is None
    clear = {"control": ArmStats(2_000, 100), "urgent": ArmStats(2_000, 150)}
    assert winner(clear, 1_000) == "urgent"
    # The control can win too.
    assert winner({"control": ArmStats(2_000, 150), "urgent": ArmStats(2_000, 100)}, 1_000) == "control"
    # Three arms: the best must be ahead of all of them.
    three = {"control": ArmStats(2_000, 100), "urgent": ArmStats(2_000, 150), "local": ArmStats(2_000, 149)}
    assert winner(three, 1_000) is None


def test_arm_results() -> None:
    assert arm_results(ArmStats(1_000, 40, 108_000)) == {
        "visitors": 1_000, "donations": 40, "conversion_rate": 0.04, "amount_cents": 108_000,
        "average_gift_cents": 2_700}
    assert arm_results(ArmStats())["conversion_rate"] is None
