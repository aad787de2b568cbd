"""A bounded schemathesis run against `chalice local` (the `live_server` fixture), from the
document the API serves: no 5xx, every JSON error in the project's format, every answer as
documented. `make fuzz` runs the long form (devtools/fuzz.py)."""

from __future__ import annotations

import os

import pytest

from devtools.fuzz import fuzz, seed_admin_key

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.slow]
MAX_EXAMPLES = int(os.environ.get("FUZZ_TEST_EXAMPLES", "4"))


@pytest.mark.timeout(900)
def test_the_api_survives_fuzzing_from_its_own_document(live_server: str, demo_page: str) -> None:
    report = fuzz(live_server, max_examples=MAX_EXAMPLES, headers=seed_admin_key())
    print("\n" + report.render())
    assert report.operations >= 40
    assert report.ok, report.render()
