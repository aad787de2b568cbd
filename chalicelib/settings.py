"""The process's settings: one typed object, read from the environment by pydantic-settings.

Each field is read from the environment variable of its name in capitals (`COUNTER_SHARDS` for
`counter_shards`). `STAGE` is required. The dev defaults (Stripe test keys for the stand-in,
a fixed token secret, trusting `X-Forwarded-For`) apply only
on a *local* dev stage: `STAGE=dev` with `AWS_ENDPOINT_URL` on a loopback address. Anywhere else
a missing secret stays missing, and `problems()` says so: the app then refuses to serve
(chalicelib/api/middleware.py, `fail_closed`).

Imported lazily (chalicelib/config.py): pydantic-settings costs more to import than the rest of
a cold start, and only the first request of a container pays for it.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"
# Secrets: in AWS they come from SSM Parameter Store at cold start (config.ensure_secrets).
SECRET_NAMES = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "TOKEN_SECRET",
                "IDENTITY_SECRET")
# Values a local dev stage may run with; never used anywhere else.
DEV_SECRETS = {
    "stripe_secret_key": "sk_test_local_standin",
    "stripe_publishable_key": "pk_test_local_standin",
    "stripe_webhook_secret": "whsec_local_dev",
    "token_secret": "dev-only-token-secret-not-for-prod",
    "identity_secret": "dev-only-identity-secret-not-for-prod",
}
MIN_TOKEN_SECRET = 16  # also the least for IDENTITY_SECRET

Count = Annotated[int, Field(ge=1)]
Cents = Annotated[int, Field(ge=0)]
Topics = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True,
                                      populate_by_name=True)

    # --- where we run ---------------------------------------------------------------------------
    stage: Annotated[str, Field(min_length=1, pattern=r"^[a-z][a-z0-9-]*$")]
    region: str = Field("us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    aws_endpoint_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: Count = 64 * 1024
    # Rows one CSV import of offline contributions may hold: each committed row is its own
    # transaction, so this bounds the request well inside API Gateway's 29 seconds.
    import_max_rows: Count = 200

    # --- Stripe ---------------------------------------------------------------------------------
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str | None = None
    stripe_js_url: str = DEFAULT_STRIPE_JS_URL
    webhook_tolerance_seconds: Count = 300
    # What the background jobs (reconciler, payout reconciliation, excess refunds) may ask of
    # Stripe together, across every container; intake and webhooks are not budgeted.
    stripe_requests_per_second: Count = 25

    # --- the law: limits and itemization (committees may override them) --------------------------
    candidate_limit_cents: Cents = 350_000
    pac_limit_cents: Cents = 500_000
    itemization_threshold_cents: Cents = 20_000

    # --- intake and the card-testing defence ----------------------------------------------------
    trust_forwarded_for: bool = Field(False, validation_alias="TRUST_X_FORWARDED_FOR")
    velocity_window_seconds: Count = 600
    declines_per_ip: Count = 5
    declines_per_email: Count = 5
    declines_per_card: Count = 5
    declines_per_donation: Count = 3
    intakes_per_ip: Count = 300
    pending_per_ip: Count = 20
    # Signups (each sends a confirmation email) per hour from one IP, and from its /24 (IPv6 /64).
    signup_window_seconds: Count = 3600
    signups_per_ip: Count = 10
    signups_per_network: Count = 50
    # An unconfirmed donation holds its reservation this long; then the reconciler cancels it.
    reservation_minutes: Count = 30
    # Each Lambda container keeps what it read of a page (intake, page views) and of a committee
    # this long (0: read every time). The legal limit is enforced by the intake transaction's
    # condition and re-checked by the webhook, never by a cached read (docs/performance.md).
    page_cache_seconds: Annotated[float, Field(ge=0, le=300)] = 5
    committee_cache_seconds: Annotated[float, Field(ge=0, le=3600)] = 60

    # --- express giving from a saved card -------------------------------------------------------
    express_link_ttl_days: Count = 30
    express_max_per_day: Count = 3
    express_step_up_cents: Cents = 25_000

    # --- the reconciler -------------------------------------------------------------------------
    pending_stale_seconds: Count = 900
    pending_shards: Count = 10

    # --- sharding and the outbox ----------------------------------------------------------------
    counter_shards: Count = 20
    ledger_shards: Count = 10
    outbox_shards: Count = 10
    outbox_max_attempts: Count = 8
    # SES's MaxSendRate is read from the account (GetAccount); its per-second budget is split
    # over this many DynamoDB items, so hundreds of sends a second hit no one key.
    send_rate_shards: Count = 4
    # A drain stops claiming messages after this long (its Lambda runs for at most a minute by
    # default); the rest wait for the next drain.
    drain_seconds: Count = 45
    # The lost-primary / withdrawal job (`forgo_elections`) works this long in one delivery,
    # then queues its own continuation from where it stopped (well inside the drain's minute:
    # a drain may hand it over late in its `drain_seconds`).
    forgo_seconds: Count = 10

    # --- follow-ups: links, mail, SES feedback --------------------------------------------------
    token_secret: str = ""
    # Keys donor ids and identity links (HMAC of the normalized email, and of name and ZIP):
    # without it nobody can compute a donor's id from their address. Changing it re-keys every
    # donor, so set it once per stage.
    identity_secret: str = ""
    mail_from: str = "Groundswell <team@groundswell.example.org>"
    mail_mirror_dir: str | None = None
    ses_configuration_set: str | None = None
    ses_notification_topics: Topics = ()
    # SNS messages must be SignatureVersion 2 (SHA256) unless this allows SHA1 as well.
    sns_allow_signature_v1: bool = False
    reminder_delay_hours: Annotated[float, Field(gt=0)] = 48
    max_invitations: Count = 3

    # --- texts (SNS) ----------------------------------------------------------------------------
    # The SNS topics that deliver inbound texts (replies: STOP, HELP, START) to /webhooks/sms;
    # none configured, none accepted (403), as for SES's topics.
    sms_inbound_topics: Topics = ()
    # The sender ID texts carry where a country supports one (not the US); unset, none.
    sms_sender_id: str | None = None

    # --- pages ----------------------------------------------------------------------------------
    ab_min_sample: Count = 1000
    # Supporters' pages one campaign page may have: bounds the leaderboard's reads (a Query of
    # the `by-parent` index and every page's counter shards).
    supporter_pages_max: Count = 200

    # --- the staff console ----------------------------------------------------------------------
    console_session_hours: Annotated[float, Field(gt=0, le=24 * 7)] = 12

    # --- the donor portal (/me) -----------------------------------------------------------------
    # A donor's session is short: it opens their giving history and their monthly gifts.
    portal_session_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30
    # Links asked for from one IP per hour (a 429 past it), and the least time between two
    # links emailed to one donor (asked again sooner: the same 202, no second email).
    portal_links_per_ip: Count = 10
    portal_link_gap_seconds: Annotated[int, Field(ge=0)] = 120

    @field_validator("ses_notification_topics", "sms_inbound_topics", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return value

    @model_validator(mode="after")
    def _only_local_dev_is_lenient(self) -> Settings:
        """Dev defaults fill in only on a local dev stage; elsewhere trusting X-Forwarded-For is
        ignored, whatever the environment says."""
        if self.local_dev:
            for name, value in DEV_SECRETS.items():
                if not getattr(self, name):
                    object.__setattr__(self, name, value)
        else:
            object.__setattr__(self, "trust_forwarded_for", False)
        return self

    @property
    def local_dev(self) -> bool:
        """The dev stage against a local AWS (moto's server on a loopback address)."""
        return self.stage == "dev" and _is_loopback_url(self.aws_endpoint_url)

    @property
    def stripe_livemode(self) -> bool:
        """Whether the configured key is a live key: events must then be live, and vice versa."""
        return self.stripe_secret_key.startswith(("sk_live_", "rk_live_"))

    def problems(self) -> list[str]:
        """Why this configuration must not serve (names of settings only, never values)."""
        found = [f"{name} is not set" for name in SECRET_NAMES if not getattr(self, name.lower())]
        for name in ("TOKEN_SECRET", "IDENTITY_SECRET"):
            value = getattr(self, name.lower())
            if value and len(value) < MIN_TOKEN_SECRET:
                found.append(f"{name} is shorter than {MIN_TOKEN_SECRET} characters")
        if not self.local_dev:
            if urllib.parse.urlsplit(self.public_base_url).scheme != "https":
                found.append("PUBLIC_BASE_URL is not an https URL")
            if not self.ses_notification_topics:
                found.append("SES_NOTIFICATION_TOPICS is empty (no SNS topic would be trusted)")
        return found


def _is_loopback_url(url: str | None) -> bool:
    host = urllib.parse.urlsplit(url or "").hostname
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
