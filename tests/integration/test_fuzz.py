"""A bounded schemathesis run against `chalice local` (the `live_server` fixture), from the
document the API serves: no 5xx, every JSON error in the project's format, every answer as
documented. `make fuzz` runs the long form (devtools/fuzz.py)."""

from __future__ import annotations

import os

import pytest

from devtools.fuzz import fuzz, is_project_error, seed_admin_key

pytestmark = pytest.mark.stack
MAX_EXAMPLES = int(os.environ.get("FUZZ_TEST_EXAMPLES", "4"))


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_api_survives_fuzzing_from_its_own_document(live_server: str, demo_page: str) -> None:
    report = fuzz(live_server, max_examples=MAX_EXAMPLES, headers=seed_admin_key())
    print("\n" + report.render())
    assert report.operations >= 40
    assert report.ok, report.render()


# What fuzzing found, kept fixed (each was a 500 or an answer outside the error format).
def test_a_date_too_early_to_convert_to_utc_is_a_400(api) -> None:
    from tests.helpers import ORGANIZER_KEY, page_body, staff

    status, body = api.call("POST", "/api/admin/pages", page_body(deadline="0001-01-01T00:00:00+01:00"),
                            staff(ORGANIZER_KEY))
    assert status == 400 and is_project_error(body), body
    status, body = api.call("POST", "/api/admin/actions", {
        "kind": "event", "title": "x", "starts_at": "0001-01-01T00:00:00+01:00"}, staff(ORGANIZER_KEY))
    assert status == 400 and is_project_error(body), body


def test_chalices_own_errors_and_unknown_assets_use_the_error_format(api) -> None:
    for method, path, headers in (
        ("GET", "/assets/nope.js", {}),
        ("POST", "/api/signups", {"Content-Type": "text/csv"}),  # 415: a media type it does not take
        ("DELETE", "/api/signups", {}),  # 405
    ):
        status, body = api.call(method, path, raw="x", headers=headers)
        assert status in (404, 405, 415) and is_project_error(body), (path, status, body)
