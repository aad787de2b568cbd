"""In-memory twins of what exports and reports to the FEC read and write (the ledger, files,
the job queue, the report store) and factories of committees and movements for them."""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.compliance.committees import Committee
from chalicelib.compliance.elections import Election
from chalicelib.errors import Conflict, ProviderUnavailable
from chalicelib.exports.model import DonationFacts, DonorFacts, LedgerMovement
from chalicelib.fec_reports.model import StoredReport
from chalicelib.fec_reports.notices import StoredNotice, sorted_notices
from chalicelib.fec_reports.service import ReportFinal
from chalicelib.filing.model import Address, Candidate, Name
from chalicelib.followups.model import OutgoingEmail
from chalicelib.outbox.model import Delivered, OutboxMessage
from chalicelib.staff.auth import StaffKey
from tests.helpers import FINANCE_KEY, committee_body, donation_body, staff, stripe_event


class Ledger:
    def __init__(self, movements: list[LedgerMovement], donations: dict[str, DonationFacts]) -> None:
        self.list = movements
        self.donations_by_id = donations
        self.reads = 0
        self.batch_sizes: list[int] = []

    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterator[LedgerMovement]:
        self.reads += 1
        for m in sorted(self.list, key=lambda m: (m.occurred_at, m.movement_id)):
            if m.committee_id == committee_id and start <= m.occurred_at < end:
                yield m

    def donations(self, donation_ids: Collection[str]) -> dict[str, DonationFacts]:
        self.batch_sizes.append(len(donation_ids))
        return {i: self.donations_by_id[i] for i in donation_ids if i in self.donations_by_id}

    def committee_ids(self) -> list[str]:
        return sorted({m.committee_id for m in self.list})


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.state = "open"

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.state = "closed"

    def abort(self) -> None:
        self.state = "aborted"


class Files:
    def __init__(self) -> None:
        self.sinks: dict[str, Sink] = {}

    def open(self, key: str, content_type: str) -> Sink:
        self.sinks[key] = Sink()
        return self.sinks[key]

    def download_url(self, key: str, filename: str, ttl: timedelta) -> str:
        return f"https://files.test/{key}?ttl={int(ttl.total_seconds())}"

    def read(self, key: str) -> bytes:
        sink = self.sinks[key]
        assert sink.state == "closed", f"{key} was never completed"
        return bytes(sink.data)

    def text(self, suffix: str) -> str:
        return next(bytes(s.data) for k, s in self.sinks.items() if k.endswith(suffix)).decode()


class Queue:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send(self, export_id: str) -> None:
        if self.fail:
            raise ProviderUnavailable("export_queue_unavailable", "down")
        self.sent.append(export_id)


class MemoryReports:
    """The report store's twin, with the repository's conditions."""

    def __init__(self) -> None:
        self.items: dict[str, StoredReport] = {}

    def start(self, report: StoredReport) -> StoredReport:
        old = self.items.get(report.report_id)
        if old is not None and old.status == "final":
            raise ReportFinal("report_final", "final")
        self.items[report.report_id] = report
        return report

    def create(self, report: StoredReport) -> None:
        if report.report_id in self.items:
            raise Conflict("report_exists", "exists")
        self.items[report.report_id] = report

    def get(self, report_id: str) -> StoredReport | None:
        return self.items.get(report_id)

    def of_committee(self, committee_id: str) -> list[StoredReport]:
        return [r for r in self.items.values() if r.committee_id == committee_id]

    def _move(self, report_id: str, was: str, **changes: object) -> bool:
        report = self.items.get(report_id)
        if report is None or report.status != was:
            return False
        self.items[report_id] = replace(report, **changes)  # type: ignore[arg-type]
        return True

    def built(self, report_id: str, requested_at: datetime, form: str, files: dict[str, str],
              error_count: int, warning_count: int, now: datetime) -> bool:
        report = self.items.get(report_id)
        if report is None or report.created_at != requested_at:
            return False
        return self._move(report_id, "building", status="draft", form=form, files=files,
                          error_count=error_count, warning_count=warning_count, built_at=now,
                          error=None)

    def failed(self, report_id: str, error: str, now: datetime,
               requested_at: datetime | None = None) -> None:
        report = self.items.get(report_id)
        if report is not None and requested_at in (None, report.created_at):
            self._move(report_id, "building", status="failed", error=error, built_at=now)

    def finalized(self, report_id: str, files: dict[str, str], treasurer_name: str,
                  date_signed: date, warning_count: int, now: datetime) -> bool:
        return self._move(report_id, "draft", status="final", files=files,
                          treasurer_name=treasurer_name, date_signed=date_signed, error_count=0,
                          warning_count=warning_count, finalized_at=now)


def house_committee(**changes: Any) -> Committee:
    """Rivera for Congress (IL-13, Central time): primary June 2, general November 3, 2026; its
    books here began with $5,000 on November 6, 2024."""
    base = Committee(
        "C00123456", "Rivera for Congress", "candidate", 350_000, 20_000,
        opening_cash_on_hand_cents=500_000, opening_cash_as_of=date(2024, 11, 6),
        address=Address("100 Campaign Way", "Springfield", "IL", "62701", "Suite 2"),
        treasurer=Name("Dana", "Okafor"), time_zone="America/Chicago",
        candidate=Candidate("H6IL13123", Name("Ana", "Rivera"), "H", "IL", "13"),
        previous_general_date=date(2024, 11, 5),
        elections=(Election("P2026", date(2026, 6, 2)), Election("G2026", date(2026, 11, 3))))
    return replace(base, **changes)


def donor_facts(donor: str, employer: str = "City Library") -> DonorFacts:
    return DonorFacts(donor.title(), "Núñez", f"{donor}@example.org", "1 Main St", "Springfield",
                      "IL", "62701", employer, "Librarian")


