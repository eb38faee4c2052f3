"""Job and swarm edge cases: unknown kind filter, cancel of a warm-pool ?wait job, batch
metrics, completing a task no agent pulled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from models.generators.instances import generate_attribute_problem
from tests.api.conftest import small_problem


def test_unknown_kind_filter_is_422(client: TestClient) -> None:
    response = client.get("/v1/jobs", params={"kind": "bogus"})
    assert response.status_code == 422
    assert "allocation" in response.json()["detail"]
    assert client.get("/v1/jobs", params={"kind": "batch"}).status_code == 200


def test_cancel_of_a_warm_pool_wait_job_ends_it(make_client: Callable[..., TestClient]) -> None:
    client = make_client(fast_workers=1)
    document = generate_attribute_problem(200, 10, seed=1).model_dump(
        mode="json", exclude_defaults=True
    )  # 2,000 cells: the fast path's largest
    document["options"] = {"solvers": ["nsga2"], "time_limit_s": 2.0}  # runs to its limit
    answers: list[Any] = []  # the test client's responses
    waiter = threading.Thread(
        target=lambda: answers.append(client.post("/v1/allocations?wait=20", json=document))
    )
    waiter.start()
    deadline = time.monotonic() + 10
    running: list[dict[str, object]] = []
    while not running and time.monotonic() < deadline:
        running = client.get("/v1/jobs", params={"status": "running"}).json()["items"]
        time.sleep(0.02)
    assert running, "the job never ran"
    cancelled_at = time.monotonic()
    response = client.delete(f"/v1/jobs/{running[0]['id']}")
    assert response.json()["status"] == "cancelled"
    waiter.join(timeout=20)
    assert answers and answers[0].json()["status"] == "cancelled"
    assert time.monotonic() - cancelled_at < 1.5, "the ?wait caller heard of the cancel at once"
    time.sleep(2.5)  # the pool's late answer arrives and is dropped
    job = client.get(f"/v1/jobs/{running[0]['id']}").json()
    assert job["status"] == "cancelled"


def test_batch_completion_records_per_solver_metrics(client: TestClient) -> None:
    instances = [small_problem(n_tasks=5 + k) for k in range(2)]
    body = {"instances": instances, "options": {"solvers": ["greedy"], "time_limit_s": 0.2}}
    job = client.post("/v1/comparisons/batches?wait=30", json=body).json()
    assert job["status"] == "succeeded", job
    metrics = client.get("/metrics").text
    assert 'allocator_solver_duration_seconds_count{solver="greedy"} 2.0' in metrics
    assert 'allocator_jobs_finished_total{kind="batch",status="succeeded"} 1.0' in metrics


def test_completing_a_never_leased_task_says_so(client: TestClient) -> None:
    client.post("/v1/swarms/s/agents", json={"agents": [{"id": "a0"}]})
    client.post("/v1/swarms/s/tasks", json={"tasks": [{"id": "t0"}]})
    response = client.post("/v1/swarms/s/tasks/t0/complete", json={"agent_id": "a0"})
    assert response.status_code == 409
    assert "never leased" in response.json()["detail"]
