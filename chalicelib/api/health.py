"""Readiness: the API answers and its storage is reachable."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.http import error_response, json_response

health = Blueprint(__name__)


@health.route("/api/health", methods=["GET"])
def health_check() -> Response:
    try:
        deps.page_service().check_storage()
    except Exception:  # any storage failure means "not ready"; details stay in the logs
        return error_response(503, "not_ready", "Storage is not reachable yet.")
    return json_response({"ok": True})
