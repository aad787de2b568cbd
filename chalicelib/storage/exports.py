"""Exports in AWS: the job table, the ledger read in time order, S3 files written as multipart
uploads and read through presigned URLs, and the SQS queue that starts a run."""

from __future__ import annotations

import heapq
import io
import itertools
import json
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.errors import ProviderUnavailable
from chalicelib.exports.model import DonationFacts, DonorFacts, ExportJob, LedgerMovement
from chalicelib.giving.model import Conduit
from chalicelib.paging import Slice
from chalicelib.storage import paging
from chalicelib.storage.donations import ledger_key, ledger_months
from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import DonationModel, ExportModel, MovementModel, PageModel

MIB = 1024 * 1024
MIN_PART_BYTES = 5 * MIB  # S3's least size for every part but the last
PART_BYTES = 8 * MIB
# Movements per Query page: small pages keep ten shards' pages in memory at once cheaply.
PAGE_SIZE = 250
# Within one instant, a contribution precedes the refund its own event may carry (a refund
# delivered before the success), so its aggregate includes it as the FEC defines.
_KIND_ORDER = {"contribution": 0, "dispute_reversal": 1, "refund": 2, "dispute": 3}
# What an export reads of a donation (those the model defines: some arrive with later work).
_DONATION_FIELDS = (
    "donation_id", "donor", "amount_cents", "refunded_cents", "status", "election", "page_slug",
    "payment_intent_id", "charge_id", "refcode", "paid_at", "recurring", "subscription_id",
    "excess_refund_reason", "excess_reason", "best_efforts_employer", "best_efforts_occupation",
    "best_efforts_answered_on", "excess_refund_cents", "channel", "in_kind_description", "conduit",
    "reference", "deposit_batch",
    "redesignated_cents", "redesignated_to", "redesignated_on", "redesignation_status",
    "reattribution_status", "reattribution_cents", "reattributed_to", "reattributed_donor_id",
    "reattributed_on",
)


class ExportJobRepository:
    """Export jobs: created queued, claimed by one run at a time, finished once."""

    def create(self, job: ExportJob) -> None:
        ExportModel(
            job.export_id, kind=job.kind, committee_id=job.committee_id,
            from_day=job.from_day.isoformat(), to_day=job.to_day.isoformat(), status=job.status,
            requested_by=job.requested_by, created_at=job.created_at, rows_done=0, listing="exports",
        ).save(condition=ExportModel.export_id.does_not_exist())

    def recent(self, limit: int, after: str | None) -> Slice[ExportJob]:
        start = paging.decode(after, ["export_id", "listing", "created_at"])
        found = ExportModel.by_creation.query("exports", limit=limit, last_evaluated_key=start,
                                              scan_index_forward=False)
        items = [_job(i) for i in found]
        return Slice(items, paging.encode(found.last_evaluated_key))

    def get(self, export_id: str) -> ExportJob | None:
        try:
            return _job(ExportModel.get(export_id, consistent_read=True))
        except DoesNotExist:
            return None

    def claim(self, export_id: str, now: datetime, lease_until: datetime) -> ExportJob | None:
        """Mark the job running for this run, if it is queued or its last run went silent."""
        m = ExportModel
        item = ExportModel(export_id)
        free = (m.status == "queued") | ((m.status == "running") & (m.lease_until < now))
        try:
            item.update(actions=[
                m.status.set("running"), m.started_at.set(now), m.lease_until.set(lease_until),
                m.attempts.add(1), m.rows_done.set(0),
            ], condition=m.export_id.exists() & free)
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise
        return _job(item)

    def progress(self, export_id: str, rows_done: int, row_count: int | None,
                 lease_until: datetime) -> None:
        m = ExportModel
        actions: list[Any] = [m.rows_done.set(rows_done), m.lease_until.set(lease_until)]
        if row_count is not None:
            actions.append(m.row_count.set(row_count))
        ExportModel(export_id).update(actions=actions)

    def succeed(self, export_id: str, row_count: int, summary: dict[str, int],
                files: dict[str, str], now: datetime) -> ExportJob:
        m = ExportModel
        item = ExportModel(export_id)
        item.update(actions=[
            m.status.set("succeeded"), m.row_count.set(row_count), m.rows_done.set(row_count),
            m.summary.set(summary), m.files.set(files), m.finished_at.set(now),
            m.lease_until.remove(), m.error.remove(),
        ])
        return _job(item)

    def fail(self, export_id: str, error: str, now: datetime) -> None:
        m = ExportModel
        ExportModel(export_id).update(actions=[
            m.status.set("failed"), m.error.set(error[:500]), m.finished_at.set(now),
            m.lease_until.remove(),
        ])


def _job(item: ExportModel) -> ExportJob:
    return ExportJob(
        export_id=item.export_id, kind=item.kind,  # type: ignore[arg-type]
        from_day=date.fromisoformat(item.from_day), to_day=date.fromisoformat(item.to_day),
        committee_id=item.committee_id, status=item.status,  # type: ignore[arg-type]
        requested_by=item.requested_by, created_at=item.created_at,
        row_count=int(item.row_count) if item.row_count is not None else None,
        rows_done=int(item.rows_done or 0), files=dict(item.files or {}),
        summary={k: int(v) for k, v in (item.summary or {}).items()} or None,
        error=item.error, started_at=item.started_at, finished_at=item.finished_at,
    )


