"""Pages, their deadline and goal history, and their sharded thermometer totals in DynamoDB."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.pages.history import HistoryEntry
from chalicelib.pages.model import Page, PageTotals, Supporter, Variant
from chalicelib.pages.service import StalePage
from chalicelib.paging import Slice
from chalicelib.storage import paging
from chalicelib.storage.cache import ReadCache
from chalicelib.storage.donations import counter_id
from chalicelib.storage.errors import response_code
from chalicelib.storage.models import CounterShardModel, PageHistoryModel, PageModel, WebSessionModel
from chalicelib.storage.web_sessions import used_link

_FIELDS = ("title", "headline", "body", "ask_amounts_cents", "goal_cents", "deadline",
           "election", "elections", "committee_id", "deadlines", "deadline_extended", "auto_allocate",
           "embed_origins", "closed_reason", "supporters_auto_approve", "locale")


class PageRepository:
    """Pages in DynamoDB. An eventually consistent `get` (intake, page views) is served from a
    per-container copy up to `cache_seconds` old (chalicelib/storage/cache.py); a page this
    repository creates or changes is read afresh."""

    def __init__(self, counter_shards: int, cache_seconds: float = 0.0) -> None:
        self.counter_shards = counter_shards
        self._connection: Connection | None = None
        self._cache: ReadCache[Page] = ReadCache(cache_seconds)

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = Connection(region=settings().region)
        return self._connection

    def create(self, page: Page, entry: HistoryEntry | None = None) -> None:
        """The page and its first history entry, in one transaction; 409 if the slug is taken."""
        self._cache.forget(page.slug)
        item = PageModel(page.slug, created_at=page.created_at, updated_at=page.updated_at,
                         variants=_variants(page.variants), version=page.version,
                         parent_slug=page.supporter.parent_slug if page.supporter else None,
                         supporter=page.supporter.to_dict() if page.supporter else None,
                         **{f: getattr(page, f) for f in _FIELDS})
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(item, condition=PageModel.slug.does_not_exist())
                if entry is not None:
                    tx.save(_history_item(entry))
                if page.supporter is not None:  # one per donor and campaign page, however raced
                    marker = used_link(page.supporter.owner_key, page.created_at,
                                       page.schedule[-1] + timedelta(days=1))
                    tx.save(marker, condition=WebSessionModel.session_hash.does_not_exist())
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if page.supporter is not None and reasons and _failed_at(reasons, -1):
                raise Conflict("supporter_page_exists",
                               "You already have a page for this campaign.") from None
            if _condition_failed(exc):
                raise Conflict("page_exists", f"A page with slug '{page.slug}' exists.",
                               fields={"slug": "already taken"}) from None
            raise

    def update(self, slug: str, expected_version: int, changes: dict[str, Any], updated_at: datetime,
               entry: HistoryEntry | None = None) -> Page:
        """Set `changes` if the page is still at `expected_version`, with its history entry in
        the same transaction. Raises NotFound, or StalePage when someone changed it first."""
        self._cache.forget(slug)
        m = PageModel
        actions: builtins.list[Any] = []
        for name, value in changes.items():
            if name == "variants":
                actions.append(m.variants.set(_variants(value)))
            elif name == "deadlines" and not value:
                actions.append(m.deadlines.remove())
            elif name == "supporter":
                actions.append(m.supporter.set(value.to_dict()))
            else:
                actions.append(getattr(m, name).set(value))
        actions += [m.updated_at.set(updated_at), m.version.set(expected_version + 1)]
        same = m.version == expected_version
        if expected_version == 0:  # pages stored before versions existed
            same = same | m.version.does_not_exist()
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.update(PageModel(slug), actions=actions, condition=m.slug.exists() & same)
                if entry is not None:
                    tx.save(_history_item(entry))
        except TransactWriteError as exc:
            if _condition_failed(exc):
                if self.get(slug, consistent=True) is None:
                    raise NotFound("page_not_found", f"No donation page '{slug}'.") from None
                raise StalePage(slug) from None
            if response_code(exc) == "TransactionCanceledException":
                raise StalePage(slug) from None
            raise
        page = self.get(slug, consistent=True)
        if page is None:
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        return page

    def get(self, slug: str, consistent: bool = False) -> Page | None:
        """The page (None if there is none); read now when `consistent`, else possibly the
        container's copy of the last few seconds. A missing page is not kept."""
        if not consistent:
            cached = self._cache.get(slug)
            if cached is not None:
                return cached
        try:
            page = _from_item(PageModel.get(slug, consistent_read=consistent))
        except DoesNotExist:
            return None
        return self._cache.put(slug, page)

    def list(self) -> list[Page]:
        return sorted((_from_item(i) for i in PageModel.scan()), key=lambda p: p.slug)

    def page(self, limit: int, after: str | None = None) -> Slice[Page]:
        """Up to `limit` pages (one Scan page, never the whole table) and where the next begins."""
        found = PageModel.scan(limit=limit, last_evaluated_key=paging.decode(after, ["slug"]))
        items = sorted((_from_item(i) for i in found), key=lambda p: p.slug)
        return Slice(items, paging.encode(found.last_evaluated_key))

    def committee_pages(self, committee_id: str, after: str | None = None,
                        page_size: int = 100) -> Iterator[Page]:
        """Every page of one committee in slug order (those after `after`, a resume point), from
        its `by-committee` index (a Query, `page_size` keys at a time, never a Scan); each page
        is read by key, consistently (a job decides on it). A page created a moment ago may not
        be in the index yet (it is eventually consistent)."""
        condition = PageModel.slug > after if after is not None else None
        for key in PageModel.by_committee.query(committee_id, condition, page_size=page_size):
            page = self.get(key.slug, consistent=True)
            if page is not None:
                yield page

    def children(self, parent_slug: str, page_size: int = 100) -> Iterator[Page]:
        """The supporters' pages under a campaign page: a Query of the sparse `by-parent` index,
        `page_size` items a request (never a Scan)."""
        for item in PageModel.by_parent.query(parent_slug, page_size=page_size):
            yield _from_item(item)

    def totals_of(self, slugs: Iterable[str]) -> dict[str, PageTotals]:
        """Each page's thermometer: all their counter shards in BatchGetItem requests of 100 keys."""
        wanted = list(dict.fromkeys(slugs))
        sums = {slug: [0, 0] for slug in wanted}
        keys = [counter_id(slug, n) for slug in wanted for n in range(self.counter_shards)]
        for shard in CounterShardModel.batch_get(keys):
            slug = shard.counter_id.split("#")[1]
            if slug in sums:
                sums[slug][0] += int(shard.raised_cents or 0)
                sums[slug][1] += int(shard.contribution_count or 0)
        return {slug: PageTotals(raised_cents=r, contribution_count=c) for slug, (r, c) in sums.items()}

    def history(self, slug: str) -> builtins.list[HistoryEntry]:
        return [HistoryEntry(
            slug=i.slug, version=int(i.version), action=i.action,
            changed_at=i.changed_at.astimezone(timezone.utc), changed_by=i.changed_by,
            changes=dict(i.changes or {}), deadline_extended=bool(i.deadline_extended),
        ) for i in PageHistoryModel.query(slug, consistent_read=True)]

    def totals(self, slug: str) -> PageTotals:
        """The sum of the page's counter shards: one BatchGetItem, no hot item."""
        keys = [counter_id(slug, n) for n in range(self.counter_shards)]
        raised = count = 0
        for shard in CounterShardModel.batch_get(keys):
            raised += int(shard.raised_cents or 0)
            count += int(shard.contribution_count or 0)
        return PageTotals(raised_cents=raised, contribution_count=count)


