"""Schemathesis against the running server's /openapi.json (bounded examples): no 5xx and
every response matches its documented schema, for a manager's token."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

MAX_EXAMPLES = 15


def test_openapi_fuzz_no_server_errors_and_responses_match_the_schema(world):
    raw = httpx.get(world.server.url + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    headers = {"Authorization": f"Bearer {world.tokens['manager']}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        failures.extend(_fuzz(operation, world.server.url, headers))
    assert failures == []


def _fuzz(operation, base_url: str, headers: dict[str, str]) -> list[str]:
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(
            base_url=base_url, headers=headers,
            checks=[not_a_server_error, response_schema_conformance],
        )  # fmt: skip

    try:
        run()
    except Exception as exc:  # collect every operation's failure, then report them all
        return [f"{operation.method.upper()} {operation.path}: {exc}"[:800]]
    return []
