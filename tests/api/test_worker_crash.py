"""A job whose worker process is killed is run again (per the attempts policy) and keeps
the best plan the worker streamed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from models import Plan, compile_problem, evaluate_plan
from models.generators.instances import generate_attribute_problem
from models.plan import plan_to_array
from tests.api.service_process import ServiceProcess

pytestmark = pytest.mark.slow


def _job_processes(service_pid: int) -> list[psutil.Process]:
    """Job workers lead their own process group (pool workers and the fork server do not)."""
    found = []
    for process in psutil.Process(service_pid).children(recursive=True):
        try:
            if os.getpgid(process.pid) == process.pid:
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


def test_killed_worker_is_retried(tmp_path: Path) -> None:
    service = ServiceProcess(tmp_path / "data", fast_workers="0", max_job_attempts="3")
    service.start()
    assert service.process is not None
    doc = generate_attribute_problem(120, 12, seed=3).model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 3}
    try:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            job_id = client.post("/v1/allocations", json=doc).json()["id"]
            deadline = time.monotonic() + 30
            while not (workers := _job_processes(service.process.pid)):
                assert time.monotonic() < deadline, "no job worker started"
                time.sleep(0.05)
            time.sleep(1.0)  # mid-solve
            os.killpg(workers[0].pid, signal.SIGKILL)
            final = client.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
    finally:
        service.stop()
    assert final["status"] == "succeeded", final
    assert final["attempts"] == 2, final
    assert final["objective"] is not None


def test_killed_worker_keeps_its_best_plan(tmp_path: Path) -> None:
    """No retry left: the job fails, and its result is the best plan the worker streamed,
    verified: at least as good as the objective progress showed before the kill."""
    service = ServiceProcess(tmp_path / "data", fast_workers="0", max_job_attempts="1")
    service.start()
    assert service.process is not None
    problem = generate_attribute_problem(120, 12, seed=3)
    doc = problem.model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 20}
    try:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            job_id = client.post("/v1/allocations", json=doc).json()["id"]
            deadline = time.monotonic() + 30
            while (progress := client.get(f"/v1/jobs/{job_id}").json()["progress"]) is None or (
                progress["best_objective"] is None
            ):
                assert time.monotonic() < deadline, "no incumbent in progress"
                time.sleep(0.05)
            seen = progress["best_objective"]
            time.sleep(1.5)  # one relay (0.5 s) and one store write (0.5 s) later
            leaders = _job_processes(service.process.pid)
            pids = {p.pid for p in leaders}  # solver processes may lead groups of their own
            (worker,) = [p for p in leaders if p.ppid() not in pids]
            os.killpg(worker.pid, signal.SIGKILL)
            final = client.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
            result = client.get(f"/v1/jobs/{job_id}/result")
            html = client.get(f"/v1/jobs/{job_id}/report", headers={"Accept": "text/html"})
    finally:
        service.stop()
    assert final["status"] == "failed", {k: final[k] for k in ("attempts", "status", "error")}
    assert final["attempts"] == 1, final
    best = result.json()["best_plan"]
    assert best["objective"] <= seen + 1e-9 * abs(seen)
    assert final["objective"] == best["objective"]
    assert html.status_code == 406 and "best plan" in html.json()["detail"]
    compiled = compile_problem(problem)
    plan = Plan(assignments=best["assignments"], unassigned=best["unassigned"])
    evaluation = evaluate_plan(compiled, plan_to_array(compiled, plan))
    assert evaluation.feasible
    assert evaluation.score == pytest.approx(best["objective"], rel=1e-9)


def test_a_retried_job_starts_from_the_plan_its_killed_worker_stored(tmp_path: Path) -> None:
    """The retry gets the stored plan as its warm start: the report shows it as the run
    `previous_attempt`, and the plan chosen is never worse than it."""
    service = ServiceProcess(tmp_path / "data", fast_workers="0", max_job_attempts="3")
    service.start()
    assert service.process is not None
    doc = generate_attribute_problem(120, 12, seed=3).model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 4}
    try:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            job_id = client.post("/v1/allocations", json=doc).json()["id"]
            deadline = time.monotonic() + 30
            while (progress := client.get(f"/v1/jobs/{job_id}").json()["progress"]) is None or (
                progress["best_objective"] is None
            ):
                assert time.monotonic() < deadline, "no incumbent in progress"
                time.sleep(0.05)
            seen = progress["best_objective"]
            time.sleep(1.5)  # one relay (0.5 s) and one store write (0.5 s) later
            leaders = _job_processes(service.process.pid)
            pids = {p.pid for p in leaders}
            (worker,) = [p for p in leaders if p.ppid() not in pids]
            os.killpg(worker.pid, signal.SIGKILL)
            final = client.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
            report = client.get(f"/v1/jobs/{job_id}/result").json()
    finally:
        service.stop()
    assert final["status"] == "succeeded" and final["attempts"] == 2, final
    runs = {run["name"]: run for run in report["solvers"]}
    resumed = runs["previous_attempt"]
    assert resumed["verified"] and resumed["objective"] <= seen + 1e-9 * abs(seen)
    assert final["objective"] <= resumed["objective"] + 1e-9 * abs(resumed["objective"])
    assert report["chosen"]["objective"] == final["objective"]
