""""Best efforts" answers: a donor adds their employer and occupation from the emailed link."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.http import handles_errors, json_response, read_json
from chalicelib.errors import InvalidInput, NotFound

employment = Blueprint(__name__)


@employment.route("/e/{token}", methods=["GET"])
@handles_errors
def employment_form(token: str) -> Response:
    from chalicelib.tokens import EMPLOYMENT

    deps.tokens().read(token, EMPLOYMENT)  # a bad or expired link says so before any form
    safe = escape(token, quote=True)
    body = f"""<!doctype html><html lang=en><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1"><title>Employer and occupation</title>
<main style="max-width:34rem;margin:2rem auto;font-family:system-ui,sans-serif;padding:0 1rem">
<h1>Employer and occupation</h1>
<p>Federal law asks campaigns to report the employer and occupation of donors. If you are retired or
not employed, say so.</p>
<form id=employment data-token="{safe}">
<label for=employer>Employer</label><br>
<input id=employer name=employer required autocomplete=organization><br>
<label for=occupation>Occupation</label><br><input id=occupation name=occupation required
 autocomplete=organization-title><br><p id=result role=status></p>
<button type=submit>Save</button></form></main>
<script>
document.getElementById("employment").addEventListener("submit", function (e) {{
  e.preventDefault();
  var f = e.target;
  fetch("/api/employment/" + encodeURIComponent(f.dataset.token), {{method: "POST",
    headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{employer: f.employer.value, occupation: f.occupation.value}})}})
  .then(function (r) {{ return r.json(); }})
  .then(function (b) {{ document.getElementById("result").textContent =
    b.error ? b.error.message : "Thank you! Your record is up to date."; }});
}});
</script></html>"""
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@employment.route("/api/employment/{token}", methods=["POST"])
@handles_errors
def record_employment(token: str) -> Response:
    from chalicelib.compliance.best_efforts import is_placeholder
    from chalicelib.tokens import EMPLOYMENT

    donor_id = deps.tokens().read(token, EMPLOYMENT)
    body = read_json(employment.current_request)
    if not isinstance(body, dict):
        raise InvalidInput("invalid_request", "The request body must be a JSON object.")
    fields = {}
    answers = {}
    for name in ("employer", "occupation"):
        value = body.get(name)
        if not isinstance(value, str) or is_placeholder(value) or len(value.strip()) > 200:
            fields[name] = "required: a real answer (Retired and Not employed are answers)"
        else:
            answers[name] = value.strip()
    if fields:
        raise InvalidInput("invalid_request", "Please give your employer and occupation.", fields=fields)
    if not deps.giving_service().store.record_employment(  # type: ignore[attr-defined]
            donor_id, answers["employer"], answers["occupation"], datetime.now(timezone.utc)):
        raise NotFound("donor_not_found", "We could not find your record.")
    return json_response({"updated": True})
