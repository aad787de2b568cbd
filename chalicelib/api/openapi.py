"""The API's OpenAPI 3.1 document, generated from the routes and the request models by
`make openapi` (devtools/openapi.py) into `openapi.json` beside this file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib.api import caching

openapi = Blueprint(__name__)
DOCUMENT = Path(__file__).resolve().parent / "openapi.json"


@openapi.route("/api/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    """This document."""
    return Response(body=_document(), status_code=200, headers={
        "Content-Type": "application/json", "Cache-Control": caching.ASSET})


@lru_cache(maxsize=1)
def _document() -> str:
    return DOCUMENT.read_text()
