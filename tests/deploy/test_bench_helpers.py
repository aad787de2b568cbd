"""The benchmark's DynamoDB accounting: item sizes, capacity units, GSI partition writes, key
families. Pure functions; no stack."""

from __future__ import annotations

from devtools.bench.common import (
    Call,
    IndexSchema,
    TableSchema,
    hottest,
    index_writes,
    item_size,
    key_family,
    read_units,
    value_size,
    write_units,
)

TABLE = TableSchema("donations", "donation_id", None, (
    IndexSchema("pending", "pending_shard", "created_at"),
    IndexSchema("by-pi", "payment_intent_id", None, "KEYS_ONLY"),
))


def item(**attrs: str) -> dict[str, dict[str, str]]:
    return {k: {"S": v} for k, v in attrs.items()}


def test_sizes_follow_dynamodb_rules() -> None:
    assert value_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert value_size({"N": "27"}) == 2 and value_size({"N": "-1234.5"}) == 4
    assert value_size({"BOOL": True}) == value_size({"NULL": True}) == 1
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert item_size({"id": {"S": "abc"}, "n": {"N": "5"}}) == 2 + 3 + 1 + 2
    assert item_size(None) == 0


def test_units_round_up_and_double_in_transactions() -> None:
    assert write_units(0, False) == 1 and write_units(1024, False) == 1 and write_units(1025, False) == 2
    assert write_units(100, True) == 2
    assert read_units(4096, True) == 1 and read_units(4097, True) == 2
    assert read_units(100, False) == 0.5 and read_units(100, True, True) == 2


def test_sparse_index_writes_on_entry_change_and_exit() -> None:
    pending = TABLE.indexes[0]
    new = item(donation_id="d1", pending_shard="pending#3", created_at="t")
    assert index_writes(TABLE, pending, None, new) == [("donations/pending:pending#3", 1.0)]
    changed = {**new, "payment_intent_id": {"S": "pi_1"}}
    assert index_writes(TABLE, pending, new, changed) == [("donations/pending:pending#3", 1.0)]
    assert index_writes(TABLE, pending, changed, changed) == []
    paid = {k: v for k, v in changed.items() if k != "pending_shard"}
    assert index_writes(TABLE, pending, changed, paid) == [("donations/pending:pending#3", 1.0)]
    moved = {**changed, "pending_shard": {"S": "pending#4"}}
    assert [label for label, _ in index_writes(TABLE, pending, changed, moved)] == [
        "donations/pending:pending#3", "donations/pending:pending#4"]


def test_keys_only_index_ignores_changes_to_other_attributes() -> None:
    by_pi = TABLE.indexes[1]
    before = item(donation_id="d1", payment_intent_id="pi_1", status="pending")
    after = {**before, "status": {"S": "succeeded"}}
    assert index_writes(TABLE, by_pi, before, after) == []


def test_hottest_and_key_families() -> None:
    calls = [Call("TransactWriteItems", partition_writes=[("counters:page#p#1", 2.0), ("events:evt_a", 2.0)]),
             Call("TransactWriteItems", partition_writes=[("counters:page#p#1", 2.0), ("events:evt_b", 2.0)])]
    assert hottest(calls)[0] == ("counters:page#p#1", 2, 4.0)
    assert key_family("counters:page#p#1") == "counters:page#p#<n>"
    assert key_family("donations:don_0a0849660bc15cd1a332b042646cc7af") == "donations:don_<id>"
    day = "movements/by-day:C00123456#2026-11-28"
    assert key_family(f"{day}#9") == f"{day}#<n>"
