"""The portal's request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PortalLinkRequest(BaseModel):
    """Ask for a link to the donor's portal, emailed to the address on their donor record."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
