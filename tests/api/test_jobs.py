"""Job routes through the real app: submit, wait, read, report, cancel, list, idempotency."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from models.generators.instances import generate_attribute_problem
from tests.api.conftest import small_problem


def test_wait_returns_the_result_inline(client: TestClient) -> None:
    response = client.post("/v1/allocations?wait=30", json=small_problem())
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "succeeded"
    assert job["solution"] in ("feasible", "optimal")
    assert job["result"]["status"] == "solved"
    assert set(job["result"]["chosen"]["plan"]["assignments"]) == {f"t{k}" for k in range(6)}
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"


def test_queued_job_runs_and_serves_result_and_reports(client: TestClient) -> None:
    response = client.post("/v1/allocations", json=small_problem())
    assert response.status_code == 202
    job_id = response.json()["id"]
    job = client.get(f"/v1/jobs/{job_id}?wait=30").json()
    assert job["status"] == "succeeded"
    assert job["started_at"] and job["finished_at"]
    result = client.get(f"/v1/jobs/{job_id}/result")
    assert result.status_code == 200 and result.json()["status"] == "solved"
    report = client.get(f"/v1/jobs/{job_id}/report")
    assert report.headers["content-type"].startswith("application/json")
    html = client.get(f"/v1/jobs/{job_id}/report", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.text.lstrip().lower().startswith("<!doctype html")


def test_comparison_runs_the_named_solvers(client: TestClient) -> None:
    doc = small_problem(solvers=["greedy", "cpsat"], time_limit_s=2)
    job = client.post("/v1/comparisons?wait=60", json=doc).json()
    assert job["status"] == "succeeded"
    names = {run["name"] for run in job["result"]["solvers"]}
    assert {"greedy", "cpsat"} <= names


def test_result_before_finish_is_409_and_cancel_keeps_best_plan(client: TestClient) -> None:
    doc = generate_attribute_problem(300, 30, seed=3).model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 60}
    job_id = client.post("/v1/allocations", json=doc).json()["id"]
    for _ in range(100):  # wait until a worker runs it
        if client.get(f"/v1/jobs/{job_id}").json()["status"] == "running":
            break
        time.sleep(0.05)
    early = client.get(f"/v1/jobs/{job_id}/result")
    assert early.status_code == 409
    assert early.headers["content-type"] == "application/problem+json"
    time.sleep(1.0)  # let the greedy phase find a plan before stopping
    started = time.monotonic()
    cancelled = client.delete(f"/v1/jobs/{job_id}")
    assert cancelled.status_code in (200, 202)
    job = client.get(f"/v1/jobs/{job_id}?wait=30").json()
    assert time.monotonic() - started < 15
    assert job["status"] == "cancelled"
    assert job["stop_reason"] == "cancelled"
    assert job["solution"] == "feasible"
    assert client.get(f"/v1/jobs/{job_id}/result").json()["chosen"] is not None


def test_idempotency_key_replays_or_conflicts(client: TestClient) -> None:
    doc = small_problem()
    first = client.post("/v1/allocations", json=doc, headers={"Idempotency-Key": "k-1"})
    again = client.post("/v1/allocations", json=doc, headers={"Idempotency-Key": "k-1"})
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post(
        "/v1/allocations", json=small_problem(n_tasks=7), headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]


def test_list_filters_and_pages(client: TestClient) -> None:
    ids = [client.post("/v1/allocations", json=small_problem()).json()["id"] for _ in range(3)]
    page = client.get("/v1/jobs?limit=2&kind=allocation").json()
    assert len(page["items"]) == 2 and page["next"]
    rest = client.get(page["next"]).json()
    assert {j["id"] for j in page["items"] + rest["items"]} == set(ids)
    assert client.get("/v1/jobs?kind=comparison").json()["items"] == []
    assert client.get("/v1/jobs?status=bogus").status_code == 422


def test_unknown_job_and_bad_documents_are_problems(client: TestClient) -> None:
    missing = client.get("/v1/jobs/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    for body in (b"", b"{", b"[]", b'"x"', b'{"agents": []}', b"\xff\xfe"):
        response = client.post("/v1/allocations", content=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    unknown = client.post("/v1/allocations", json=small_problem(solvers=["magic"]))
    assert unknown.status_code == 422 and "magic" in unknown.json()["detail"]


def test_topology_job_runs(client: TestClient) -> None:
    doc = {
        "topology": {
            "nodes": [{"id": n} for n in "abcd"],
            "links": [{"a": "a", "b": "b"}, {"a": "b", "b": "c"}, {"a": "c", "b": "d"}],
        },
        "traffic": [{"a": "a", "b": "d", "volume": 10}],
        "time_limit_s": 0.5,
    }
    response = client.post("/v1/topology/optimizations?wait=30", json=doc)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    assert client.post("/v1/topology/optimizations", json={"topology": 3}).status_code == 422
