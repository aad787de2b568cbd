"""What finance sends to build, finalize and amend a report (pydantic; loaded on those routes)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.compliance.input import Day, split_name
from chalicelib.filing.model import Name

REPORT_CODE = re.compile(r"^(Q[1-3]|YE|MY|M([2-9]|1[0-2])|12[PRCSG]|30[GSR])$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReportRequest(_Strict):
    committee_id: Annotated[str, Field(pattern=r"^C\d{8}$")]
    report_code: Annotated[str, Field(pattern=REPORT_CODE.pattern)]
    from_day: Annotated[Day, Field(alias="from")]
    to_day: Annotated[Day, Field(alias="to")]


class FinalizeRequest(_Strict):
    # The name as the treasurer signs: "First Last" (a middle name between them).
    treasurer_name: Annotated[str, Field(min_length=3, max_length=100)]
    date_signed: Day

    @field_validator("treasurer_name")
    @classmethod
    def _full_name(cls, value: str) -> str:
        split_name(value)
        return value

    @property
    def treasurer(self) -> Name:
        """The treasurer as the FEC's fields name them (first, last, middle)."""
        return Name(*split_name(self.treasurer_name))


class AmendRequest(_Strict):
    # The FEC's id of the filed report being amended, as the FEC's receipt gives it.
    fec_report_id: Annotated[str, Field(pattern=r"^FEC-\d{1,12}$")]
