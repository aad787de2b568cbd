""""Best efforts" answers: a donor adds their employer and occupation from the emailed link.

`GET /e/{token}` shows the form and changes nothing (a link scanner records no answer); the
form posts to `POST /e/{token}`, which records the answer and shows it; `POST
/api/employment/{token}` is the same for JSON clients.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.html import FORM, JSON, form_fields, html_errors, page
from chalicelib.api.http import handles_errors, json_response, read_json
from chalicelib.errors import DomainError, InvalidInput

employment = Blueprint(__name__)


def _form_page(token: str, law: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    context.setdefault("answered", None)
    return page("employment.html", status, form_action=f"/e/{token}", law=law, **context)


@employment.route("/e/{token}", methods=["GET"])
@html_errors
def employment_form(token: str) -> Response:
    law = deps.best_efforts().law_for(token)  # a bad or expired link says so before any form
    return _form_page(token, law)


@employment.route("/e/{token}", methods=["POST"], content_types=[FORM, JSON])
@html_errors
def employment_answer(token: str) -> Response:
    from chalicelib.compliance.best_efforts import read_answer

    service = deps.best_efforts()
    law = service.law_for(token)
    values = form_fields(employment.current_request)
    try:
        employer, occupation = read_answer(values)
    except DomainError as err:
        return _form_page(token, law, 400, values=values, errors=err.fields)
    answer = service.record(token, employer, occupation)
    return _form_page(token, law, answered=answer)


@employment.route("/api/employment/{token}", methods=["POST"])
@handles_errors
def record_employment(token: str) -> Response:
    from chalicelib.compliance.best_efforts import read_answer

    service = deps.best_efforts()
    service.check(token)
    body = read_json(employment.current_request)
    if not isinstance(body, dict):
        raise InvalidInput("invalid_request", "The request body must be a JSON object.")
    answer = service.record(token, *read_answer(body))
    return json_response({"updated": True, "answered_at": answer.answered_at.isoformat(),
                          "contributions": len(answer.answered_on)})
