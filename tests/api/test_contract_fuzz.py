"""Contract fuzz: schemathesis over the app's own OpenAPI document, in process (ASGI).

Every operation gets schema-driven requests (valid and invalid) and each answer must
be no 5xx, a documented status code and content type, and a body that matches the
declared response schema. Long solves are tamed by the settings, not by skipping
routes: the caps (2 s per solve, 20 tasks, 10 agents, 3 batch instances, 1 s of
`?wait`) turn any larger generated request into a 422, and accepted jobs run one at
a time. Bounded and derandomised (fixed examples per operation and mode, no shrinking)
so CI stays fast; every operation runs, and all failures are reported together. The
dashboard and /mcp are outside the document; their own tests cover them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ServiceSettings

EXAMPLES_PER_OPERATION = 15  # per generation mode (schema-valid, then schema-invalid)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseSchema]:
    service = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        max_time_limit_s=2.0,
        max_tasks=20,
        max_agents=10,
        max_batch_instances=3,
        max_wait_s=1.0,
        max_concurrent_jobs=1,
        fast_workers=0,
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(service))
    asgi.shutdown_lifespans()  # stops the job runner the ASGI transport started


def _fuzz(operation: APIOperation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints as found
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


def test_every_operation_honours_its_contract(api_schema: BaseSchema) -> None:
    failures: list[str] = []
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode)
            except Unsatisfiable:  # nothing schema-invalid to send (no parameters or body)
                continue
            except Exception as exc:  # collect every operation's failure, then fail once
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