class MovementLedger:
    """The movements table's `by-month` index, read as one time-ordered stream per committee."""

    def __init__(self, shards: int, page_size: int = PAGE_SIZE) -> None:
        self.shards = shards
        self.page_size = page_size

    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterator[LedgerMovement]:
        """Movements with `start <= occurred_at < end`: month by month (UTC), each month's
        shards merged by time. Pages are fetched as the stream is consumed."""
        for month, low, high in ledger_months(start, end):
            streams = [self._shard(ledger_key(committee_id, month, shard), low, high)
                       for shard in range(self.shards)]
            yield from heapq.merge(*self._started(streams), key=_order)

    def _started(self, streams: list[Iterator[LedgerMovement]]) -> list[Iterator[LedgerMovement]]:
        """Each shard's first Query, sent at once: a replay crosses many months, some of them
        quiet, and a quiet month then costs one round trip instead of one per shard. Later
        pages are read as the merge consumes them. The pool lives for this one step: one kept
        between invocations once left a build in the full suite waiting forever on a first
        page, and a pool per step is cheap and carries nothing over."""
        MovementModel._get_connection().connection.client  # noqa: B018 - build it on this thread
        with ThreadPoolExecutor(max_workers=min(self.shards, 10), thread_name_prefix="ledger") as pool:
            firsts = list(pool.map(lambda stream: next(stream, None), streams))
        return [itertools.chain((first,), stream)
                for first, stream in zip(firsts, streams, strict=True) if first is not None]

    def _shard(self, key: str, low: datetime, high: datetime) -> Iterator[LedgerMovement]:
        items = MovementModel.by_month.query(key, MovementModel.occurred_at.between(low, high),
                                             page_size=self.page_size)
        # The index orders by time only; movements of one instant are put in a fixed order.
        for _, same_instant in itertools.groupby(map(_movement, items), key=lambda m: m.occurred_at):
            yield from sorted(same_instant, key=_order)

    def donations(self, donation_ids: Collection[str]) -> dict[str, DonationFacts]:
        """The donations, read with BatchGetItem (100 keys a request), only what exports show."""
        wanted = [name for name in _DONATION_FIELDS if name in DonationModel.get_attributes()]
        items = DonationModel.batch_get(list(donation_ids), attributes_to_get=wanted)
        return {item.donation_id: _donation(item) for item in items}

    def committee_ids(self) -> list[str]:
        return sorted({page.committee_id for page in PageModel.scan(attributes_to_get=["committee_id"])})


def _order(movement: LedgerMovement) -> tuple[datetime, int, datetime, str]:
    """Time order: by the event's time, then kind, then when each donation was given (two
    gifts in one second follow the order they were given in), then id."""
    return (movement.occurred_at, _KIND_ORDER.get(movement.kind, 9),
            movement.intake_at or movement.occurred_at, movement.movement_id)


def _movement(item: MovementModel) -> LedgerMovement:
    return LedgerMovement(
        movement_id=item.movement_id, kind=item.kind,  # type: ignore[arg-type]
        amount_cents=int(item.amount_cents), occurred_at=item.occurred_at.astimezone(timezone.utc),
        donation_id=item.donation_id, donor_id=item.donor_id, committee_id=item.committee_id,
        election=item.election, page_slug=item.page_slug, event_id=item.event_id,
        fee_cents=_int_or_none(item.fee_cents), net_cents=_int_or_none(item.net_cents),
        payout_id=item.payout_id,
        intake_at=item.intake_at.astimezone(timezone.utc) if item.intake_at else None,
        wallet=item.wallet,
    )


