"""End to end: SIGKILL the real server mid-solve, restart it, every accepted job ends once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from models.generators.instances import generate_attribute_problem
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
