"""Organizers' operations on pages, and the public view with live totals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.errors import InvalidInput, NotFound
from chalicelib.pages.model import Page, PageTotals, public_view

if TYPE_CHECKING:
    from chalicelib.pages.input import PageCreate, PageUpdate


class PageStore(Protocol):
    def create(self, page: Page) -> None: ...
    def update(self, slug: str, changes: dict[str, Any], updated_at: datetime) -> Page: ...
    def get(self, slug: str) -> Page | None: ...
    def list(self) -> list[Page]: ...
    def totals(self, slug: str) -> PageTotals: ...


class PageService:
    def __init__(self, store: PageStore, publishable_key: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.store = store
        self.publishable_key = publishable_key
        self.clock = clock

    def create(self, data: PageCreate) -> Page:
        now = self.clock()
        page = Page(created_at=now, updated_at=now, **data.model_dump())
        self.store.create(page)
        return page

    def update(self, slug: str, data: PageUpdate) -> Page:
        changes = data.model_dump(exclude_unset=True)
        nulls = {k: "may not be null" for k, v in changes.items() if v is None}
        if nulls:
            raise InvalidInput("invalid_request", "Some fields may not be null.", fields=nulls)
        if not changes:
            raise InvalidInput("invalid_request", "Nothing to change.")
        return self.store.update(slug, changes, self.clock())

    def get(self, slug: str) -> Page:
        page = self.store.get(slug)
        if page is None:
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        return page

    def list(self) -> list[Page]:
        return self.store.list()

    def public(self, slug: str) -> dict[str, object]:
        page = self.get(slug)
        return public_view(page, self.store.totals(slug), self.clock(), self.publishable_key)
