"""No process outlives the service: SIGKILL or SIGTERM of the real server with jobs in flight."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text

from models.generators.instances import generate_attribute_problem
from tests.api.conftest import small_problem
from tests.api.service_process import ServiceProcess

pytestmark = pytest.mark.slow

_GONE_WITHIN_S = 5.0
_PG_URL = os.environ.get("ALLOCATOR_TEST_POSTGRES_URL")


def _store_settings(store: str) -> dict[str, str]:
    if store == "sqlite":
        return {}
    if not _PG_URL:
        pytest.skip("set ALLOCATOR_TEST_POSTGRES_URL (from .ci/postgres.sh) for PostgreSQL")
    engine = create_engine(_PG_URL)
    with engine.begin() as conn:  # a fresh schema: no job left from another test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return {"database_url": _PG_URL}


def _busy_document(seed: int) -> dict[str, object]:
    doc = generate_attribute_problem(120, 12, seed=seed).model_dump(
        mode="json", exclude_defaults=True
    )
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 20}
    return doc


def _live(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_no_descendant_outlives_the_service(tmp_path: Path, signum: int, store: str) -> None:
    service = ServiceProcess(
        tmp_path / "data", max_concurrent_jobs="2", fast_workers="2", **_store_settings(store)
    )
    service.start()
    assert service.process is not None
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for seed in range(3):
                assert client.post("/v1/allocations", json=_busy_document(seed)).status_code == 202
            assert client.post("/v1/allocations?wait=10", json=small_problem()).status_code == 200
            deadline = time.monotonic() + 30
            while len(client.get("/v1/jobs?status=running").json()["items"]) < 2:
                assert time.monotonic() < deadline, "the jobs never started"
                time.sleep(0.1)
        time.sleep(0.5)  # the job processes have started their solvers
        descendants = psutil.Process(service.process.pid).children(recursive=True)
        # fork server, resource tracker, 2 pool workers, 2 job processes (+ their solvers)
        assert len(descendants) >= 6, [p.cmdline()[-1][:60] for p in descendants]
        service.process.send_signal(signum)
        service.process.wait(timeout=30)
        deadline = time.monotonic() + _GONE_WITHIN_S
        while _live(descendants) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _live(descendants)
        for process in left:  # do not leak them into the rest of the suite
            process.kill()
        assert not left, [" ".join(p.cmdline())[:120] for p in left]
    finally:
        service.kill()
