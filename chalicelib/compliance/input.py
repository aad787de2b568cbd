"""What finance staff may send to configure a committee (pydantic; loaded on that route)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class CommitteeInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    type: Literal["candidate", "pac"] = "candidate"
    limit_cents: Annotated[StrictInt, Field(ge=0)] | None = None
    itemization_threshold_cents: Annotated[StrictInt, Field(ge=0)] | None = None
