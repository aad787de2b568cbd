"""Settings read from the environment, once per process.

Table, queue and bucket names come from `.chalice/config.json` per stage; secrets come from
the environment (in AWS they are loaded from SSM at cold start, never stored in the template).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"
# SNS serves its signing certificates (and subscription confirmations) only from its own
# regional HTTPS endpoints.
DEFAULT_SNS_URL_PATTERN = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"


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
    identities_table: str
    velocity_table: str
    plans_table: str
    trust_forwarded_for: bool
    pending_stale_seconds: int
    pending_expire_seconds: int
    pending_shards: int
    exports_table: str
    exports_queue: str
    exports_bucket: str
    payouts_table: str
    payouts_queue: str
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

    # Follow-ups (issue 4): tables, links, mail (see `_followups`).
    actions_table: str
    invitations_table: str
    people_table: str
    mail_table: str
    token_secret: str
    public_base_url: str
    mail_from: str
    mail_mirror_dir: str | None
    ses_configuration_set: str | None
    ses_notification_topics: tuple[str, ...]
    sns_url_pattern: str
    reminder_delay_hours: float
    max_invitations: int

    # Pages (issue 5): deadline and goal history, visitors' A/B assignments (see `_pages`).
    page_history_table: str
    visits_table: str
    ab_min_sample: int

    @property
    def stripe_livemode(self) -> bool:
        """Whether the configured key is a live key: events must then be live, and vice versa."""
        return self.stripe_secret_key.startswith(("sk_live_", "rk_live_"))


def _followups(stage: str, prefix: str) -> dict[str, object]:
    """Follow-up settings. TOKEN_SECRET has a fixed default on the dev stage only; elsewhere it
    must be set, and the SNS certificate URL pattern cannot be loosened outside dev."""
    topics = tuple(t.strip() for t in os.environ.get("SES_NOTIFICATION_TOPICS", "").split(",") if t.strip())
    return {
        "actions_table": _env("ACTIONS_TABLE", f"{prefix}-actions"),
        "invitations_table": _env("INVITATIONS_TABLE", f"{prefix}-invitations"),
        "people_table": _env("PEOPLE_TABLE", f"{prefix}-people"),
        "mail_table": _env("MAIL_TABLE", f"{prefix}-mail"),
        "token_secret": _env("TOKEN_SECRET", "dev-only-token-secret-not-for-prod" if stage == "dev" else ""),
        "public_base_url": _env("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "mail_from": _env("MAIL_FROM", "Groundswell <team@groundswell.example.org>"),
        "mail_mirror_dir": os.environ.get("MAIL_MIRROR_DIR") or None,
        "ses_configuration_set": os.environ.get("SES_CONFIGURATION_SET") or None,
        "ses_notification_topics": topics,
        "sns_url_pattern": (_env("SNS_URL_PATTERN", DEFAULT_SNS_URL_PATTERN)
                            if stage == "dev" else DEFAULT_SNS_URL_PATTERN),
        "reminder_delay_hours": float(_env("REMINDER_DELAY_HOURS", "48")),
        "max_invitations": int(_env("MAX_INVITATIONS", "3")),
    }


def _pages(prefix: str) -> dict[str, object]:
    """Page settings: the history and visits tables, and the least number of visitors per
    variant before an A/B test may name a winner."""
    return {
        "page_history_table": _env("PAGE_HISTORY_TABLE", f"{prefix}-page-history"),
        "visits_table": _env("VISITS_TABLE", f"{prefix}-visits"),
        "ab_min_sample": int(_env("AB_MIN_SAMPLE", "1000")),
    }


SECRET_NAMES = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "TOKEN_SECRET")


def ensure_secrets() -> None:
    """Outside the dev stage, secrets come from SSM Parameter Store (one GetParameters call,
    once per container, when the first service that needs one is built), never from the
    template. A missing secret fails loudly instead of falling back to a test key."""
    stage = _env("STAGE", "dev")
    missing = [name for name in SECRET_NAMES if not os.environ.get(name)]
    if stage == "dev" or not missing:
        return
    prefix = f"/groundswell/{stage}/"
    import boto3

    response = boto3.client("ssm").get_parameters(
        Names=[prefix + name for name in missing], WithDecryption=True)
    for parameter in response.get("Parameters", []):
        os.environ[parameter["Name"].removeprefix(prefix)] = parameter["Value"]
    still = [name for name in missing if not os.environ.get(name)]
    if still:
        raise RuntimeError(f"secrets missing from SSM under {prefix}: {', '.join(still)}")
    settings.cache_clear()


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
        identities_table=_env("IDENTITIES_TABLE", f"{prefix}-identities"),
        velocity_table=_env("VELOCITY_TABLE", f"{prefix}-velocity"),
        plans_table=_env("PLANS_TABLE", f"{prefix}-plans"),
        trust_forwarded_for=_env("TRUST_X_FORWARDED_FOR", "0") == "1",
        pending_stale_seconds=int(_env("PENDING_STALE_SECONDS", "900")),
        pending_expire_seconds=int(_env("PENDING_EXPIRE_SECONDS", "86400")),
        pending_shards=int(_env("PENDING_SHARDS", "10")),
        exports_table=_env("EXPORTS_TABLE", f"{prefix}-exports"),
        exports_queue=_env("EXPORTS_QUEUE", f"{prefix}-exports"),
        exports_bucket=_env("EXPORTS_BUCKET", f"{prefix}-exports"),
        payouts_table=_env("PAYOUTS_TABLE", f"{prefix}-payouts"),
        payouts_queue=_env("PAYOUTS_QUEUE", f"{prefix}-payouts"),
        ledger_shards=int(_env("LEDGER_SHARDS", "10")),
        outbox_shards=int(_env("OUTBOX_SHARDS", "10")),
        outbox_max_attempts=int(_env("OUTBOX_MAX_ATTEMPTS", "8")),
        stripe_secret_key=_env("STRIPE_SECRET_KEY", "sk_test_local_standin" if stage == "dev" else ""),
        stripe_publishable_key=_env("STRIPE_PUBLISHABLE_KEY",
                                    "pk_test_local_standin" if stage == "dev" else ""),
        stripe_webhook_secret=_env("STRIPE_WEBHOOK_SECRET", "whsec_local_dev" if stage == "dev" else ""),
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
        stripe_js_url=_env("STRIPE_JS_URL", DEFAULT_STRIPE_JS_URL),
        counter_shards=int(_env("COUNTER_SHARDS", "20")),
        webhook_tolerance_seconds=int(_env("WEBHOOK_TOLERANCE_SECONDS", "300")),
        max_body_bytes=int(_env("MAX_BODY_BYTES", str(64 * 1024))),
        **_followups(stage, prefix),  # type: ignore[arg-type]
        **_pages(prefix),  # type: ignore[arg-type]
    )
