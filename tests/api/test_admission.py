"""Admission control: queue caps per service and per tenant, failed-auth throttling."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import small_problem


def _submit(client: TestClient, tenant: str) -> int:
    response = client.post("/v1/allocations", json=small_problem(), headers={"X-Tenant": tenant})
    if response.status_code == 429:
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
    return response.status_code


def test_queue_caps_per_tenant_and_per_service(make_client: Callable[..., TestClient]) -> None:
    client = make_client(run_jobs=False, max_queued_jobs=3, max_queued_jobs_per_tenant=2)
    assert [_submit(client, "a"), _submit(client, "a")] == [202, 202]
    refused = client.post("/v1/allocations", json=small_problem(), headers={"X-Tenant": "a"})
    assert refused.status_code == 429
    assert "ALLOCATOR_MAX_QUEUED_JOBS_PER_TENANT" in refused.json()["detail"]
    assert _submit(client, "b") == 202
    full = client.post("/v1/allocations", json=small_problem(), headers={"X-Tenant": "c"})
    assert full.status_code == 429 and "ALLOCATOR_MAX_QUEUED_JOBS " in full.json()["detail"]
    assert len(client.get("/v1/jobs").json()["items"]) == 3, "a refused job is not stored"


def test_failed_tokens_are_throttled_per_client(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="s3cret", max_failed_auth_per_minute=3)
    wrong = {"Authorization": "Bearer nope"}
    assert [client.get("/v1/jobs", headers=wrong).status_code for _ in range(3)] == [401] * 3
    blocked = client.get("/v1/jobs", headers=wrong)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    right = client.get("/v1/jobs", headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 429, "a blocked client learns nothing, even with the token"
    login = client.post("/dashboard/login", data={"token": "s3cret"})
    assert login.status_code == 429 and "Retry-After" in login.headers


def test_dashboard_login_failures_count(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="s3cret", max_failed_auth_per_minute=2)
    statuses = [
        client.post("/dashboard/login", data={"token": "x"}, follow_redirects=False).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_idempotency_key_reused_for_another_kind_says_so(client: TestClient) -> None:
    key = {"Idempotency-Key": "k1"}
    assert client.post("/v1/allocations", json=small_problem(), headers=key).status_code == 202
    other = client.post("/v1/comparisons", json=small_problem(), headers=key)
    assert other.status_code == 422
    assert "allocation job" in other.json()["detail"] and "comparison" in other.json()["detail"]
