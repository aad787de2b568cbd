"""Lazily built services, one per process (a Lambda container reuses them across invocations).

Imports happen inside the functions so that a route only pays for what it uses at cold start.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.config import settings

if TYPE_CHECKING:
    from chalicelib.giving.service import GivingService, Planner
    from chalicelib.outbox.dispatcher import Dispatcher
    from chalicelib.outbox.model import Handler
    from chalicelib.pages.service import PageService
    from chalicelib.payments.gateway import StripeGateway
    from chalicelib.storage.committees import CommitteeRepository
    from chalicelib.storage.outbox import OutboxRepository
    from chalicelib.storage.staff_keys import StaffKeyRepository


@lru_cache(maxsize=1)
def stripe_gateway() -> StripeGateway:
    from chalicelib.payments.gateway import StripeGateway

    s = settings()
    return StripeGateway(s.stripe_secret_key, s.stripe_webhook_secret, s.stripe_api_base,
                         s.webhook_tolerance_seconds)


@lru_cache(maxsize=1)
def page_service() -> PageService:
    from chalicelib.pages.service import PageService
    from chalicelib.storage.pages import PageRepository

    s = settings()
    return PageService(PageRepository(s.counter_shards), s.stripe_publishable_key)


@lru_cache(maxsize=1)
def giving_service() -> GivingService:
    from chalicelib.giving.service import GivingService
    from chalicelib.storage.donations import DonationRepository
    from chalicelib.storage.pages import PageRepository

    s = settings()
    return GivingService(DonationRepository(s.region, s.counter_shards, outbox_store(), s.ledger_shards),
                         PageRepository(s.counter_shards), stripe_gateway(), planners=planners())


def planners() -> list[Planner]:
    """What each payment state change sets in motion, written to the outbox with the change."""
    return []


def outbox_handlers() -> dict[str, Handler]:
    """Who delivers each kind of outbox message."""
    return {}


@lru_cache(maxsize=1)
def outbox_store() -> OutboxRepository:
    from chalicelib.storage.outbox import OutboxRepository

    return OutboxRepository(settings().outbox_shards)


@lru_cache(maxsize=1)
def dispatcher() -> Dispatcher:
    from datetime import datetime, timezone

    from chalicelib.outbox.dispatcher import Dispatcher

    return Dispatcher(outbox_store(), outbox_handlers(), lambda: datetime.now(timezone.utc),
                      settings().outbox_max_attempts)


@lru_cache(maxsize=1)
def committees() -> CommitteeRepository:
    from chalicelib.compliance.committees import CommitteeDefaults
    from chalicelib.storage.committees import CommitteeRepository

    return CommitteeRepository(CommitteeDefaults.from_env())


@lru_cache(maxsize=1)
def staff_keys() -> StaffKeyRepository:
    from chalicelib.storage.staff_keys import StaffKeyRepository

    return StaffKeyRepository()


def reset() -> None:
    """Forget built services and settings (tests that change the environment)."""
    for built in (stripe_gateway, page_service, giving_service, staff_keys, outbox_store,
                  dispatcher, committees, settings):
        built.cache_clear()
