"""Export storage against moto's server: S3 multipart streaming and the time-ordered ledger."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from chalicelib.config import bucket_name, settings
from chalicelib.storage.donations import ledger_key
from chalicelib.storage.exports import MIN_PART_BYTES, MovementLedger, S3Upload

pytestmark = pytest.mark.stack


@pytest.fixture()
def s3(local_stack: dict[str, Any]) -> Any:
    return boto3.client("s3", region_name=settings().region)


def pending_uploads(s3: Any, key: str) -> list[dict[str, Any]]:
    uploads = s3.list_multipart_uploads(Bucket=bucket_name("exports"), Prefix=key).get("Uploads", [])
    return list(uploads)


def test_a_large_file_streams_in_parts_of_at_least_five_mib(s3: Any) -> None:
    key = f"test/{uuid.uuid4().hex}/big.csv"
    upload = S3Upload(s3, bucket_name("exports"), key, "text/csv", MIN_PART_BYTES)
    chunk = bytes(range(256)) * 256  # 64 KiB
    for _ in range(100):  # 6.25 MiB
        upload.write(chunk)
        assert upload._buffer.tell() < MIN_PART_BYTES + len(chunk)  # one part in memory at most
    assert pending_uploads(s3, key) and s3.list_objects_v2(Bucket=bucket_name("exports"),
                                                           Prefix=key)["KeyCount"] == 0
    upload.close()
    head = s3.head_object(Bucket=bucket_name("exports"), Key=key)
    assert head["ETag"].strip('"').endswith("-2")  # a full part and the rest
    assert head["ContentLength"] == 100 * len(chunk) and head["ContentType"] == "text/csv"
    body = s3.get_object(Bucket=bucket_name("exports"), Key=key)["Body"].read()
    assert body == chunk * 100
    assert pending_uploads(s3, key) == []
    # moto keeps (and /moto-api/data.json reads) every object it holds: do not leave this one.
    s3.delete_object(Bucket=bucket_name("exports"), Key=key)


def test_a_small_file_is_one_put(s3: Any) -> None:
    key = f"test/{uuid.uuid4().hex}/small.csv"
    upload = S3Upload(s3, bucket_name("exports"), key, "text/csv")
    upload.write(b"a,b\r\n")
    upload.close()
    head = s3.head_object(Bucket=bucket_name("exports"), Key=key)
    assert "-" not in head["ETag"] and head["ContentLength"] == 5


def test_an_aborted_upload_leaves_nothing(s3: Any) -> None:
    key = f"test/{uuid.uuid4().hex}/aborted.csv"
    upload = S3Upload(s3, bucket_name("exports"), key, "text/csv", MIN_PART_BYTES)
    upload.write(b"x" * (MIN_PART_BYTES + 10))
    assert upload.upload_id is not None
    upload.abort()
    assert pending_uploads(s3, key) == []
    assert s3.list_objects_v2(Bucket=bucket_name("exports"), Prefix=key)["KeyCount"] == 0


def test_parts_under_five_mib_are_refused() -> None:
    with pytest.raises(ValueError):
        S3Upload(object(), "bucket", "key", "text/csv", MIN_PART_BYTES - 1)


def save_movement(committee: str, event_id: str, kind: str, cents: int, when: datetime,
                  shard: int, donation_id: str = "don_x", intake_at: datetime | None = None) -> None:
    from chalicelib.storage.models import MovementModel

    MovementModel(f"{event_id}#{kind}", kind=kind, amount_cents=cents, occurred_at=when,
                  donation_id=donation_id, donor_id="dnr_x", committee_id=committee, election="P2026",
                  page_slug="p", event_id=event_id,
                  ledger_key=ledger_key(committee, when, shard), intake_at=intake_at).save()


def test_the_ledger_merges_shards_and_days_in_time_order(local_stack: dict[str, Any]) -> None:
    committee = "C" + "".join(random.choices("0123456789", k=8))
    shards = settings().ledger_shards
    base = datetime(2025, 3, 1, tzinfo=timezone.utc)
    times = [base + timedelta(hours=7 * n, seconds=n) for n in range(40)]
    shuffled = list(enumerate(times))
    random.shuffle(shuffled)
    for n, when in shuffled:
        save_movement(committee, f"evt_{n:03d}", "contribution", 100 + n, when, random.randrange(shards))
    # One instant holding a refund (written first, on another shard) and a contribution.
    instant = base + timedelta(days=2, hours=1)
    save_movement(committee, "evt_a", "refund", -50, instant, 0)
    save_movement(committee, "evt_b", "contribution", 50, instant, shards - 1)
    ledger = MovementLedger(shards, page_size=3)  # pages smaller than a shard's day
    streamed = list(ledger.movements(committee, base, base + timedelta(days=30)))
    assert [m.occurred_at for m in streamed] == sorted(m.occurred_at for m in streamed)
    assert len(streamed) == 42
    same = [m.movement_id for m in streamed if m.occurred_at == instant]
    assert same == ["evt_b#contribution", "evt_a#refund"]
    # [start, end): the start is in, the end is out
    inner = list(ledger.movements(committee, times[5], times[9]))
    assert [m.occurred_at for m in inner] == [t for t in sorted([*times, instant, instant])
                                              if times[5] <= t < times[9]]
    assert list(ledger.movements(committee, base, base)) == []


def test_two_gifts_in_one_event_second_follow_the_order_they_were_given_in(
        local_stack: dict[str, Any]) -> None:
    committee = "C" + "".join(random.choices("0123456789", k=8))
    shards = settings().ledger_shards
    second = datetime(2025, 4, 1, 12, 0, 0, tzinfo=timezone.utc)
    given = [second - timedelta(minutes=5, microseconds=n) for n in range(4)]  # newest first
    # Event ids sort against the giving order, and each lands on its own shard.
    for n, intake in enumerate(given):
        save_movement(committee, f"evt_{n}", "contribution", 100 * (n + 1), second, n % shards,
                      donation_id=f"don_{n}", intake_at=intake)
    streamed = list(MovementLedger(shards).movements(committee, second, second + timedelta(seconds=1)))
    assert [m.donation_id for m in streamed] == ["don_3", "don_2", "don_1", "don_0"]
    assert [m.intake_at for m in streamed] == sorted(given)


def test_in_one_event_second_the_aggregate_and_the_itemized_row_follow_the_giving_order(
        local_stack: dict[str, Any]) -> None:
    """One donor's $150 then $100 (their event ids sorting the other way), paid in one second:
    the replay the exports run over the ledger gives the $150 an aggregate of $150, unitemized,
    and the $100 the aggregate of $250 and the itemized row (over $200), as they were given."""
    from datetime import date

    from chalicelib.compliance.committees import Committee
    from chalicelib.compliance.elections import Election
    from chalicelib.exports.aggregates import AggregateReplay

    committee = "C" + "".join(random.choices("0123456789", k=8))
    rules = Committee(committee, "Rivera for Congress", "candidate", 350_000, 20_000,
                      time_zone="America/Chicago", previous_general_date=date(2024, 11, 5),
                      elections=(Election("P2026", date(2026, 6, 2)), Election("G2026", date(2026, 11, 3))))
    second = datetime(2025, 4, 1, 12, 0, 0, tzinfo=timezone.utc)
    save_movement(committee, "evt_b", "contribution", 15_000, second, 0, donation_id="don_b",
                  intake_at=second - timedelta(minutes=3))
    save_movement(committee, "evt_a", "contribution", 10_000, second, 1, donation_id="don_a",
                  intake_at=second - timedelta(minutes=2))
    replay = AggregateReplay(rules)
    rows = [(m.donation_id, replay.apply(m)) for m in MovementLedger(settings().ledger_shards).movements(
        committee, second, second + timedelta(seconds=1))]
    assert [(d, r.aggregate_cents, r.itemized) for d, r in rows] == [("don_b", 15_000, False),
                                                                     ("don_a", 25_000, True)]


def test_donations_are_read_in_batches(local_stack: dict[str, Any], api: Any) -> None:
    from chalicelib.storage.models import DonationModel, DonorFields

    now = datetime.now(timezone.utc)
    ids = [f"don_batch_{uuid.uuid4().hex}" for _ in range(130)]
    with DonationModel.batch_write() as batch:
        for donation_id in ids:
            batch.save(DonationModel(
                donation_id, page_slug="p", committee_id="C00000009", election="P2026", amount_cents=500,
                status="succeeded", donor_id="dnr_x", fingerprint="f", created_at=now, updated_at=now,
                donor=DonorFields(first_name="A", last_name="B", email="a@example.org",
                                  address_line1="1 St", city="C", state="IL", zip="62701", employer="E",
                                  occupation="O")))
    found = MovementLedger(settings().ledger_shards).donations(set(ids))
    assert set(found) == set(ids)
    facts = found[ids[0]]
    assert (facts.amount_cents, facts.donor.last_name, facts.recurring, facts.excess_refund_reason) == (
        500, "B", False, None)
