"""Settings read from the environment, once per process.

Table, queue and bucket names come from `.chalice/config.json` per stage; secrets come from
the environment (in AWS they are loaded from SSM at cold start, never stored in the template).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    pages_table: str
    donations_table: str
    donors_table: str
    aggregates_table: str
    counters_table: str
    events_table: str
    staff_keys_table: str
    outbox_table: str
    movements_table: str
    committees_table: str
    exports_table: str
    exports_queue: str
    exports_bucket: str
    ledger_shards: int
    outbox_shards: int
    outbox_max_attempts: int
    stripe_secret_key: str
    stripe_publishable_key: str
    stripe_webhook_secret: str
    stripe_api_base: str | None
    stripe_js_url: str
    counter_shards: int
    webhook_tolerance_seconds: int
    max_body_bytes: int

    @property
    def stripe_livemode(self) -> bool:
        """Whether the configured key is a live key: events must then be live, and vice versa."""
        return self.stripe_secret_key.startswith(("sk_live_", "rk_live_"))


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings; `settings.cache_clear()` re-reads the environment (tests)."""
    stage = _env("STAGE", "dev")
    prefix = _env("TABLE_PREFIX", f"groundswell-{stage}")
    return Settings(
        stage=stage,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
        pages_table=_env("PAGES_TABLE", f"{prefix}-pages"),
        donations_table=_env("DONATIONS_TABLE", f"{prefix}-donations"),
        donors_table=_env("DONORS_TABLE", f"{prefix}-donors"),
        aggregates_table=_env("AGGREGATES_TABLE", f"{prefix}-aggregates"),
        counters_table=_env("COUNTERS_TABLE", f"{prefix}-counters"),
        events_table=_env("EVENTS_TABLE", f"{prefix}-events"),
        staff_keys_table=_env("STAFF_KEYS_TABLE", f"{prefix}-staff-keys"),
        outbox_table=_env("OUTBOX_TABLE", f"{prefix}-outbox"),
        movements_table=_env("MOVEMENTS_TABLE", f"{prefix}-movements"),
        committees_table=_env("COMMITTEES_TABLE", f"{prefix}-committees"),
        exports_table=_env("EXPORTS_TABLE", f"{prefix}-exports"),
        exports_queue=_env("EXPORTS_QUEUE", f"{prefix}-exports"),
        exports_bucket=_env("EXPORTS_BUCKET", f"{prefix}-exports"),
        ledger_shards=int(_env("LEDGER_SHARDS", "10")),
        outbox_shards=int(_env("OUTBOX_SHARDS", "10")),
        outbox_max_attempts=int(_env("OUTBOX_MAX_ATTEMPTS", "8")),
        stripe_secret_key=_env("STRIPE_SECRET_KEY", "sk_test_local_standin"),
        stripe_publishable_key=_env("STRIPE_PUBLISHABLE_KEY", "pk_test_local_standin"),
        stripe_webhook_secret=_env("STRIPE_WEBHOOK_SECRET", "whsec_local_dev"),
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
        stripe_js_url=_env("STRIPE_JS_URL", DEFAULT_STRIPE_JS_URL),
        counter_shards=int(_env("COUNTER_SHARDS", "20")),
        webhook_tolerance_seconds=int(_env("WEBHOOK_TOLERANCE_SECONDS", "300")),
        max_body_bytes=int(_env("MAX_BODY_BYTES", str(64 * 1024))),
    )
