"""Which storage failures are transient (the same request may well succeed a moment later).

botocore's standard retry mode has already retried throttling and timeouts a few times (see
docs/reliability.md) by the time one of these reaches the API; what is left is answered 503
`try_again`, so Stripe redelivers a webhook and a client retries, instead of a 500 or, worse,
a 2xx with nothing written.
"""

from __future__ import annotations

from botocore import exceptions as botocore_errors
from pynamodb.exceptions import PynamoDBException

# Whole-request error codes: throttled, a conflicting transaction in progress, a server fault.
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionConflictException", "TransactionInProgressException", "InternalServerError",
    "ServiceUnavailable", "Throttling",
})
# Per-item cancellation reasons of a TransactWriteItems / TransactGetItems.
TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def response_code(exc: BaseException) -> str | None:
    """DynamoDB's error code behind a PynamoDB error (`cause_response_code`, which raises
    AttributeError when the cause is a timeout: botocore's timeouts carry `response = None`)."""
    response = getattr(getattr(exc, "cause", None), "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def condition_failed(exc: BaseException) -> bool:
    """A single-item write refused by its condition (a PutItem, UpdateItem or DeleteItem)."""
    return response_code(exc) == "ConditionalCheckFailedException"


def is_transient(exc: BaseException) -> bool:
    """True for throttling, transaction conflicts, server faults and network timeouts, whether
    raised by PynamoDB (which wraps botocore's error as `cause`) or by a botocore client."""
    if isinstance(exc, PynamoDBException):
        reasons = {getattr(r, "code", None) for r in getattr(exc, "cancellation_reasons", None) or []}
        if response_code(exc) in TRANSIENT_CODES or reasons & TRANSIENT_REASONS:
            return True
        return exc.cause is not None and is_transient(exc.cause)
    if isinstance(exc, botocore_errors.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in TRANSIENT_CODES or status >= 500
    # Read timeouts, connection resets, endpoints out of reach.
    return isinstance(exc, botocore_errors.HTTPClientError | botocore_errors.ConnectionError)
