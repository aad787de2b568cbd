"""Pages and their sharded thermometer totals in DynamoDB."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.errors import Conflict, NotFound
from chalicelib.pages.model import Page, PageTotals
from chalicelib.storage.donations import counter_id
from chalicelib.storage.models import CounterShardModel, PageModel

_FIELDS = ("title", "headline", "body", "ask_amounts_cents", "goal_cents", "deadline",
           "election", "committee_id")


class PageRepository:
    def __init__(self, counter_shards: int) -> None:
        self.counter_shards = counter_shards

    def create(self, page: Page) -> None:
        item = PageModel(page.slug, created_at=page.created_at, updated_at=page.updated_at,
                         **{f: getattr(page, f) for f in _FIELDS})
        try:
            item.save(condition=PageModel.slug.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("page_exists", f"A page with slug '{page.slug}' exists.",
                               fields={"slug": "already taken"}) from None
            raise

    def update(self, slug: str, changes: dict[str, Any], updated_at: Any) -> Page:
        item = PageModel(slug)
        actions = [getattr(PageModel, f).set(v) for f, v in changes.items()]
        actions.append(PageModel.updated_at.set(updated_at))
        try:
            item.update(actions=actions, condition=PageModel.slug.exists())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound("page_not_found", f"No donation page '{slug}'.") from None
            raise
        return _from_item(item)

    def get(self, slug: str) -> Page | None:
        try:
            return _from_item(PageModel.get(slug))
        except DoesNotExist:
            return None

    def list(self) -> list[Page]:
        return sorted((_from_item(i) for i in PageModel.scan()), key=lambda p: p.slug)

    def totals(self, slug: str) -> PageTotals:
        """The sum of the page's counter shards: one BatchGetItem, no hot item."""
        keys = [counter_id(slug, n) for n in range(self.counter_shards)]
        raised = count = 0
        for shard in CounterShardModel.batch_get(keys):
            raised += int(shard.raised_cents or 0)
            count += int(shard.contribution_count or 0)
        return PageTotals(raised_cents=raised, contribution_count=count)


def _from_item(i: PageModel) -> Page:
    return Page(
        slug=i.slug, title=i.title, headline=i.headline, body=i.body or "",
        ask_amounts_cents=[int(a) for a in i.ask_amounts_cents],  # type: ignore[call-overload]
        goal_cents=int(i.goal_cents),
        deadline=i.deadline.astimezone(timezone.utc), election=i.election,
        committee_id=i.committee_id, created_at=i.created_at.astimezone(timezone.utc),
        updated_at=i.updated_at.astimezone(timezone.utc),
    )
