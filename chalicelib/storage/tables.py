"""Create every table the app uses, idempotently (local stack, tests and first deploy checks)."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.storage.models import (
    ALL_MODELS,
    ProcessedEventModel,
    VelocityModel,
    VisitModel,
    WebSessionModel,
)


def ensure_tables() -> list[str]:
    """Create missing tables and wait for them; returns the names it created."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
            created.append(model.Meta.table_name)
    _enable_ttl(ProcessedEventModel, "expires_at")
    _enable_ttl(VelocityModel, "expires_at")
    _enable_ttl(VisitModel, "expires_at")
    _enable_ttl(WebSessionModel, "expires_at")
    return created


def _enable_ttl(model: type[Model], attribute: str) -> None:
    client = model._get_connection().connection.client
    status = client.describe_time_to_live(TableName=model.Meta.table_name)
    if status["TimeToLiveDescription"].get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=model.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
