"""End to end: SIGKILL the real server mid-solve, restart it, every accepted job ends once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from models.generators.instances import generate_attribute_problem
from tests.api.conftest import small_problem
from tests.api.service_process import ServiceProcess

pytestmark = pytest.mark.slow


def _document(seed: int) -> dict[str, object]:
    doc = generate_attribute_problem(120, 12, seed=seed).model_dump(
        mode="json", exclude_defaults=True
    )
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 1.5}
    return doc


def test_sigkill_mid_solve_loses_no_job_and_duplicates_none(tmp_path: Path) -> None:
    service = ServiceProcess(
        tmp_path / "data", job_lease_s="1.5", max_concurrent_jobs="2", fast_workers="1"
    )
    service.start()
    accepted: dict[str, str] = {}
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for seed in range(6):
                response = client.post(
                    "/v1/allocations", json=_document(seed), headers={"Idempotency-Key": f"j{seed}"}
                )
                assert response.status_code == 202
                accepted[response.json()["id"]] = f"j{seed}"
            while client.get("/v1/jobs?status=running").json()["items"] == []:
                time.sleep(0.05)
            time.sleep(0.5)  # mid-solve
        service.kill()
        service.start()
        with httpx.Client(base_url=service.url, timeout=60) as client:
            # A retried submission after the crash must not create a second job.
            replay = client.post(
                "/v1/allocations", json=_document(0), headers={"Idempotency-Key": "j0"}
            )
            assert replay.json()["id"] in accepted
            final = {job_id: client.get(f"/v1/jobs/{job_id}?wait=60").json() for job_id in accepted}
            listed = client.get("/v1/jobs?limit=100").json()["items"]
    finally:
        service.stop()
    assert {j["id"] for j in listed} == set(accepted), "no job lost, none added"
    assert all(j["status"] == "succeeded" for j in final.values()), final
    assert all(j["objective"] is not None for j in final.values())
    assert any(j["attempts"] >= 2 for j in final.values()), "some job was interrupted"


def test_sigterm_with_fast_jobs_in_flight_keeps_every_job_and_warns_of_no_leak(
    tmp_path: Path,
) -> None:
    # One warm-pool worker: the first fast job runs, the rest wait in the pool's queue.
    service = ServiceProcess(tmp_path / "data", fast_workers="1", max_concurrent_jobs="1")
    service.start()
    assert service.process is not None
    fast = small_problem(40, 5, solvers=["greedy", "cpsat"], time_limit_s=1.5)
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            accepted = [client.post("/v1/allocations", json=fast).json()["id"] for _ in range(4)]
        descendants = psutil.Process(service.process.pid).children(recursive=True)
        service.process.send_signal(signal.SIGTERM)
        service.process.wait(timeout=20)  # the running fast job finishes: <= its 1.5 s limit
        # The resource tracker (a descendant) prints its leak warning as it exits.
        psutil.wait_procs(descendants, timeout=10)
        log = service.log_path.read_text(errors="replace")
        assert "leaked semaphore" not in log and "Traceback" not in log, log[-2000:]
        service.start()
        with httpx.Client(base_url=service.url, timeout=60) as client:
            final = {job_id: client.get(f"/v1/jobs/{job_id}?wait=30").json() for job_id in accepted}
    finally:
        service.stop()
    assert all(job["status"] == "succeeded" for job in final.values()), final
