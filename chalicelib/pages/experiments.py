"""A/B tests of a page's copy: who sees which variant, and what the results say.

Assignment goes through a *bucket*: each visitor id hashes to one of `BUCKETS` buckets (the
CloudFront Function at the edge computes the same hash, see devtools/deploy/edge/), and each bucket
of a page shows one arm, so the edge can cache one copy of a page per bucket and never show one
visitor another's variant. The arm of a bucket is a pure function of the bucket, the page and the
experiment: arms take turns over the buckets from an offset hashed from the page and experiment,
so every arm gets the same share of buckets when their number divides `BUCKETS` (2, 3, 4 or 6
arms), and one bucket more or less otherwise. A visitor sees the same variant on every visit.

With `auto_allocate` each bucket is assigned by Thompson sampling instead: one draw from each
arm's Beta posterior, seeded by the bucket, page, experiment and the allocation period
(`ALLOCATION_PERIOD_SECONDS`); the highest draw wins, so traffic drifts toward the arm that
converts better, a period at a time (a returning visitor may see another arm in a later period).

Results use a Beta(1, 1) prior on each arm's conversion rate (donations / visitors). The
probability that a variant beats the control is computed exactly (a finite sum of Beta
functions); the probability of being the best of three or more arms by Monte Carlo with a fixed
seed, so the same counts always give the same answer.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIN_PROBABILITY = 0.95
# Buckets per page: the edge keeps one cached copy of a page per bucket, so few keep origin
# requests low; 12 splits 2, 3, 4 and 6 arms exactly (5 arms: 3, 3, 2, 2, 2 buckets).
BUCKETS = 12
ALLOCATION_PERIOD_SECONDS = 600
MONTE_CARLO_DRAWS = 10_000
MONTE_CARLO_SEED = 20_261_103


@dataclass(frozen=True)
class ArmStats:
    """What one arm has seen: distinct visitors, donations that became contributions, money."""

    visitors: int = 0
    conversions: int = 0
    amount_cents: int = 0

    @property
    def alpha(self) -> int:
        return 1 + self.conversions

    @property
    def beta(self) -> int:
        return 1 + max(self.visitors - self.conversions, 0)


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:16], 16)


def bucket_of(visitor_id: str) -> int:
    """The visitor's bucket: the first 32 bits of SHA-256 of the id, modulo `BUCKETS` (the edge's
    viewer-request function computes exactly this)."""
    return int(hashlib.sha256(visitor_id.encode()).hexdigest()[:8], 16) % BUCKETS


def valid_bucket(text: str | None) -> int | None:
    """A bucket number as the edge sends it (`0`…`BUCKETS-1`, ASCII digits), else None."""
    if text and text.isascii() and text.isdigit() and len(text) <= 3 and int(text) < BUCKETS:
        return int(text)
    return None


def assign(bucket: int, slug: str, experiment: str, arm_ids: Sequence[str]) -> str:
    """The arm a bucket sees: arms in turn from an offset fixed for this page and experiment."""
    return arm_ids[(bucket + _hash(slug, experiment)) % len(arm_ids)]


def allocation_period(epoch_seconds: float) -> int:
    """The Thompson allocation period a moment falls in."""
    return int(epoch_seconds // ALLOCATION_PERIOD_SECONDS)


def thompson_assign(bucket: int, slug: str, experiment: str, stats: Mapping[str, ArmStats],
                    arm_ids: Sequence[str], period: int = 0) -> str:
    """Thompson sampling: the arm whose posterior draw is highest (draws seeded per bucket and
    allocation period, so every visitor of a bucket sees one arm for the period)."""
    rng = random.Random(_hash(f"b{bucket}", slug, experiment, "thompson", str(period)))
    draws = [(rng.betavariate(s.alpha, s.beta), arm) for arm in arm_ids
             for s in (stats.get(arm, ArmStats()),)]
    return max(draws, key=lambda d: d[0])[1]


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def probability_beats(variant: ArmStats, control: ArmStats) -> float:
    """P(variant's conversion rate > control's) under Beta(1, 1) priors, exactly.

    For integer a_B: P(p_B > p_A) = sum_{i<a_B} B(a_A+i, b_A+b_B) / ((b_B+i) B(1+i, b_B) B(a_A, b_A)).
    The sum runs over the arm with fewer conversions (P(A > B) = 1 - P(B > A))."""
    if variant.alpha > control.alpha:
        return 1.0 - probability_beats(control, variant)
    a_a, b_a, a_b, b_b = control.alpha, control.beta, variant.alpha, variant.beta
    base = _log_beta(a_a, b_a)
    total = 0.0
    for i in range(a_b):
        total += math.exp(_log_beta(a_a + i, b_a + b_b) - math.log(b_b + i)
                          - _log_beta(1 + i, b_b) - base)
    return min(max(total, 0.0), 1.0)


def probability_best(stats: Mapping[str, ArmStats]) -> dict[str, float]:
    """Each arm's probability of having the highest conversion rate."""
    arms = list(stats)
    if len(arms) == 2:
        p = probability_beats(stats[arms[1]], stats[arms[0]])
        return {arms[0]: 1.0 - p, arms[1]: p}
    rng = random.Random(MONTE_CARLO_SEED)
    wins = dict.fromkeys(arms, 0)
    for _ in range(MONTE_CARLO_DRAWS):
        best = max(arms, key=lambda a: rng.betavariate(stats[a].alpha, stats[a].beta))
        wins[best] += 1
    return {a: wins[a] / MONTE_CARLO_DRAWS for a in arms}


def winner(stats: Mapping[str, ArmStats], min_sample: int,
           threshold: float = WIN_PROBABILITY) -> str | None:
    """The arm ahead with at least `threshold` probability of being best, once every arm has
    `min_sample` visitors; None before that, or while no arm is that far ahead."""
    if len(stats) < 2 or any(s.visitors < min_sample for s in stats.values()):
        return None
    best = probability_best(stats)
    leader = max(best, key=lambda a: best[a])
    return leader if best[leader] >= threshold else None


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (Lentz's continued fraction)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only below the mean
        return 1.0 - _incomplete_beta(1.0 - x, b, a)
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-12:
            break
    return front * result


def beta_quantile(q: float, a: float, b: float) -> float:
    """The `q` quantile of Beta(a, b), by bisection on its CDF (60 halvings: ~1e-18)."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if _incomplete_beta(mid, a, b) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def credible_interval(stats: ArmStats, level: float = 0.95) -> tuple[float, float]:
    """The central `level` credible interval of an arm's conversion rate (Beta(1, 1) prior)."""
    tail = (1 - level) / 2
    return (round(beta_quantile(tail, stats.alpha, stats.beta), 6),
            round(beta_quantile(1 - tail, stats.alpha, stats.beta), 6))


def arm_results(stats: ArmStats) -> dict[str, object]:
    return {
        "visitors": stats.visitors,
        "donations": stats.conversions,
        "conversion_rate": round(stats.conversions / stats.visitors, 6) if stats.visitors else None,
        "amount_cents": stats.amount_cents,
        "average_gift_cents": round(stats.amount_cents / stats.conversions) if stats.conversions else None,
    }
