"""The console's domain, against in-memory twins of its stores: sessions, sign-in links (single
use, expiring, one email a minute), the editor's form, the credible interval, the 24-hour view."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.errors import InvalidInput, Unauthenticated
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure
from chalicelib.pages.experiments import ArmStats, credible_interval
from chalicelib.reports.dashboard import recent
from chalicelib.reports.refcodes import ContributionFact
from chalicelib.sessions.model import SessionKind, session_hash
from chalicelib.sessions.service import SessionService, csrf_ok
from chalicelib.staff.auth import StaffKey, email_key, hash_key
from chalicelib.staff.signin import LINK_TTL, SigninService
from chalicelib.tokens import LinkUsed, Tokens
from tests.giving_twins import MemorySessions

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
SECRET = "unit-test-secret-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class MemoryStaff:
    def __init__(self) -> None:
        self.keys: dict[str, StaffKey] = {}
        self.by_email: dict[str, str] = {}
        self.last_request: dict[str, datetime] = {}
        self.queued: list[OutboxMessage] = []

    def add(self, key: str, role: str, email: str | None = None) -> StaffKey:
        found = StaffKey(hash_key(key), role, f"{role} person", email=email)
        self.keys[found.key_hash] = found
        if email:
            self.by_email[email_key(email, SECRET)] = found.key_hash
        return found

    def find(self, key_hash: str) -> StaffKey | None:
        return self.keys.get(key_hash)

    def find_by_email(self, digest: str) -> StaffKey | None:
        found = self.keys.get(self.by_email.get(digest, ""))
        return found if found and not found.revoked else None

    def request_signin(self, key_hash: str, now: datetime, gap: timedelta, message: OutboxMessage) -> bool:
        last = self.last_request.get(key_hash)
        if last is not None and last > now - gap:
            return False
        self.last_request[key_hash] = now
        self.queued.append(message)
        return True


KIND = SessionKind("console", "gs_console", "/admin", timedelta(hours=12))


def service(clock: Clock) -> tuple[SigninService, MemoryStaff, MemorySessions, list[Any]]:
    staff, store, sent = MemoryStaff(), MemorySessions(), []
    tokens = Tokens(SECRET, clock)

    def send(message: OutboxMessage, recipient: str, email: Any) -> Delivered:
        sent.append((message, recipient, email))
        return Delivered("ses-1")

    signin = SigninService(staff, lambda: tokens, SessionService(store, KIND, clock), lambda: SECRET,
                           "https://console.example.org", lambda: send, clock)
    return signin, staff, store, sent


def test_a_session_is_keyed_by_a_digest_and_ends_when_it_expires() -> None:
    clock = Clock()
    sessions = SessionService(MemorySessions(), KIND, clock)
    started = sessions.start("subject-1", "finance", "Dana")
    assert started.session_id not in sessions.store.items  # type: ignore[attr-defined]
    assert started.session.session_hash == session_hash(started.session_id)
    assert sessions.read(started.session_id) == started.session
    clock.now += timedelta(hours=12)
    assert sessions.read(started.session_id) is None  # TTL deletion is lazy: expiry is checked
    assert sessions.read("x" * 500) is None and sessions.read(None) is None


def test_another_kind_of_session_does_not_open_the_console() -> None:
    store = MemorySessions()
    portal = SessionService(store, SessionKind("portal", "gs_portal", "/me", timedelta(minutes=30)))
    started = portal.start("dnr_1", "donor", "Ana")
    assert SessionService(store, KIND).read(started.session_id) is None


def test_the_cookie_is_http_only_strict_and_scoped() -> None:
    cookie = KIND.set_cookie("abc", secure=True)
    assert cookie == "gs_console=abc; Path=/admin; Max-Age=43200; HttpOnly; SameSite=Strict; Secure"
    assert "Secure" not in KIND.set_cookie("abc", secure=False)


def test_csrf_tokens_must_match() -> None:
    assert csrf_ok("token-a", "token-a")
    assert not csrf_ok("token-a", "token-b") and not csrf_ok("token-a", None) and not csrf_ok("token-a", "")


def test_sign_in_with_a_key_and_revoked_keys_lose_their_sessions() -> None:
    clock = Clock()
    signin, staff, store, _ = service(clock)
    staff.add("gsk_live", "organizer")
    started = signin.with_key("gsk_live")
    assert signin.current(started.session_id).staff.role == "organizer"  # type: ignore[union-attr]
    with pytest.raises(Unauthenticated):
        signin.with_key("gsk_unknown")
    staff.keys[hash_key("gsk_live")] = StaffKey(hash_key("gsk_live"), "organizer", "x", revoked=True)
    assert signin.current(started.session_id) is None  # refused at once
    assert signin.revoke(key="gsk_live") == 1 and not store.items


def test_the_emailed_link_works_once_and_only_for_15_minutes() -> None:
    clock = Clock()
    signin, staff, store, sent = service(clock)
    staff.add("gsk_dana", "finance", email="Dana@Example.org")
    assert signin.request_link(" dana@example.org ")
    assert not signin.request_link("dana@example.org")  # one a minute
    assert not signin.request_link("nobody@example.org")
    with pytest.raises(InvalidInput):
        signin.request_link("not an address")
    (message,) = staff.queued
    assert "dana" not in str(message.payload).lower()  # no address and no link in the outbox
    clock.now += timedelta(minutes=5)  # delivered late: the link still ends 15 min after asking
    signin.deliver_link(message)
    (_, recipient, email), = sent
    assert email.to == "Dana@Example.org" and not email.unsubscribe_url and "staff#" in recipient
    token = email.text.split("t=", 1)[1].split()[0]
    assert signin.link_holder(token).role == "finance" and not store.items  # showing uses nothing
    started = signin.with_link(token)
    assert started.session.role == "finance"
    with pytest.raises(LinkUsed) as used:
        signin.with_link(token)
    assert used.value.code == "link_used"
    # A link asked for now but delivered after 15 minutes is not sent at all.
    assert signin.request_link("dana@example.org")  # the minute has passed
    late = staff.queued[-1]
    clock.now += LINK_TTL
    assert signin.deliver_link(late).result.startswith("skipped") and len(sent) == 1


def test_a_link_for_a_revoked_key_is_not_sent() -> None:
    clock = Clock()
    signin, staff, _, _ = service(clock)
    found = staff.add("gsk_gone", "organizer", email="gone@example.org")
    assert signin.request_link("gone@example.org")
    staff.keys[found.key_hash] = StaffKey(found.key_hash, "organizer", "x", revoked=True,
                                          email="gone@example.org")
    with pytest.raises(PermanentFailure):
        signin.deliver_link(staff.queued[0])


def test_the_editor_form_reads_dollars_and_utc_times() -> None:
    from chalicelib.console.forms import cents, form_errors, moment, page_body

    assert cents("27") == 2700 and cents("$1,000.5") == 100050 and cents("27.05") == 2705
    assert cents("ten") is None and cents("1.234") is None
    assert moment("2026-11-03T04:59") == datetime(2026, 11, 3, 4, 59, tzinfo=timezone.utc)
    body, errors = page_body({"asks": ["10, 27, 1,000"], "goal": ["50000"], "deadline": ["2026-11-03T04:59"],
                              "v1_id": ["b"], "v1_headline": ["Other"], "v1_asks": ["5 x"]}, creating=True)
    assert body["ask_amounts_cents"] == [1000, 2700, 100000] and body["goal_cents"] == 5_000_000
    assert errors == {"v1_asks": "dollar amounts separated by spaces or commas, e.g. 10 27 50"}
    assert form_errors({"variants.0.headline": "required", "ask_amounts_cents.2": "too big"}) == {
        "v0_headline": "required", "asks": "too big"}


def test_the_editor_reads_and_shows_times_in_the_committees_zone() -> None:
    from chalicelib.console.forms import moment, page_body
    from chalicelib.console.render import local_input

    chicago = "America/Chicago"
    assert moment("2026-11-03T23:59", chicago) == datetime(2026, 11, 4, 5, 59, tzinfo=timezone.utc)  # CST
    assert moment("2026-07-04T12:00", chicago) == datetime(2026, 7, 4, 17, 0, tzinfo=timezone.utc)  # CDT
    # 01:30 happens twice on the night clocks go back: the first (still CDT) is meant.
    assert moment("2026-11-01T01:30", chicago) == datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)
    assert moment("2026-11-03T23:59-05:00", chicago) == datetime(2026, 11, 4, 4, 59, tzinfo=timezone.utc)
    assert local_input(datetime(2026, 11, 4, 5, 59, tzinfo=timezone.utc), chicago) == "2026-11-03T23:59"
    body, errors = page_body({"deadline": ["2026-11-03T23:59"], "deadlines": ["2026-11-10T23:59"],
                              "elections": ["P2026, g2026"]}, creating=True, zone=chicago)
    assert body["deadline"] == "2026-11-04T05:59:00+00:00"
    assert body["deadlines"] == ["2026-11-11T05:59:00+00:00"]
    assert body["elections"] == ["P2026", "g2026"]  # upper-cased and checked by the page's own input model
    assert "deadline" not in errors
    _, errors = page_body({"deadline": ["soon"]}, creating=True, zone=chicago)
    assert errors["deadline"] == "a date and time (America/Chicago)"


def test_the_credible_interval_matches_sampling() -> None:
    import random

    low, high = credible_interval(ArmStats(visitors=1000, conversions=30))
    rng = random.Random(7)
    draws = sorted(rng.betavariate(31, 971) for _ in range(100_000))
    assert abs(low - draws[2_500]) < 0.001 and abs(high - draws[97_500]) < 0.001
    assert credible_interval(ArmStats()) == (0.025, 0.975)  # the flat prior


def test_the_last_24_hours_by_hour_with_new_and_returning_donors() -> None:
    now = T0 + timedelta(minutes=30)

    def fact(minutes_ago: int, donor: str, cents: int, returning: bool) -> ContributionFact:
        return ContributionFact(f"don_{minutes_ago}", donor, "p", None, now - timedelta(minutes=minutes_ago),
                                cents, cents, returning)

    summary = recent([fact(5, "a", 2700, False), fact(10, "a", 1000, False), fact(90, "b", 500, True),
                      fact(60 * 30, "c", 9900, False)], now)
    assert summary.gifts == 3 and summary.raised_cents == 4200
    assert summary.new_donors == 1 and summary.returning_donors == 1
    assert len(summary.hourly_cents) == 24 and summary.hourly_cents[-1] == 3700
    assert summary.hourly_cents[-2] == 500 and summary.hours[-1] == T0