def _failed_at(reasons: builtins.list[Any], index: int) -> bool:
    """Whether the transaction's item at `index` failed its condition."""
    reason = reasons[index]
    return reason is not None and reason.code == "ConditionalCheckFailed"


def _condition_failed(exc: TransactWriteError) -> bool:
    return any(r is not None and r.code == "ConditionalCheckFailed"
               for r in exc.cancellation_reasons or [])


def _variants(variants: list[Variant]) -> list[dict[str, object]] | None:
    return [v.view() for v in variants] or None


def _history_item(entry: HistoryEntry) -> PageHistoryModel:
    return PageHistoryModel(
        entry.slug, entry.version, action=entry.action, changed_at=entry.changed_at,
        changed_by=entry.changed_by, changes=entry.changes, deadline_extended=entry.deadline_extended,
    )


def _from_item(i: PageModel) -> Page:
    return Page(
        slug=i.slug, title=i.title, headline=i.headline, body=i.body or "",
        ask_amounts_cents=[int(a) for a in i.ask_amounts_cents],  # type: ignore[call-overload]
        goal_cents=int(i.goal_cents),
        deadline=i.deadline.astimezone(timezone.utc), election=i.election,
        elections=[str(e) for e in i.elections or []],
        committee_id=i.committee_id, created_at=i.created_at.astimezone(timezone.utc),
        updated_at=i.updated_at.astimezone(timezone.utc),
        deadlines=sorted(d.astimezone(timezone.utc) for d in i.deadlines or []),  # type: ignore[attr-defined]
        deadline_extended=bool(i.deadline_extended),
        variants=[Variant.from_dict(v) for v in i.variants or []],
        auto_allocate=bool(i.auto_allocate), version=int(i.version or 0),
        embed_origins=[str(o) for o in i.embed_origins or []],
        locale=i.locale or "en",
        closed_reason=i.closed_reason or None,
        supporter=(Supporter.from_dict(i.parent_slug, dict(i.supporter))
                   if i.parent_slug and i.supporter else None),
        supporters_auto_approve=bool(i.supporters_auto_approve),
    )
