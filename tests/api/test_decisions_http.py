"""Decision routes over real HTTP (uvicorn subprocess): evaluate, explain, recommend, re-plan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import small_problem
from tests.api.service_process import ServiceProcess

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    running = ServiceProcess(tmp_path_factory.mktemp("decisions") / "data", fast_workers="1")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def http(service: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=60) as client:
        yield client


def _problem() -> dict[str, Any]:
    doc = small_problem(n_tasks=6, n_agents=3)
    doc.pop("options")
    return doc


def _plan() -> dict[str, Any]:
    return {"assignments": {f"t{k}": f"a{k % 3}" for k in range(6)}, "unassigned": []}


def _problem_detail(response: httpx.Response, status: int, *needles: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    detail = response.json()["detail"]
    for needle in needles:
        assert needle in detail, detail
    return str(detail)


def test_evaluation_scores_and_codes(http: httpx.Client) -> None:
    ok = http.post("/v1/evaluations", json={"problem": _problem(), "plan": _plan()})
    assert ok.status_code == 200, ok.text
    assert ok.json()["feasible"] and ok.json()["violations"] == []
    crowded = {"assignments": {f"t{k}": "a0" for k in range(6)}}
    bad = http.post("/v1/evaluations", json={"problem": _problem(), "plan": crowded})
    assert bad.status_code == 200
    assert {v["code"] for v in bad.json()["violations"]} == {"capacity"}
    unknown = {"assignments": {"t0": "nobody"}}
    response = http.post("/v1/evaluations", json={"problem": _problem(), "plan": unknown})
    _problem_detail(response, 422, "plan.assignments.t0", "nobody")
    _problem_detail(http.post("/v1/evaluations", json={"problem": _problem()}), 422, "plan")
    _problem_detail(http.post("/v1/evaluations", content=b"{nope"), 422, "JSON")
    _problem_detail(http.post("/v1/evaluations", json=[1]), 422, "object")
    odd = http.post("/v1/evaluations", json={"problem": _problem(), "plan": _plan(), "x": 1})
    _problem_detail(odd, 422, "x")


def test_recommendation_delta_matches_two_evaluations(http: httpx.Client) -> None:
    task = {"id": "new", "demand": {"cpu": 1.5}, "work": 2.0}
    response = http.post(
        "/v1/recommendations", json={"problem": _problem(), "plan": _plan(), "task": task}
    )
    assert response.status_code == 200, response.text
    recs = response.json()["recommendations"]
    assert len(recs) == 3 and recs[0]["feasible"]
    before = http.post("/v1/evaluations", json={"problem": _problem(), "plan": _plan()}).json()
    bigger = _problem()
    bigger["tasks"].append(task)
    for rec in recs:
        plan = _plan()
        plan["assignments"]["new"] = rec["agent"]
        after = http.post("/v1/evaluations", json={"problem": bigger, "plan": plan}).json()
        assert rec["score_delta"] == pytest.approx(after["score"] - before["score"], rel=1e-9)
    bad = http.post(
        "/v1/recommendations",
        json={"problem": _problem(), "plan": _plan(), "task": {"id": "x", "work": -1}},
    )
    _problem_detail(bad, 422, "task.work")
    inverse = http.post(
        "/v1/recommendations", json={"problem": _problem(), "plan": _plan(), "agent": "zz"}
    )
    _problem_detail(inverse, 422, "agent", "zz")


def test_explanation_shape(http: httpx.Client) -> None:
    response = http.post(
        "/v1/explanations", json={"problem": _problem(), "plan": _plan(), "tasks": ["t1"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["tasks"]) == {"t1"} and set(body["agents"]) == {"a0", "a1", "a2"}
    assert body["tasks"]["t1"]["agent"] == "a1"
    missing = http.post(
        "/v1/explanations", json={"problem": _problem(), "plan": _plan(), "tasks": ["t99"]}
    )
    _problem_detail(missing, 422, "t99")


def test_replan_dry_run_and_previous_job(http: httpx.Client) -> None:
    solved = http.post("/v1/allocations?wait=60", json=small_problem(n_tasks=6, n_agents=3))
    assert solved.status_code == 200, solved.text
    job_id = solved.json()["id"]
    smaller = small_problem(n_tasks=6, n_agents=3)
    smaller["agents"] = smaller["agents"][:2]  # agent a2 went down
    dry = http.post("/v1/replans", json={**smaller, "previous_job": job_id, "dry_run": True})
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert all(reason == "agent a2 is gone" for reason in body["freed"].values())
    assert set(body["plan"]["assignments"]) == {f"t{k}" for k in range(6)}
    as_job = http.post(
        "/v1/replans?wait=60", json={**smaller, "previous_job": job_id, "max_moves": 1}
    )
    assert as_job.status_code == 200, as_job.text
    result = as_job.json()["result"]
    assert result["chosen"]["solver"] == "replan"
    assert result["replan"]["moves_used"] <= 1
    _problem_detail(
        http.post("/v1/replans", json={**smaller, "previous_job": "no-such-job"}), 404, "no-such"
    )
    other = {**smaller, "name": "another", "previous_job": job_id}
    _problem_detail(http.post("/v1/replans", json=other), 422, "previous_job")
    strangers = {**smaller, "previous_job": job_id}
    strangers["tasks"] = [{**t, "id": "x" + t["id"]} for t in smaller["tasks"]]
    _problem_detail(http.post("/v1/replans", json=strangers), 422, "shares no task")
    _problem_detail(http.post("/v1/replans", json=smaller), 422, "previous_plan")
    plain_job = http.post(
        "/v1/allocations?wait=60", json={**smaller, "previous_plan": {"assignments": {}}}
    )
    assert plain_job.status_code == 200, plain_job.text
    assert plain_job.json()["result"]["chosen"]["solver"] == "replan"


def test_allocation_takes_previous_job(http: httpx.Client) -> None:
    solved = http.post("/v1/allocations?wait=60", json=small_problem(n_tasks=6, n_agents=3))
    assert solved.status_code == 200, solved.text
    job_id = solved.json()["id"]
    before = solved.json()["result"]["chosen"]["plan"]["assignments"]
    smaller = small_problem(n_tasks=6, n_agents=3)
    smaller["agents"] = smaller["agents"][:2]  # agent a2 went down
    replanned = http.post(
        "/v1/allocations?wait=60", json={**smaller, "previous_job": job_id, "max_moves": 0}
    )
    assert replanned.status_code == 200, replanned.text
    result = replanned.json()["result"]
    assert result["chosen"]["solver"] == "replan"
    after = result["chosen"]["plan"]["assignments"]
    kept = {t: a for t, a in before.items() if a != "a2"}
    assert {t: after.get(t) for t in kept} == kept, "no move beyond the freed tasks"
    unknown = http.post("/v1/allocations", json={**smaller, "previous_job": "no-such-job"})
    _problem_detail(unknown, 404, "previous_job")
    other = http.post(
        "/v1/allocations", json={**smaller, "name": "another", "previous_job": job_id}
    )
    _problem_detail(other, 422, "previous_job")
    not_json = http.post(
        "/v1/allocations",
        content=b'{"previous_job": ',
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 422 and not_json.headers["content-type"] == PROBLEM_JSON
