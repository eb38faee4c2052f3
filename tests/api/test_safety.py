"""Auth, body and request caps, and problem+json on every error path."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from tests.api.conftest import small_problem


def test_token_guards_data_routes_but_not_health(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="s3cret")
    assert client.get("/healthz").status_code == 200
    for method, path in (("GET", "/v1/jobs"), ("POST", "/v1/allocations"), ("GET", "/metrics")):
        response = client.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    wrong = client.get("/v1/jobs", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get("/v1/jobs", headers={"Authorization": "Basic s3cret"}).status_code == 401
    right = client.get("/v1/jobs", headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200


def test_body_limit_counts_the_stream(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2048)
    big = b'{"name": "' + b"x" * 5000 + b'"}'
    declared = client.post("/v1/allocations", content=big)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert "2048" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(10):
            yield b" " * 500

    streamed = client.post("/v1/allocations", content=chunks())
    assert streamed.status_code == 413


def test_caps_name_the_setting(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_tasks=5, max_agents=2, max_time_limit_s=1.0)
    tasks = client.post("/v1/allocations", json=small_problem(n_tasks=6, n_agents=2))
    assert tasks.status_code == 422 and "ALLOCATOR_MAX_TASKS" in tasks.json()["detail"]
    agents = client.post("/v1/allocations", json=small_problem(n_tasks=4, n_agents=3))
    assert agents.status_code == 422 and "ALLOCATOR_MAX_AGENTS" in agents.json()["detail"]
    slow = client.post("/v1/allocations", json=small_problem(n_tasks=4, n_agents=2, time_limit_s=5))
    assert slow.status_code == 422 and "ALLOCATOR_MAX_TIME_LIMIT_S" in slow.json()["detail"]


def test_framework_errors_are_problem_json(client: TestClient) -> None:
    for method, path in (
        ("GET", "/nowhere"),
        ("PUT", "/v1/jobs"),
        ("GET", "/v1/jobs?limit=0"),
        ("POST", "/v1/allocations?wait=-1"),
    ):
        response = client.request(method, path)
        assert 400 <= response.status_code < 500, path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["detail"], path
    nan = client.post(
        "/v1/allocations",
        content=b'{"agents":[{"id":"a","capacity":{"cpu":NaN}}],"tasks":[{"id":"t"}]}',
    )
    assert nan.status_code == 422


def test_operations_routes(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}
    client.post("/v1/allocations?wait=30", json=small_problem())
    text = client.get("/metrics").text
    for name in (
        "allocator_http_requests_total",
        "allocator_jobs{",
        "allocator_job_queue_depth",
        "allocator_solver_duration_seconds",
    ):
        assert name in text, name
    assert "AllocationRequest" in client.get("/openapi.json").json()["components"]["schemas"]