def _int_or_none(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _donation(item: DonationModel) -> DonationFacts:
    donor = item.donor
    return DonationFacts(
        donation_id=item.donation_id,
        donor=DonorFacts(
            first_name=donor.first_name, last_name=donor.last_name, email=donor.email,
            address_line1=donor.address_line1, address_line2=donor.address_line2,
            city=donor.city, state=donor.state, zip=donor.zip,
            # A best-efforts answer received later completes what the donor first gave.
            employer=item.best_efforts_employer or getattr(donor, "employer", None),
            occupation=item.best_efforts_occupation or getattr(donor, "occupation", None),
        ),
        amount_cents=int(item.amount_cents), refunded_cents=int(item.refunded_cents or 0),
        status=item.status, election=item.election, page_slug=item.page_slug,
        payment_intent_id=item.payment_intent_id, charge_id=item.charge_id, refcode=item.refcode,
        paid_at=item.paid_at.astimezone(timezone.utc) if item.paid_at else None,
        # Fields added by other work; absent on older items. A donation made by a subscription
        # is part of a recurring gift.
        recurring=bool(getattr(item, "recurring", False) or getattr(item, "subscription_id", None)),
        excess_refund_reason=(getattr(item, "excess_refund_reason", None)
                              or getattr(item, "excess_reason", None)),
        best_efforts_answered_on=(date.fromisoformat(item.best_efforts_answered_on)
                                  if item.best_efforts_answered_on else None),
        excess_refund_cents=int(item.excess_refund_cents or 0),
        method=item.channel or "online", in_kind_description=item.in_kind_description,
        conduit=Conduit.from_record(item.conduit), reference=item.reference,
        deposit_batch=item.deposit_batch,
        # Only a redesignation that stands is reported (one the donor had refunded is a refund).
        **(_redesignation(item) if item.redesignation_status == "presumed" else {}),
        # Only a reattribution both people confirmed is reported.
        **(_reattribution(item) if item.reattribution_status == "confirmed" else {}),
    )


def _reattribution(item: DonationModel) -> dict[str, Any]:
    to = dict(item.reattributed_to or {})
    return {"reattributed_cents": int(item.reattribution_cents or 0),
            "reattributed_to": DonorFacts(
                first_name=to.get("first_name", ""), last_name=to.get("last_name", ""),
                email=to.get("email", ""), address_line1=to.get("address_line1", ""),
                address_line2=to.get("address_line2"), city=to.get("city", ""),
                state=to.get("state", ""), zip=to.get("zip", ""), employer=to.get("employer"),
                occupation=to.get("occupation")),
            "reattributed_donor_id": item.reattributed_donor_id,
            "reattributed_on": date.fromisoformat(item.reattributed_on) if item.reattributed_on else None}


def _redesignation(item: DonationModel) -> dict[str, Any]:
    return {"redesignated_cents": int(item.redesignated_cents or 0),
            "redesignated_to": item.redesignated_to,
            "redesignated_on": date.fromisoformat(item.redesignated_on) if item.redesignated_on else None}


class S3Upload:
    """Bytes streamed into one S3 object. Parts of `part_bytes` are uploaded as they fill
    (a multipart upload), so memory holds one part, whatever the object's size; an object
    smaller than one part is one PutObject. Nothing is visible until `close`."""

    def __init__(self, client: Any, bucket: str, key: str, content_type: str,
                 part_bytes: int = PART_BYTES) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"S3 parts are at least {MIN_PART_BYTES} bytes")
        self.client = client
        self.bucket = bucket
        self.key = key
        self.content_type = content_type
        self.part_bytes = part_bytes
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.size = 0
        self._buffer = io.BytesIO()

    def write(self, data: bytes) -> None:
        self._buffer.write(data)
        self.size += len(data)
        if self._buffer.tell() >= self.part_bytes:
            self._upload_part()

    def close(self) -> None:
        if self.upload_id is None:
            self._buffer.seek(0)
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self._buffer,
                                   ContentType=self.content_type)
        else:
            if self._buffer.tell():
                self._upload_part()
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts})
        self._buffer = io.BytesIO()

    def abort(self) -> None:
        if self.upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None
        self._buffer = io.BytesIO()

    def _upload_part(self) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type)["UploadId"]
        number = len(self.parts) + 1
        self._buffer.seek(0)
        response = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                           PartNumber=number, Body=self._buffer)
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self._buffer = io.BytesIO()


class S3Files:
    """Export files in the exports bucket (private; the bucket's lifecycle expires them)."""

    def __init__(self, bucket: str, region: str, part_bytes: int = PART_BYTES) -> None:
        self.bucket = bucket
        self.region = region
        self.part_bytes = part_bytes

    @cached_property
    def client(self) -> Any:
        # Signature v4 for presigned URLs; the endpoint comes from AWS_ENDPOINT_URL (moto locally).
        return boto3.client("s3", region_name=self.region, config=Config(signature_version="s3v4"))

    def open(self, key: str, content_type: str) -> S3Upload:
        return S3Upload(self.client, self.bucket, key, content_type, self.part_bytes)

    def read(self, key: str) -> bytes:
        """An object's bytes (small files the app wrote itself, such as a report's build)."""
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def download_url(self, key: str, filename: str, ttl: timedelta) -> str:
        """A presigned GET that expires after `ttl` and downloads as `filename`."""
        return str(self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"'},
            ExpiresIn=int(ttl.total_seconds()),
        ))


class SqsJobQueue:
    """A job queue (exports, payouts): a message carries only the job's id, as `{field: id}`."""

    def __init__(self, queue_name: str, region: str, field: str = "export_id") -> None:
        self.queue_name = queue_name
        self.region = region
        self.field = field

    @cached_property
    def client(self) -> Any:
        return boto3.client("sqs", region_name=self.region)

    @cached_property
    def url(self) -> str:
        return str(self.client.get_queue_url(QueueName=self.queue_name)["QueueUrl"])

    def send(self, job_id: str) -> None:
        try:
            self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps({self.field: job_id}))
        except (BotoCoreError, ClientError) as exc:
            raise ProviderUnavailable("job_queue_unavailable",
                                      "The job could not be queued; try again.") from exc
