"""Committees: their type, legal limits and calendar (finance and admin)."""

from __future__ import annotations

import re

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.errors import InvalidInput

committees = Blueprint(__name__)
FINANCE = ("finance",)


@committees.route("/api/admin/committees/{committee_id}", methods=["PUT"])
@handles_errors
def put_committee(committee_id: str) -> Response:
    from chalicelib.compliance.input import CommitteeInput

    require_staff(committees.current_request, *FINANCE)
    if not re.fullmatch(r"C\d{8}", committee_id):
        raise InvalidInput("invalid_request", "Not an FEC committee id.",
                           fields={"committee_id": "must look like C00123456"})
    data = validated(CommitteeInput, read_json(committees.current_request))
    return json_response(deps.committee_service().configure(committee_id, data).view())


@committees.route("/api/admin/committees/{committee_id}", methods=["GET"])
@handles_errors
def get_committee(committee_id: str) -> Response:
    require_staff(committees.current_request, *FINANCE)
    return json_response(deps.committee_service().get(committee_id).view())


@committees.route("/api/admin/committees", methods=["GET"])
@handles_errors
def list_committees() -> Response:
    require_staff(committees.current_request, *FINANCE)
    return json_response({"committees": [c.view() for c in deps.committee_service().list()]})
