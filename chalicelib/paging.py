"""Paged lists: a slice of items and the opaque cursor that continues after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_PAGE = 100


@dataclass(frozen=True)
class Slice(Generic[T]):
    """Up to a page of items; `after` (None at the end) asks for the next page."""

    items: list[T] = field(default_factory=list)
    after: str | None = None
