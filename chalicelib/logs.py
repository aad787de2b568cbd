"""Structured JSON logs through aws-lambda-powertools, loaded on first use (not at import).

Log ids and codes only: never emails, names, addresses, card data, keys or secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _logger() -> Any:
    import logging

    from aws_lambda_powertools import Logger

    logger = Logger(service="groundswell")
    # One JSON line per record: not again, in plain text, by the root logger's handler (which
    # Lambda's runtime installs). Chalice's own records (the app's logger) come here too.
    logging.getLogger("groundswell").propagate = False
    return logger


def info(message: str, **fields: Any) -> None:
    _logger().info(message, extra=fields, stacklevel=3)


def warning(message: str, **fields: Any) -> None:
    _logger().warning(message, extra=fields, stacklevel=3)


def error(message: str, **fields: Any) -> None:
    _logger().error(message, extra=fields, stacklevel=3)


def exception(message: str, **fields: Any) -> None:
    _logger().exception(message, extra=fields, stacklevel=3)


@contextmanager
def context(**keys: Any) -> Iterator[None]:
    """Add `keys` (ids, never PII) to every line this thread logs inside the block."""
    logger = _logger()
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(keys)
