"""Batch comparison jobs through the real app: submit, progress, report, checks, cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from models.generators.instances import generate_attribute_problem
from tests.api.conftest import small_problem

ROUTE = "/v1/comparisons/batches"


def _instance(n_tasks: int, n_agents: int, name: str) -> dict[str, Any]:
    document = small_problem(n_tasks, n_agents)
    document.pop("options")
    document["name"] = name
    return document


def _batch(*instances: dict[str, Any], time_limit_s: float = 0.5) -> dict[str, Any]:
    options = {"solvers": ["greedy", "milp"], "time_limit_s": time_limit_s, "seed": 1}
    return {"instances": list(instances), "options": options}


def test_batch_runs_every_instance_and_reports_tests_and_profiles(client: TestClient) -> None:
    body = _batch(_instance(6, 3, "six"), _instance(8, 3, "eight"), _instance(7, 2, "seven"))
    response = client.post(ROUTE, json=body)
    assert response.status_code == 202
    job = response.json()
    assert job["kind"] == "batch" and job["n_tasks"] == 21
    seen: list[tuple[int, int]] = []
    while job["status"] not in ("succeeded", "failed", "cancelled"):
        progress = job.get("progress") or {}
        if progress.get("instances_total") is not None:
            seen.append((progress["instances_done"], progress["instances_total"]))
        time.sleep(0.05)
        job = client.get(f"/v1/jobs/{job['id']}?wait=0").json()
    assert job["status"] == "succeeded", job
    assert job["stop_reason"] == "completed" and job["solution"] == "feasible"
    assert seen and all(total == 3 and 0 <= done <= 3 for done, total in seen)

    report = client.get(f"/v1/jobs/{job['id']}/result").json()
    assert [i["instance"] for i in report["instances"]] == ["six", "eight", "seven"]
    assert report["solvers"] == ["greedy", "milp"]
    assert {a["solver"] for a in report["aggregates"]} == {"greedy", "milp"}
    assert all(a["n_instances"] == 3 for a in report["aggregates"])
    assert {t["metric"] for t in report["tests"]} == {"relative gap", "time to target"}
    assert {p["solver"] for p in report["objective_profile"]} == {"greedy", "milp"}
    html = client.get(f"/v1/jobs/{job['id']}/report", headers={"Accept": "text/html"})
    assert html.status_code == 200
    assert html.text.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in html.text and "seven" in html.text


def test_invalid_instance_is_named_by_index_and_field(client: TestClient) -> None:
    bad = _instance(4, 2, "bad")
    bad["tasks"][1]["demand"] = {"cpu": "lots"}
    response = client.post(ROUTE, json=_batch(_instance(4, 2, "ok"), bad))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "instances[1]" in detail and "tasks.1.demand" in detail
    for body, words in (
        ({"instances": []}, "instances"),
        ({"instances": [_instance(3, 2, "x")], "options": {"solvers": ["nope"]}}, "nope"),
        ({"instances": [_instance(3, 2, "x")], "extra": 1}, "extra"),
        ([1, 2], "JSON object"),
    ):
        response = client.post(ROUTE, json=body)
        assert response.status_code == 422, body
        assert words in response.json()["detail"]
    assert client.get("/v1/jobs?kind=batch").json()["items"] == []


def test_caps_on_instances_and_total_tasks(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_batch_instances=2, max_batch_tasks=10, run_jobs=False)
    three = _batch(*(_instance(3, 2, f"i{k}") for k in range(3)))
    response = client.post(ROUTE, json=three)
    assert response.status_code == 422
    assert "ALLOCATOR_MAX_BATCH_INSTANCES" in response.json()["detail"]
    big = _batch(_instance(6, 2, "a"), _instance(6, 2, "b"))
    response = client.post(ROUTE, json=big)
    assert response.status_code == 422
    assert "ALLOCATOR_MAX_BATCH_TASKS" in response.json()["detail"]
    assert client.post(ROUTE, json=_batch(_instance(5, 2, "a"))).status_code == 202


def test_cancel_stops_the_current_solve_and_keeps_finished_instances(client: TestClient) -> None:
    large = generate_attribute_problem(300, 30, seed=3).model_dump(
        mode="json", exclude_defaults=True
    )
    large["name"] = "large"
    body = _batch(_instance(6, 3, "small"), large, _instance(5, 2, "never"), time_limit_s=30)
    job_id = client.post(ROUTE, json=body).json()["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the small instance is done
        progress = client.get(f"/v1/jobs/{job_id}").json().get("progress") or {}
        if (progress.get("instances_done") or 0) >= 1:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the first instance did not finish within 30 s")
    time.sleep(0.5)  # the large instance's solvers are running
    started = time.monotonic()
    assert client.delete(f"/v1/jobs/{job_id}").status_code in (200, 202)
    job = client.get(f"/v1/jobs/{job_id}?wait=20").json()
    assert time.monotonic() - started < 15
    assert job["status"] == "cancelled" and job["stop_reason"] == "cancelled"
    report = client.get(f"/v1/jobs/{job_id}/result").json()
    assert [i["instance"] for i in report["instances"]] == ["small"]
    assert report["notes"][0] == "stopped after 1 of 3 instances"
