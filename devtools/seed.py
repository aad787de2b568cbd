"""Create tables and seed the dev stage: staff keys and the `demo` donation page. Idempotent."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from chalicelib import deps
from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.pages.input import PageCreate
from chalicelib.staff.auth import hash_key
from chalicelib.storage.resources import ensure_all
from chalicelib.storage.staff_keys import StaffKeyRepository

DEFAULT_ORGANIZER_KEY = "dev-organizer-key"
DEFAULT_FINANCE_KEY = "dev-finance-key"


def seed_staff_keys() -> dict[str, str]:
    """Dev-stage staff keys from DEV_ORGANIZER_KEY / DEV_FINANCE_KEY (never in prod)."""
    if settings().stage != "dev":
        raise RuntimeError("dev staff keys are only seeded on the dev stage")
    keys = {
        "organizer": os.environ.get("DEV_ORGANIZER_KEY") or DEFAULT_ORGANIZER_KEY,
        "finance": os.environ.get("DEV_FINANCE_KEY") or DEFAULT_FINANCE_KEY,
    }
    repo = StaffKeyRepository()
    now = datetime.now(timezone.utc)
    for role, key in keys.items():
        if repo.find(hash_key(key)) is None:
            repo.save(hash_key(key), role, f"dev {role}", now)
    return keys


def seed_demo_page(slug: str = "demo") -> None:
    deadline = (datetime.now(timezone.utc) + timedelta(days=30)).replace(
        hour=4, minute=59, second=0, microsecond=0)
    try:
        deps.page_service().create(PageCreate(
            slug=slug,
            title="Rivera for Congress",
            headline="Help us reach our end-of-month goal",
            body="Every dollar here comes from people like you. Chip in before the deadline, "
                 "then join us at a phone bank or canvass.",
            ask_amounts_cents=[1000, 2700, 5000, 10000, 25000],
            goal_cents=5_000_000,
            deadline=deadline,
            election="P2026",
            committee_id="C00123456",
        ))
    except Conflict:
        pass


def main() -> None:
    ensure_all()
    keys = seed_staff_keys()
    seed_demo_page()
    print("tables, queues and buckets ready; demo page seeded; "
          f"staff keys: organizer={keys['organizer']} finance={keys['finance']}")


if __name__ == "__main__":
    main()
