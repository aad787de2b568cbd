"""Settings, once per process, and the names of the stage's AWS resources.

`settings()` is the one typed settings object (chalicelib/settings.py, pydantic-settings),
built on first use. Resource names are also needed at import time (Chalice's
`on_sqs_message(queue=…)`) and on the cold-start path, where importing pydantic-settings would
cost more than the rest of the import: `table_name`, `queue_name` and `bucket_name` read them
without it. Each is `groundswell-<stage>-<kind>` unless the stage's `.chalice/config.json`
names it (`PAGES_TABLE`, `EXPORTS_QUEUE`, …).

Outside a local dev stage, secrets come from SSM Parameter Store (`ensure_secrets`, once per
container) and the app refuses to serve while `problems()` finds any.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.settings import Settings


def _prefix() -> str:
    stage = os.environ.get("STAGE", "").strip() or "unset"
    return os.environ.get("TABLE_PREFIX", "").strip() or f"groundswell-{stage}"


def _named(kind: str, suffix: str) -> str:
    override = os.environ.get(f"{kind.upper().replace('-', '_')}_{suffix}", "").strip()
    return override or f"{_prefix()}-{kind}"


def table_name(kind: str) -> str:
    """The stage's DynamoDB table for `kind` (e.g. `pages`, `page-history`)."""
    return _named(kind, "TABLE")


def queue_name(kind: str) -> str:
    """The stage's SQS queue for `kind` (e.g. `exports`)."""
    return _named(kind, "QUEUE")


def bucket_name(kind: str) -> str:
    """The stage's S3 bucket for `kind` (e.g. `exports`)."""
    return _named(kind, "BUCKET")


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings; `settings.cache_clear()` re-reads the environment (tests).
    Raises pydantic's ValidationError when the environment is unusable (no `STAGE`)."""
    from chalicelib.settings import Settings

    return Settings()  # type: ignore[call-arg]  # fields come from the environment


def ensure_secrets() -> None:
    """Outside a local dev stage, read the secrets missing from the environment from SSM
    Parameter Store (one GetParameters call, once per container). A secret SSM does not have
    stays missing: `problems()` reports it and nothing serves."""
    from chalicelib.settings import SECRET_NAMES

    s = settings()
    missing = [name for name in SECRET_NAMES if not os.environ.get(name)]
    if s.local_dev or not missing:
        return
    prefix = f"/groundswell/{s.stage}/"
    import boto3

    response = boto3.client("ssm", region_name=s.region).get_parameters(
        Names=[prefix + name for name in missing], WithDecryption=True)
    for parameter in response.get("Parameters", []):
        os.environ[parameter["Name"].removeprefix(prefix)] = parameter["Value"]
    settings.cache_clear()


@lru_cache(maxsize=1)
def problems() -> tuple[str, ...]:
    """Why this container must not serve, checked once (after loading secrets): an unusable
    environment, a missing secret, a non-https public URL or no trusted SNS topic outside local
    dev. Empty when all is well. `problems.cache_clear()` checks again (tests)."""
    from pydantic import ValidationError

    try:
        ensure_secrets()
        return tuple(settings().problems())
    except ValidationError as exc:
        return tuple(f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
                     for e in exc.errors(include_url=False, include_input=False))
    except Exception as exc:  # SSM unreachable or refused: serve nothing rather than guess
        return (f"secrets could not be read from SSM ({type(exc).__name__})",)


class NotConfigured(RuntimeError):
    """The configuration is unusable; see `problems()`."""


def require_ready() -> Settings:
    """The settings, once `problems()` finds none (services call this before using secrets)."""
    found = problems()
    if found:
        raise NotConfigured("refusing to run: " + "; ".join(found))
    return settings()
