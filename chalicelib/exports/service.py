"""The export job: requested over HTTP, run off the request path (an SQS-triggered Lambda).

A run streams the committee's ledger twice, never holding the export in memory:
1. the survey replays donor aggregates from the start of the aggregation period up to the
   range (so the first rows' aggregates are complete), then through the range, counting rows
   and the line 11(a) totals (the `.fec` summary record comes before its rows);
2. the writing pass replays the range again from the survey's snapshot, reads the movements'
   donations 100 at a time, and streams rows into the files (S3 multipart uploads).
Storage, files and the queue are passed in; nothing here knows boto3 or HTTP.
"""

from __future__ import annotations

import heapq
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Protocol

from chalicelib.clock import utcnow
from chalicelib.compliance.committees import Committee
from chalicelib.errors import DomainError, InvalidInput, NotFound, ProviderUnavailable
from chalicelib.exports import fec
from chalicelib.exports.aggregates import AggregateReplay, replay_start
from chalicelib.exports.ledger import LEDGER_COLUMNS, LedgerRow, ledger_values, movement_row, payout_rows
from chalicelib.exports.model import (
    DonationFacts,
    ExportEntry,
    ExportJob,
    ExportKind,
    LedgerMovement,
)
from chalicelib.exports.rows import CsvEncoder, csv_values
from chalicelib.paging import Slice
from chalicelib.payouts.model import PayoutRecord

URL_TTL = timedelta(minutes=15)
# A run that stops reporting progress for this long is presumed dead; a redelivered message
# may then take the job over.
LEASE = timedelta(minutes=15)
PROGRESS_EVERY = 1000
DONATIONS_PER_READ = 100  # one BatchGetItem
WRITE_ATTEMPTS = 3


class ExportFailed(DomainError):
    """The export cannot be produced from the data as it is."""

    kind = "conflict"


class LedgerChanged(ExportFailed):
    """Movements arrived inside the range while the export ran; its totals would not match."""


class ExportJobs(Protocol):
    def create(self, job: ExportJob) -> None: ...
    def recent(self, limit: int, after: str | None) -> Slice[ExportJob]: ...
    def get(self, export_id: str) -> ExportJob | None: ...
    def claim(self, export_id: str, now: datetime, lease_until: datetime) -> ExportJob | None: ...
    def progress(self, export_id: str, rows_done: int, row_count: int | None,
                 lease_until: datetime) -> None: ...
    def succeed(self, export_id: str, row_count: int, summary: dict[str, int],
                files: dict[str, str], now: datetime) -> ExportJob: ...
    def fail(self, export_id: str, error: str, now: datetime) -> None: ...


class Ledger(Protocol):
    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterable[LedgerMovement]:
        """A committee's movements with `start <= occurred_at < end`, in time order, streamed."""
        ...

    def donations(self, donation_ids: Collection[str]) -> dict[str, DonationFacts]: ...

    def committee_ids(self) -> list[str]:
        """Every committee that has a page."""
        ...


class Payouts(Protocol):
    def between(self, start: datetime, end: datetime) -> list[PayoutRecord]:
        """Payouts created before `end` that were created or failed at or after `start`."""
        ...


