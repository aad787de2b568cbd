"""Visitors in DynamoDB: each one's A/B impression, refcode arrival and visit on a (committee's
local) day, counted once each, on sharded counters (`variant#{slug}#{variant_id}#{n}`,
`refcode#{slug}#{refcode}#{n}`, `day#{slug}#{YYYY-MM-DD}#{n}`).

A visit item is created with a conditional put, and the counter shard incremented in the same
transaction, so a visitor counts once however many times (or however concurrently) the page's
beacon reports them. Visit items expire with the visitor cookie (TTL)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings
from chalicelib.pages.experiments import ArmStats
from chalicelib.storage.donations import shard_for
from chalicelib.storage.models import CounterShardModel, VisitModel

K = TypeVar("K")
VISIT_TTL = timedelta(days=365)
DAY_VISIT_TTL = timedelta(days=3)  # a day's claims outlive the day in every time zone


def variant_counter_id(slug: str, variant_id: str, shard: int) -> str:
    return f"variant#{slug}#{variant_id}#{shard}"


def refcode_counter_id(slug: str, refcode: str, shard: int) -> str:
    return f"refcode#{slug}#{refcode}#{shard}"


def day_counter_id(slug: str, day: date, shard: int) -> str:
    return f"day#{slug}#{day.isoformat()}#{shard}"


class VisitRepository:
    def __init__(self, counter_shards: int, ttl: timedelta = VISIT_TTL) -> None:
        self.counter_shards = counter_shards
        self.ttl = ttl
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = Connection(region=settings().region)
        return self._connection

    # --- A/B impressions ----------------------------------------------------------------
    def count_impression(self, slug: str, experiment: str, visitor_id: str, variant_id: str,
                         now: datetime) -> bool:
        """Count the visitor's impression of `variant_id` once per experiment (the visit item
        keeps the arm they were counted for); True if this was new."""
        shard = shard_for(visitor_id, self.counter_shards)
        visit = VisitModel(_assignment_key(slug, experiment, visitor_id), variant_id=variant_id,
                           expires_at=now + self.ttl)
        return self._claim(visit, CounterShardModel(variant_counter_id(slug, variant_id, shard)))

    # --- refcodes -----------------------------------------------------------------------
    def count_refcode_visit(self, slug: str, refcode: str, visitor_id: str, now: datetime) -> bool:
        """Count a visitor arriving with `refcode` on this page, once; True if this was new."""
        shard = shard_for(visitor_id, self.counter_shards)
        visit = VisitModel(f"r#{slug}#{refcode}#{visitor_id}", expires_at=now + self.ttl)
        return self._claim(visit, CounterShardModel(refcode_counter_id(slug, refcode, shard)))

    def refcode_visitors(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Distinct visitors per (page, refcode): the sum of the pair's shards."""
        return self._distinct(pairs, refcode_counter_id)

    # --- visitors per day (the dashboard's conversion today) -------------------------------
    def count_day_visit(self, slug: str, day: date, visitor_id: str, now: datetime) -> bool:
        """Count a visitor of the page once on `day` (a local date); True if this was new."""
        shard = shard_for(visitor_id, self.counter_shards)
        visit = VisitModel(f"d#{slug}#{day.isoformat()}#{visitor_id}", expires_at=now + DAY_VISIT_TTL)
        return self._claim(visit, CounterShardModel(day_counter_id(slug, day, shard)))

    def day_visitors(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]:
        """Distinct visitors per (page, local day): the sum of the pair's shards."""
        return self._distinct(pairs, day_counter_id)

    def _distinct(self, pairs: Iterable[tuple[str, K]],
                  counter_id: Callable[[str, K, int], str]) -> dict[tuple[str, K], int]:
        """Each pair's shards summed, read in one BatchGetItem (PynamoDB splits it at 100 keys)."""
        keys = {counter_id(slug, key, n): (slug, key)
                for slug, key in set(pairs) for n in range(self.counter_shards)}
        counts = dict.fromkeys(set(keys.values()), 0)
        for item in CounterShardModel.batch_get(list(keys)):
            counts[keys[item.counter_id]] += int(item.impressions or 0)
        return counts

    # --- results ------------------------------------------------------------------------
    def arm_stats(self, slug: str, arm_ids: list[str]) -> dict[str, ArmStats]:
        """Visitors, conversions and money per arm: every arm's shards in one BatchGetItem
        (PynamoDB splits it at 100 keys)."""
        keys = {variant_counter_id(slug, arm, n): arm for arm in arm_ids for n in range(self.counter_shards)}
        sums = {arm: [0, 0, 0] for arm in arm_ids}
        for item in CounterShardModel.batch_get(list(keys)):
            total = sums[keys[item.counter_id]]
            total[0] += int(item.impressions or 0)
            total[1] += int(item.conversions or 0)
            total[2] += int(item.amount_cents or 0)
        return {arm: ArmStats(*total) for arm, total in sums.items()}

    def _claim(self, visit: VisitModel, counter: CounterShardModel) -> bool:
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(visit, condition=VisitModel.visit_key.does_not_exist())
                tx.update(counter, actions=[CounterShardModel.impressions.add(1)])
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in exc.cancellation_reasons or []]
            if "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True


def _assignment_key(slug: str, experiment: str, visitor_id: str) -> str:
    return f"a#{slug}#{experiment}#{visitor_id}"
