"""A job whose worker process is killed is run again (per the attempts policy)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from models.generators.instances import generate_attribute_problem
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
