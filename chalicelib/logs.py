"""Structured JSON logs through aws-lambda-powertools, loaded on first use (not at import).

Log ids and codes only: never emails, names, addresses, card data, keys or secrets.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service="groundswell")


def info(message: str, **fields: Any) -> None:
    _logger().info(message, extra=fields)


def warning(message: str, **fields: Any) -> None:
    _logger().warning(message, extra=fields)


def exception(message: str, **fields: Any) -> None:
    _logger().exception(message, extra=fields)
