"""Fuzz the running API from its OpenAPI document with schemathesis (`make fuzz`).

    python -m devtools.fuzz [--max-examples 100] [--seed 1]

Starts moto's server, the Stripe stand-in and `chalice local` on free ports (the test suite runs
a bounded version against its own `chalice local`: tests/integration/test_fuzz.py), loads the
document from `GET /api/openapi.json`, and for every operation sends schemathesis' generated
requests, valid ones and invalid ones, with an admin staff key so that staff routes are reached
past authentication. Each answer must:

* not be a 5xx;
* if an error with a JSON body, be the project's error body `{"error": {"code", "message", ...}}`;
* conform to the document (status code, content type, response schema), by schemathesis' checks.

API Gateway's own answers (403 `Missing Authentication Token` for a path no route has) never
reach the app and are not in the document; every request here is for a documented route.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from devtools import stack

ROOT = stack.ROOT
LOGS = ROOT / ".local" / "fuzz"
ADMIN_KEY = "fuzz-admin-key"


@dataclass
class FuzzReport:
    max_examples: int
    operations: int = 0
    cases: Counter[str] = field(default_factory=Counter)  # by generation mode
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def render(self) -> str:
        lines = [f"fuzzed {self.operations} operations, {sum(self.cases.values())} requests "
                 f"({', '.join(f'{n} {mode}' for mode, n in sorted(self.cases.items()))}; "
                 f"at most {self.max_examples} per operation and mode)",
                 "answers: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))]
        lines += [f"FAIL {f}" for f in self.failures[:30]]
        lines.append("no 5xx; every error in the project's format; every answer as documented"
                     if self.ok else f"{len(self.failures)} failures")
        return "\n".join(lines)


def is_project_error(body: Any) -> bool:
    """`{"error": {"code": str, "message": str, "fields"?: {str: str}, ...}}`."""
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return False
    error = body["error"]
    fields = error.get("fields", {})
    return (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)
            and isinstance(fields, dict) and all(isinstance(v, str) for v in fields.values()))


def fuzz(base_url: str, *, max_examples: int, headers: dict[str, str], seed: int = 1) -> FuzzReport:
    """Every operation of the served document, `max_examples` positive and negative cases each."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    report = FuzzReport(max_examples)
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    session = requests.Session()

    def _run(operation: Any, mode: Any) -> None:
        @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def one(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers, session=session, timeout=30)
            report.cases[mode.value] += 1
            report.statuses[response.status_code] += 1
            problem = _problem(response)
            if problem is None:
                try:
                    case.validate_response(response, checks=checks, headers=headers)
                except BaseExceptionGroup as exc:
                    problem = "; ".join(str(getattr(f, "title", f)) for f in exc.exceptions)
            if problem:
                report.failures.append(f"{operation.label} [{mode.value}] {response.status_code}: "
                                       f"{problem} :: {case.as_curl_command(base_url=base_url)}"[:600])

        try:
            one()
        except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
            pass

    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _run(operation, mode)
    return report


def _problem(response: Any) -> str | None:
    if response.status_code >= 500:
        return f"server error {response.text[:200]!r}"
    if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            return "an error body that is not JSON"
        if not is_project_error(body):
            return f"an error outside the project's format: {response.text[:200]!r}"
    return None


def seed_admin_key(key: str = ADMIN_KEY) -> dict[str, str]:
    """An admin staff key (dev stage), so that staff routes are fuzzed past authentication."""
    from chalicelib.staff.auth import hash_key
    from chalicelib.storage.staff_keys import StaffKeyRepository

    repo = StaffKeyRepository()
    if repo.find(hash_key(key)) is None:
        repo.save(hash_key(key), "admin", "fuzz", datetime.now(timezone.utc))
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def running_api() -> Iterator[str]:
    """moto's server, the Stripe stand-in and `chalice local` on free ports; the API's URL."""
    from devtools.seed import seed_demo_page

    with stack.local_services(LOGS) as services:
        seed_demo_page()
        api_port = stack.free_port()
        api = stack.start_api(api_port, services.env, LOGS / "api.log")
        try:
            yield f"http://127.0.0.1:{api_port}"
        finally:
            stack.stop(api)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and mode")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the report here as JSON")
    args = parser.parse_args()
    with running_api() as url:
        report = fuzz(url, max_examples=args.max_examples, headers=seed_admin_key(), seed=args.seed)
    print(report.render())
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"operations": report.operations, "cases": report.cases,
                       "statuses": report.statuses, "failures": report.failures}, out, indent=1)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
