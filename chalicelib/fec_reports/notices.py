"""48-hour notices (Form 6) as a service: a large gift received just before an election becomes
a notice within minutes, finance is emailed, downloads its `.fec` file and records its filing.

The webhook only plans the check (`planning.plan_notice_check`, an outbox message written in its own
transaction for a contribution of $1,000 or more, so no request is added); the outbox's drain
runs `NoticeService.check`, which decides with the committee's calendar
(`filing.notices.notice_election`, local dates) and adds the gift to the notice of its day and
election. Every send goes through the outbox's one delivery path (`send`, the send ledger).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Protocol

from chalicelib.errors import Conflict, NotFound
from chalicelib.exports.fec import contributor
from chalicelib.exports.model import DonationFacts
from chalicelib.exports.service import Files
from chalicelib.fec_reports.committee import filing_committee
from chalicelib.fec_reports.ledger import Ledger
from chalicelib.fec_reports.service import Committees
from chalicelib.filing.forms import Signature
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import FilingCommittee, Receipt
from chalicelib.filing.notices import Notice, notice_due, notice_election
from chalicelib.followups.model import OutgoingEmail
from chalicelib.outbox.model import Delivered, OutboxMessage
from chalicelib.staff.auth import StaffKey

URL_TTL = timedelta(minutes=15)
NOTICE_ID = re.compile(r"ntc_[0-9a-f]{24}")


@dataclass(frozen=True)
class StoredNotice:
    """One notice: the contributions of one local day for one election."""

    notice_id: str
    committee_id: str
    election: str
    received_on: date
    contributions: tuple[str, ...]
    due_at: datetime
    created_at: datetime
    filed_at: datetime | None = None

    def view(self) -> dict[str, object]:
        return {"notice_id": self.notice_id, "committee_id": self.committee_id,
                "election": self.election, "received_on": self.received_on.isoformat(),
                "contributions": list(self.contributions), "due_at": _utc(self.due_at),
                "filed_at": _utc(self.filed_at) if self.filed_at else None}


class NoticeStore(Protocol):
    def add(self, notice: StoredNotice, donation_id: str) -> StoredNotice:
        """Create the notice or add `donation_id` to it (idempotent); its `due_at` is the
        earliest of its contributions'."""
        ...

    def get(self, notice_id: str) -> StoredNotice | None: ...

    def recent(self, committee_id: str | None) -> list[StoredNotice]: ...

    def filed(self, notice_id: str, now: datetime) -> StoredNotice | None:
        """Record the filing once; None when the notice was filed already."""
        ...


class FinanceStaff(Protocol):
    def all(self) -> list[StaffKey]: ...


Send = Callable[[OutboxMessage, str, OutgoingEmail], Delivered]


def notice_id_for(committee_id: str, election: str, day: date) -> str:
    digest = hashlib.sha256(f"{committee_id}|{election}|{day}".encode()).hexdigest()
    return "ntc_" + digest[:24]


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _receipt(committee: FilingCommittee, donation: DonationFacts) -> Receipt:
    """The contribution as its notice (and its Schedule A row: the same transaction id) shows it."""
    received = donation.paid_at or datetime.now(timezone.utc)
    return Receipt(transaction_id("SA", donation.donation_id), committee.local_date(received),
                   donation.amount_cents, contributor(donation.donor), donation.amount_cents,
                   donation.election)