def ledger_movement(event: str, kind: str, cents: int, at: datetime, donation_id: str, donor: str,
                    committee_id: str = "C00123456", fee_cents: int | None = None) -> LedgerMovement:
    return LedgerMovement(f"{event}#{kind}", kind, cents, at, donation_id,  # type: ignore[arg-type]
                          f"dnr_{donor}", committee_id, "P2026", "page", event, fee_cents=fee_cents)


# --- a campaign over the running stack: gifts paid by signed webhooks on chosen days -----------

def committee_id() -> str:
    return "C" + "".join(random.choices("0123456789", k=8))


def at(day: str, hour: int = 12) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp())


def pi_id(started: dict[str, Any]) -> str:
    return str(started["client_secret"].split("_secret_")[0])


class Campaign:
    """A committee with one page, donors who give on chosen days, and refunds."""

    def __init__(self, api: Any, committee: str, committee_type: str = "candidate") -> None:
        self.api = api
        self.committee_id = committee
        if committee_type == "pac":
            pac = {"name": "People's PAC", "type": "pac", "time_zone": "America/Chicago"}
            status, body = api.call("PUT", f"/api/admin/committees/{committee}", pac, staff(FINANCE_KEY))
            assert status == 200, body
        self.slug = api.create_page(committee_id=committee)["slug"]

    def give(self, donor: dict[str, Any], cents: int, day: str, hour: int = 12,
             **extra: Any) -> dict[str, Any]:
        started = self.start(donor, cents, **extra)
        self.pay(started, day, hour)
        return started

    def start(self, donor: dict[str, Any], cents: int, **extra: Any) -> dict[str, Any]:
        """Intake only: the pending gift (its limit reserved) and its PaymentIntent."""
        body = donation_body(cents, **extra)
        body["donor"] = donor
        status, started = self.api.call("POST", f"/api/pages/{self.slug}/donations", body)
        assert status == 201, started
        return dict(started)

    def pay(self, started: dict[str, Any], day: str, hour: int = 12) -> None:
        cents = started["amount_cents"]
        paid = stripe_event("payment_intent.succeeded", id=pi_id(started), amount=cents,
                            amount_received=cents, metadata={"donation_id": started["donation_id"]})
        paid["created"] = at(day, hour)
        assert self.api.webhook(paid)[1]["outcome"] == "applied"

    def dispute(self, started: dict[str, Any], day: str, hour: int = 12) -> None:
        """A chargeback of the whole gift."""
        event = stripe_event("charge.dispute.created", payment_intent=pi_id(started),
                             amount=started["amount_cents"])
        event["created"] = at(day, hour)
        assert self.api.webhook(event)[1]["outcome"] == "applied"

    def refund(self, started: dict[str, Any], refunded_total: int, day: str, hour: int = 12) -> None:
        event = stripe_event("charge.refunded", payment_intent=pi_id(started),
                             amount=started["amount_cents"], amount_refunded=refunded_total,
                             refunded=refunded_total >= started["amount_cents"])
        event["created"] = at(day, hour)
        assert self.api.webhook(event)[1]["outcome"] == "applied"


def donor(first: str = "Ana", last: str | None = None, line1: str = "1 Main St",
          line2: str | None = None, city: str = "Springfield", state: str = "IL",
          zip_code: str | None = None, employer: str = "City Library",
          occupation: str = "Librarian") -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    address: dict[str, Any] = {"line1": line1, "city": city, "state": state,
                               "zip": zip_code or f"{random.randint(10000, 99999)}"}
    if line2:
        address["line2"] = line2
    return {"first_name": first, "last_name": last or f"Rivera{tag}",
            "email": f"donor.{tag}@example.org",
            "address": address, "employer": employer, "occupation": occupation}


class MemoryNotices:
    """The notice store's twin."""

    def __init__(self) -> None:
        self.items: dict[str, StoredNotice] = {}

    def add(self, notice: StoredNotice, donation_id: str) -> StoredNotice:
        old = self.items.get(notice.notice_id)
        if old is None:
            self.items[notice.notice_id] = replace(notice, contributions=(donation_id,))
        else:
            self.items[notice.notice_id] = replace(
                old, contributions=tuple(sorted({*old.contributions, donation_id})),
                due_at=min(old.due_at, notice.due_at))
        return self.items[notice.notice_id]

    def get(self, notice_id: str) -> StoredNotice | None:
        return self.items.get(notice_id)

    def recent(self, committee_id: str | None) -> list[StoredNotice]:
        return sorted_notices(n for n in self.items.values()
                              if committee_id is None or n.committee_id == committee_id)

    def filed(self, notice_id: str, now: datetime) -> StoredNotice | None:
        notice = self.items[notice_id]
        if notice.filed_at is not None:
            return None
        self.items[notice_id] = replace(notice, filed_at=now)
        return self.items[notice_id]


class StaffList:
    def __init__(self, *keys: StaffKey) -> None:
        self.keys = list(keys)

    def all(self) -> list[StaffKey]:
        return self.keys


class SentMail:
    """The one send path's twin: what would have gone out, once per message id."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[str, OutgoingEmail]] = {}

    def __call__(self, message: OutboxMessage, recipient_id: str, email: OutgoingEmail) -> Delivered:
        self.sent.setdefault(message.message_id, (recipient_id, email))
        return Delivered(f"ses-{len(self.sent)}")


def configure(api: Any, campaign: Campaign, **settings: Any) -> None:
    """PUT the committee's calendar (`committee_body`) with `settings` (None leaves a field out)."""
    body = committee_body(**settings)
    status, answer = api.call("PUT", f"/api/admin/committees/{campaign.committee_id}", body,
                              staff(FINANCE_KEY))
    assert status == 200, answer
