"""The solver breaker carries across a service's jobs: a solver that keeps failing is
skipped by later jobs, and /metrics and the dashboard say so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allocator.jobs import BreakerBoard
from allocator.jobs.execution import execute_job
from allocator.store import open_store
from solvers import registry
from solvers.portfolio.breaker import SolverBreaker
from tests.api.conftest import small_problem


def _runs(result_text: str | None) -> dict[str, dict[str, Any]]:
    assert result_text is not None
    return {run["name"]: run for run in json.loads(result_text)["solvers"]}


def test_a_solver_that_keeps_failing_is_skipped_by_later_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Solver processes are forked from this one, so they see the failing registration.
    monkeypatch.setitem(registry._REGISTRY, "nsga2", ("tests.api.failing_solver", "FailingSolver"))
    request = json.dumps(small_problem(solvers=["greedy", "nsga2"], time_limit_s=1.0))
    board = BreakerBoard()
    statuses = []
    for _ in range(4):  # each job in turn, as the runner runs them: snapshot in, merge out
        sent = board.snapshot()
        outcome = execute_job("comparison", request, breaker_state=sent)
        board.merge(sent, outcome.breaker_state)
        runs = _runs(outcome.result)
        statuses.append(runs["nsga2"]["status"])
        assert outcome.status == "succeeded" and runs["greedy"]["status"] != "error"
    assert statuses == ["error", "error", "error", "skipped"]
    assert "breaker open" in _runs(outcome.result)["nsga2"]["notes"][0]
    view = board.view()["nsga2"]
    assert view["open"] and view["failures"] == 3 and view["opens"] == 1
    assert not board.view()["greedy"]["open"]


def _seed_open_breaker(data_dir: Path, solver: str) -> None:
    breaker = SolverBreaker()
    for _ in range(breaker.threshold):
        breaker.record(solver, ok=False)
    store = open_store(None, data_dir)
    store.swarms.put_setting("solver_breaker", json.dumps(breaker.to_dict()))
    store.close()


@pytest.mark.parametrize("wait", [10, 0], ids=["warm-pool", "job-process"])
def test_the_service_passes_its_breaker_to_every_job(
    make_client: Callable[..., TestClient], tmp_path: Path, wait: int
) -> None:
    data_dir = tmp_path / "breaker-data"
    _seed_open_breaker(data_dir, "nsga2")  # as a restart finds it: kept in the store
    client = make_client(data_dir=data_dir)
    document = small_problem(solvers=["greedy", "nsga2"], time_limit_s=1.0)
    job = client.post("/v1/comparisons", params={"wait": wait}, json=document).json()
    job = client.get(f"/v1/jobs/{job['id']}", params={"wait": 30}).json()
    assert job["status"] == "succeeded", job
    runs = _runs(client.get(f"/v1/jobs/{job['id']}/result").text)
    assert runs["nsga2"]["status"] == "skipped"
    assert "breaker open" in runs["nsga2"]["notes"][0]
    metrics = client.get("/metrics").text
    assert 'allocator_solver_breaker_open{solver="nsga2"} 1.0' in metrics
    assert 'allocator_solver_breaker_failures{solver="nsga2"} 3.0' in metrics
    page = client.get("/dashboard/live").text
    assert 'data-solver="nsga2"' in page and "open ·" in page