class NoticeService:
    def __init__(self, notices: NoticeStore, ledger: Ledger, committees: Committees, files: Files,
                 staff: FinanceStaff, send: Callable[[], Send], base_url: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 url_ttl: timedelta = URL_TTL) -> None:
        self.notices = notices
        self.ledger = ledger
        self.committees = committees
        self.files = files
        self.staff = staff
        self.send = send
        self.base_url = base_url
        self.clock = clock
        self.url_ttl = url_ttl

    # --- the outbox handler ---------------------------------------------------------------
    def check(self, message: OutboxMessage) -> Delivered:
        """Add the contribution to its notice when it needs one, and tell finance."""
        donation_id = str(message.payload["donation_id"])
        committee_id = str(message.payload["committee_id"])
        donation = self.ledger.donations([donation_id]).get(donation_id)
        if donation is None or donation.paid_at is None:
            return Delivered("no paid contribution")
        committee = filing_committee(self.committees.get(committee_id))
        receipt = _receipt(committee, donation)
        election = notice_election(committee, receipt)
        if election is None:
            return Delivered("no notice needed")
        notice = self.notices.add(StoredNotice(
            notice_id_for(committee_id, election.code, receipt.date), committee_id, election.code,
            receipt.date, (donation_id,), notice_due(donation.paid_at), self.clock()), donation_id)
        sent = [self._tell(message, person, notice, donation) for person in self._finance()]
        return Delivered(f"{notice.notice_id}: told {len(sent)}")

    def _finance(self) -> list[StaffKey]:
        return [k for k in self.staff.all()
                if k.role in ("finance", "admin") and k.email and not k.revoked]

    def _tell(self, message: OutboxMessage, person: StaffKey, notice: StoredNotice,
              donation: DonationFacts) -> Delivered:
        from chalicelib.followups.compose import render_email

        one = replace(message, message_id=f"{message.message_id}#{person.key_hash[:16]}")
        html, text = render_email(
            "notice", name=person.name, election=notice.election,
            amount=f"${donation.amount_cents / 100:,.2f}", received_on=notice.received_on.isoformat(),
            due_at=notice.due_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            url=f"{self.base_url}/api/admin/notices/{notice.notice_id}/file")
        email = OutgoingEmail(to=person.email or "", subject=f"48-hour notice due: {notice.election}",
                              html=html, text=text, unsubscribe_url="", message_id=one.message_id)
        return self.send()(one, f"staff#{person.key_hash[:16]}", email)

    # --- finance's routes -----------------------------------------------------------------
    def list(self, committee_id: str | None = None) -> list[StoredNotice]:
        return self.notices.recent(committee_id)

    def file_url(self, notice_id: str) -> tuple[str, datetime]:
        """A presigned link to the notice's `.fec` file (Form 6 and one F65 per contribution),
        signed today by the committee's treasurer."""
        notice = self._get(notice_id)
        committee = filing_committee(self.committees.get(notice.committee_id))
        election = next((e for e in committee.elections if e.code == notice.election), None)
        if election is None:
            raise Conflict("election_not_on_calendar",
                           f"{notice.election} is no longer on the committee's calendar.")
        donations = self.ledger.donations(notice.contributions)
        receipts = tuple(sorted((_receipt(committee, d) for d in donations.values()),
                                key=lambda r: r.transaction_id))
        today = committee.local_date(self.clock())
        data = Notice(committee, election, notice.received_on, receipts).fec_bytes(Signature(today))
        key = f"notices/{notice.committee_id}/{notice.notice_id}/{self.clock():%Y%m%dT%H%M%S}.fec"
        sink = self.files.open(key, "text/plain; charset=us-ascii")
        sink.write(data)
        sink.close()
        name = f"{notice.committee_id}-F6-{notice.election}-{notice.received_on.isoformat()}.fec"
        return self.files.download_url(key, name, self.url_ttl), self.clock() + self.url_ttl

    def mark_filed(self, notice_id: str) -> StoredNotice:
        self._get(notice_id)
        filed = self.notices.filed(notice_id, self.clock())
        if filed is None:
            raise Conflict("notice_filed", "This notice was recorded as filed already.")
        return filed

    def _get(self, notice_id: str) -> StoredNotice:
        notice = self.notices.get(notice_id) if NOTICE_ID.fullmatch(notice_id) else None
        if notice is None:
            raise NotFound("notice_not_found", f"No notice '{notice_id}'.")
        return notice


def sorted_notices(notices: Iterable[StoredNotice]) -> list[StoredNotice]:
    """Newest day first (the console's and the API's order)."""
    return sorted(notices, key=lambda n: (n.received_on, n.notice_id), reverse=True)