class Committees(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class FileSink(Protocol):
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class Files(Protocol):
    def open(self, key: str, content_type: str) -> FileSink: ...
    def download_url(self, key: str, filename: str, ttl: timedelta) -> str: ...


class JobQueue(Protocol):
    def send(self, export_id: str) -> None: ...


@dataclass(frozen=True)
class ExportView:
    """A job with links to its files (fresh presigned URLs) once it has succeeded."""

    job: ExportJob
    download_url: str | None = None
    jsonl_url: str | None = None
    expires_at: datetime | None = None


@dataclass
class Totals:
    """Counts and sums over a range's movements (the job's `summary`)."""

    movements: int = 0
    itemized_count: int = 0
    itemized_cents: int = 0
    unitemized_count: int = 0
    unitemized_cents: int = 0
    refunds_count: int = 0
    refunds_cents: int = 0
    disputes_net_cents: int = 0
    fec_rows: int = 0

    def add(self, movement: LedgerMovement, itemized: bool, committee_type: str) -> None:
        self.movements += 1
        cents = movement.amount_cents
        if movement.kind == "contribution" and itemized:
            self.itemized_count += 1
            self.itemized_cents += cents
            self.fec_rows += 1
        elif movement.kind == "contribution":
            self.unitemized_count += 1
            self.unitemized_cents += cents
        elif movement.kind == "refund":
            self.refunds_count += 1
            self.refunds_cents -= cents  # refunds are reported as positive amounts
            if committee_type == "pac":
                self.fec_rows += 1
        else:
            self.disputes_net_cents += cents

    def plus(self, other: Totals) -> Totals:
        mine, theirs = asdict(self), asdict(other)
        return Totals(**{k: mine[k] + theirs[k] for k in mine})


@dataclass(frozen=True)
class _Plan:
    """A committee's range, surveyed: aggregates at its start and what it holds."""

    committee: Committee
    at_start: AggregateReplay
    totals: Totals



def day_bounds(from_day: date, to_day: date) -> tuple[datetime, datetime]:
    """[start, end) of an export's range: whole UTC days, `to_day` included."""
    start = datetime.combine(from_day, time(0), timezone.utc)
    return start, datetime.combine(to_day + timedelta(days=1), time(0), timezone.utc)


class ExportService:
    def __init__(self, jobs: ExportJobs, ledger: Ledger, committees: Committees, files: Files,
                 queue: JobQueue, clock: Callable[[], datetime] = utcnow,
                 url_ttl: timedelta = URL_TTL, progress_every: int = PROGRESS_EVERY,
                 payouts: Payouts | None = None) -> None:
        self.jobs = jobs
        self.ledger = ledger
        self.committees = committees
        self.files = files
        self.queue = queue
        self.clock = clock
        self.url_ttl = url_ttl
        self.progress_every = progress_every
        self.payouts = payouts

    # --- requests -------------------------------------------------------------------------
    def request(self, kind: ExportKind, from_day: date, to_day: date, committee_id: str | None,
                requested_by: str) -> ExportJob:
        """Record a queued job and put its id on the queue."""
        if kind == "fec_schedule_a" and not committee_id:
            raise InvalidInput("invalid_request", "An FEC export is for one committee.",
                               fields={"committee_id": "required for fec_schedule_a"})
        job = ExportJob(export_id="exp_" + uuid.uuid4().hex, kind=kind, from_day=from_day,
                        to_day=to_day, committee_id=committee_id, status="queued",
                        requested_by=requested_by, created_at=self.clock())
        self.jobs.create(job)
        try:
            self.queue.send(job.export_id)
        except ProviderUnavailable:
            self.jobs.fail(job.export_id, "queue_unavailable", self.clock())
            raise
        return job

    def history(self, limit: int, after: str | None = None) -> Slice[ExportJob]:
        """Earlier exports, newest first, a page at a time."""
        return self.jobs.recent(limit, after)

    def view(self, export_id: str) -> ExportView:
        job = self.jobs.get(export_id)
        if job is None:
            raise NotFound("export_not_found", f"No export '{export_id}'.")
        if job.status != "succeeded":
            return ExportView(job)
        urls = {role: self.files.download_url(key, key.rsplit("/", 1)[-1], self.url_ttl)
                for role, key in job.files.items()}
        return ExportView(job, urls.get("download"), urls.get("jsonl"), self.clock() + self.url_ttl)

    # --- the job --------------------------------------------------------------------------
    def run(self, export_id: str) -> ExportJob | None:
        """Produce the export's files; None if another run has it or it is already done.

        A failure marks the job failed (with the error's code) and is raised again."""
        now = self.clock()
        job = self.jobs.claim(export_id, now, now + LEASE)
        if job is None:
            return None
        try:
            if job.kind == "ledger_csv":
                files, rows, summary = self._ledger_csv(job)
            else:
                make = self._fec_schedule_a if job.kind == "fec_schedule_a" else self._contributions_csv
                files, rows, totals = make(job)
                summary = {k: v for k, v in asdict(totals).items() if k != "fec_rows"}
        except BaseException as exc:
            code = f"{exc.code}: {exc.message}" if isinstance(exc, DomainError) else "internal_error"
            self.jobs.fail(export_id, code, self.clock())
            raise
        return self.jobs.succeed(export_id, rows, summary, files, self.clock())

    def _contributions_csv(self, job: ExportJob) -> tuple[dict[str, str], int, Totals]:
        start, end = day_bounds(job.from_day, job.to_day)
        ids = [job.committee_id] if job.committee_id else self.ledger.committee_ids()
        plans = [self._survey(self.committees.get(cid), start, end) for cid in ids]
        progress = _Progress(self, job.export_id, sum(p.totals.movements for p in plans))
        key = _key(job, f"contributions-{job.committee_id or 'all'}", "csv")
        encoder = CsvEncoder()
        totals = Totals()
        with _Sinks(self.files) as sinks:
            csv_file = sinks.open(key, "text/csv; charset=utf-8")
            csv_file.write(encoder.header())
            for plan in plans:
                pac = plan.committee.type == "pac"
                for entry in self._entries(plan, start, end):
                    totals.add(entry.movement, entry.itemized, plan.committee.type)
                    csv_file.write(encoder.encode(csv_values(entry, _fec_transaction_id(entry, pac))))
                    progress.advance()
        return {"download": key}, progress.done, totals

    def _ledger_csv(self, job: ExportJob) -> tuple[dict[str, str], int, dict[str, int]]:
        """The movements (of every committee, or the job's) and the account's payouts, merged
        in time order."""
        start, end = day_bounds(job.from_day, job.to_day)
        payouts = sorted((row for record in (self.payouts.between(start, end) if self.payouts else [])
                          for row in payout_rows(record, start, end)), key=lambda r: r.order)
        ids = [job.committee_id] if job.committee_id else self.ledger.committee_ids()
        streams = [self._ledger_rows(cid, start, end) for cid in ids]
        progress = _Progress(self, job.export_id, None)
        key = _key(job, "ledger", "csv")
        encoder = CsvEncoder()
        summary = dict.fromkeys(("movements", "payouts", "gross_cents", "fee_cents", "net_cents",
                                 "paid_out_cents", "balance_cents"), 0)
        with _Sinks(self.files) as sinks:
            csv_file = sinks.open(key, "text/csv; charset=utf-8")
            csv_file.write(encoder.encode(LEDGER_COLUMNS))
            for row in heapq.merge(*streams, payouts, key=lambda r: r.order):
                summary["balance_cents"] += row.balance_change
                if row.type in ("payout", "payout_failure"):
                    summary["payouts"] += 1
                    summary["paid_out_cents"] -= row.gross_cents
                else:
                    summary["movements"] += 1
                    summary["gross_cents"] += row.gross_cents
                    summary["fee_cents"] += row.fee_cents or 0
                    summary["net_cents"] += row.balance_change
                csv_file.write(encoder.encode(ledger_values(row, summary["balance_cents"])))
                progress.advance()
        return {"download": key}, progress.done, summary

    def _ledger_rows(self, committee_id: str, start: datetime, end: datetime) -> Iterator[LedgerRow]:
        movements = self.ledger.movements(committee_id, start, end)
        for chunk in chunks(movements, DONATIONS_PER_READ):
            donations = self.ledger.donations({m.donation_id for m in chunk})
            for movement in chunk:
                yield movement_row(movement, donations.get(movement.donation_id))

    def _fec_schedule_a(self, job: ExportJob) -> tuple[dict[str, str], int, Totals]:
        if not job.committee_id:
            raise InvalidInput("invalid_request", "An FEC export is for one committee.")
        committee = self.committees.get(job.committee_id)
        start, end = day_bounds(job.from_day, job.to_day)
        attempt = 1
        while True:
            try:
                return self._write_fec(job, committee, start, end)
            except LedgerChanged:
                if attempt == WRITE_ATTEMPTS:
                    raise
                attempt += 1

    def _write_fec(self, job: ExportJob, committee: Committee, start: datetime,
                   end: datetime) -> tuple[dict[str, str], int, Totals]:
        plan = self._survey(committee, start, end)
        expected = plan.totals
        progress = _Progress(self, job.export_id, expected.fec_rows)
        name = f"schedule-a-{committee.committee_id}"
        files = {"download": _key(job, name, "fec"), "jsonl": _key(job, name, "jsonl")}
        totals = Totals()
        with _Sinks(self.files) as sinks:
            fec_file = sinks.open(files["download"], "text/plain; charset=us-ascii")
            jsonl_file = sinks.open(files["jsonl"], "application/x-ndjson")
            comment = (f"Schedule A {job.from_day.isoformat()} to {job.to_day.isoformat()}; "
                       f"line 11(a)(ii) unitemized {fec.dollars_text(expected.unitemized_cents)} "
                       f"in {expected.unitemized_count} contributions")
            fec_file.write(fec.lines_bytes([
                fec.header_line(comment),
                fec.summary_line(committee.committee_id, committee.name, committee.type,
                                 job.from_day, job.to_day, expected.itemized_cents,
                                 expected.unitemized_cents, expected.refunds_cents),
            ]))
            for entry in self._entries(plan, start, end):
                totals.add(entry.movement, entry.itemized, committee.type)
                rows = _fec_rows(entry, committee)
                if not rows:
                    continue
                fec_file.write(fec.lines_bytes([fec.fec_line(row) for row in rows]))
                for row in rows:
                    jsonl_file.write(json.dumps(row, separators=(",", ":")).encode() + b"\n")
                progress.advance()
            if totals != expected:
                # The summary record was written from the survey; it must describe these rows.
                raise LedgerChanged("ledger_changed", "Payments arrived in the range while the "
                                    "export ran; request it again.")
        return files, progress.done, totals

    # --- the two passes -------------------------------------------------------------------
    def _survey(self, committee: Committee, start: datetime, end: datetime) -> _Plan:
        replay = AggregateReplay(committee)
        for movement in self.ledger.movements(committee.committee_id, replay_start(committee, start),
                                              start):
            replay.apply(movement)
        at_start = replay.snapshot()
        totals = Totals()
        for movement in self.ledger.movements(committee.committee_id, start, end):
            totals.add(movement, replay.apply(movement).itemized, committee.type)
        return _Plan(committee, at_start, totals)

    def _entries(self, plan: _Plan, start: datetime, end: datetime) -> Iterator[ExportEntry]:
        replay = plan.at_start.snapshot()
        movements = self.ledger.movements(plan.committee.committee_id, start, end)
        for chunk in chunks(movements, DONATIONS_PER_READ):
            donations = self.ledger.donations({m.donation_id for m in chunk})
            for movement in chunk:
                donation = donations.get(movement.donation_id)
                if donation is None:
                    raise ExportFailed("donation_missing",
                                       f"Movement {movement.movement_id} has no donation "
                                       f"{movement.donation_id}.")
                replayed = replay.apply(movement)
                theirs = donation.reattributed_donor_id if donation.reattributed_cents else None
                yield ExportEntry(movement, donation, replayed.aggregate_cents, replayed.itemized,
                                  replay.aggregate(theirs, movement.occurred_at, movement.election)
                                  if theirs else 0)


def _fec_rows(entry: ExportEntry, committee: Committee) -> list[dict[str, Any]]:
    """The movement's rows: an itemized contribution with its remedies' memo entries, or a
    PAC's refund; nothing for the rest (summed in the summary record)."""
    kind = entry.movement.kind
    if kind == "contribution" and entry.itemized:
        return fec.schedule_a_rows(entry, committee.committee_id, committee.type,
                                   entry.their_aggregate_cents)
    if kind == "refund" and committee.type == "pac":
        return [fec.schedule_b_refund(entry, committee.committee_id)]
    return []


def _fec_transaction_id(entry: ExportEntry, pac: bool) -> str | None:
    """The row's transaction id in the FEC export, to find one from the other."""
    kind = entry.movement.kind
    if kind == "contribution" and entry.itemized:
        return fec.transaction_id("SA", entry.movement.donation_id)
    if kind == "refund" and pac:
        return fec.transaction_id("SB", entry.movement.movement_id)
    return None


def _key(job: ExportJob, name: str, extension: str) -> str:
    return (f"exports/{job.export_id}/{name}-{job.from_day.isoformat()}-{job.to_day.isoformat()}"
            f".{extension}")


def chunks(items: Iterable[LedgerMovement], size: int) -> Iterator[list[LedgerMovement]]:
    chunk: list[LedgerMovement] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Progress:
    """Reports `rows_done` every `progress_every` rows, renewing the run's lease."""

    def __init__(self, service: ExportService, export_id: str, row_count: int | None) -> None:
        self.service = service
        self.export_id = export_id
        self.row_count = row_count
        self.done = 0
        self._reported = 0
        self._report()

    def advance(self) -> None:
        self.done += 1
        if self.done - self._reported >= self.service.progress_every:
            self._report()

    def _report(self) -> None:
        self._reported = self.done
        self.service.jobs.progress(self.export_id, self.done, self.row_count,
                                   self.service.clock() + LEASE)


class _Sinks:
    """Files being written: all closed (made visible) on success, all aborted on failure."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.open_sinks: list[FileSink] = []

    def open(self, key: str, content_type: str) -> FileSink:
        sink = self.files.open(key, content_type)
        self.open_sinks.append(sink)
        return sink

    def __enter__(self) -> _Sinks:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            for sink in self.open_sinks:
                sink.close()
            return
        for sink in self.open_sinks:
            try:
                sink.abort()
            except Exception:
                pass

