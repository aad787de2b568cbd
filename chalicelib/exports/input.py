"""What finance sends to request an export (pydantic; imported only by that route)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.exports.model import ExportKind

MAX_RANGE_DAYS = 366
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ExportKind
    from_day: Annotated[date, Field(alias="from")]
    to_day: Annotated[date, Field(alias="to")]
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")] | None = None

    @field_validator("from_day", "to_day", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise ValueError("must be a date as YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _range(self) -> ExportRequest:
        if self.to_day < self.from_day:
            raise ValueError("`to` must not be before `from`")
        if (self.to_day - self.from_day).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a range covers at most {MAX_RANGE_DAYS} days")
        return self
