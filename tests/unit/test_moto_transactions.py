"""The local moto server's TransactWriteItems (devtools/moto_transactions.py): all or nothing,
conditions against the state before the transaction, moto's cancellation reasons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture()
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend

    from devtools import moto_transactions

    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_transactions.transact_write_items)
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        for table in ("a", "b"):
            client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        client.put_item(TableName="a", Item={"k": {"S": "1"}, "n": {"N": "5"}})
        yield client


def put(table: str, key: str, n: int, condition: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Item": {"k": {"S": key}, "n": {"N": str(n)}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def add(table: str, key: str, n: int, condition: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Key": {"k": {"S": key}}, "UpdateExpression": "ADD n :n",
                          "ExpressionAttributeValues": {":n": {"N": str(n)}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Update": op}


def n(client: Any, table: str, key: str) -> int | None:
    item = client.get_item(TableName=table, Key={"k": {"S": key}}).get("Item")
    return int(item["n"]["N"]) if item else None


def test_a_transaction_applies_every_write(dynamodb) -> None:
    dynamodb.transact_write_items(TransactItems=[put("b", "x", 1, "attribute_not_exists(k)"),
                                                 add("a", "1", 2)])
    assert (n(dynamodb, "b", "x"), n(dynamodb, "a", "1")) == (1, 7)


def test_a_failed_condition_writes_nothing_and_names_its_item(dynamodb) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(TransactItems=[
            add("a", "2", 2), put("b", "y", 1), put("a", "1", 9, "attribute_not_exists(k)")])
    reasons = [r["Code"] for r in exc.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert (n(dynamodb, "a", "1"), n(dynamodb, "a", "2"), n(dynamodb, "b", "y")) == (5, None, None)


def test_a_write_that_fails_rolls_back_the_others(dynamodb) -> None:
    from botocore.exceptions import ClientError

    dynamodb.put_item(TableName="b", Item={"k": {"S": "s"}, "n": {"S": "not a number"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[add("a", "1", 2), put("b", "new", 1), add("b", "s", 1)])
    assert (n(dynamodb, "a", "1"), n(dynamodb, "b", "new")) == (5, None)
    assert dynamodb.get_item(TableName="b", Key={"k": {"S": "s"}})["Item"]["n"] == {"S": "not a number"}


def test_one_item_twice_is_refused(dynamodb) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc:
        dynamodb.transact_write_items(TransactItems=[add("a", "1", 1), add("a", "1", 1)])
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    assert n(dynamodb, "a", "1") == 5
