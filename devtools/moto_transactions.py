"""TransactWriteItems for moto at the cost of the items it touches, not of the tables.

moto backs up every table a transaction touches with `copy.deepcopy` before applying it, so each
transaction costs time in proportion to everything stored so far: a webhook's transaction touches
eight tables, and a test session's 2,000th webhook spent most of a second copying them. This
version does what DynamoDB does instead: every condition is evaluated against the state before
the transaction (an item appears at most once in a transaction, so that is also what moto's
sequential evaluation sees); if any fails, nothing is written and the cancellation reasons are
the same as moto's; otherwise the writes are applied, and should one fail, the items already
written are put back as they were.

`devtools/local_aws.py` installs it in the moto server it runs.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPS = {"ConditionCheck", "Put", "Delete", "Update"}
Reason = tuple[str | None, str | None, dict[str, Any] | None]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    checked: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
    reasons: list[Reason] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        old_item: dict[str, Any] | None = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in _OPS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                table = self.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None and not get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues")).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=old_item)
            checked.append((op_type, op, table_name, key, current))
            reasons.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as exc:
            reasons.append(("ConditionalCheckFailed", str(exc.message), old_item))
        except Exception as exc:  # moto reports any other failure as a reason too
            reasons.append((type(exc).__name__, str(exc), old_item))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)

    written: list[tuple[str, dict[str, Any], Any]] = []
    for index, (op_type, op, table_name, key, current) in enumerate(checked):
        try:
            written.append((table_name, key, copy.deepcopy(current)))
            _apply(self, op_type, op, table_name, key)
        except Exception as exc:
            for name, item_key, before in reversed(written):
                if before is None:
                    self.delete_item(name, item_key)
                else:
                    self.put_item(name, before.to_json()["Attributes"])
            if isinstance(exc, MockValidationException):
                raise
            failed: list[Reason] = [(None, None, None)] * len(checked)
            failed[index] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(failed) from None


def _apply(self: DynamoDBBackend, op_type: str, op: dict[str, Any], table_name: str,
           key: dict[str, Any]) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    condition = op.get("ConditionExpression")
    if op_type == "Put":
        self.put_item(table_name, op["Item"], condition_expression=condition,
                      expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Delete":
        self.delete_item(table_name, key, condition_expression=condition,
                         expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Update":
        self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                         condition_expression=condition, expression_attribute_names=names,
                         expression_attribute_values=values)


def install() -> None:
    """Use this TransactWriteItems in every moto DynamoDB backend of this process."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
