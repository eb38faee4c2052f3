"""The job runner when the store stops writing (a full or read-only disk): the dispatcher
backs off and says so once, no job worker outlives its supervisor, and a job the fault
interrupted runs again once the store writes again."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psutil
import pytest
from sqlalchemy import event

from allocator.jobs.job_requests import RequestLimits, prepare_job
from allocator.jobs.runner import JobRunner, RunnerConfig
from allocator.store import Store
from models.generators.instances import generate_attribute_problem

pytestmark = pytest.mark.slow


class _ReadOnlySwitch:
    """SQLite's query_only on every checkout while `on` is set: each write then fails as
    on a read-only disk (a real driver error), reads still work."""

    def __init__(self, store: Store):
        self.on = threading.Event()

        def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            flag = "ON" if self.on.is_set() else "OFF"
            dbapi_connection.execute(f"PRAGMA query_only={flag}")

        event.listen(store.engine, "checkout", checkout)


def _config(poll_s: float, lease_s: float) -> RunnerConfig:
    """One warm-pool worker: starting it starts the fork server, so the first job's
    worker starts at once instead of after its preload (seconds, on a loaded machine,
    which a short lease would not survive)."""
    return RunnerConfig(fast_workers=1, poll_s=poll_s, lease_s=lease_s)


def _submit(store: Store, time_limit_s: float, seed: int = 0) -> str:
    doc = generate_attribute_problem(120, 12, seed=seed).model_dump(
        mode="json", exclude_defaults=True
    )
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": time_limit_s}
    record, _ = store.jobs.create(prepare_job("allocation", doc, RequestLimits()))
    return record.id


def _wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # a job runs in other processes: nothing here to wait on


def _job_workers() -> list[psutil.Process]:
    """Job worker processes lead their own process group (pool workers do not; solver
    processes lead sessions of their own, under a job worker)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if os.getpgid(process.pid) == process.pid:
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


def test_the_dispatcher_backs_off_and_says_so_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    switch = _ReadOnlySwitch(store)
    runner = JobRunner(store.jobs, _config(poll_s=0.1, lease_s=3.0))
    runner.start()
    try:
        with caplog.at_level(logging.WARNING, logger="allocator.jobs"):
            switch.on.set()
            time.sleep(3.0)  # 30 polls' worth: backing off, it tries about 5 times
            switch.on.clear()
            job_id = _submit(store, time_limit_s=1.0)
            runner.wake()
            _wait_for(
                lambda: store.jobs.get(job_id).status == "succeeded",  # type: ignore[union-attr]
                60,
                "the job never ran once the store wrote again",
            )
    finally:
        runner.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("job store unavailable; backing off") == 1, messages
    assert "job store writable again; dispatching resumes" in messages
    assert not [r for r in caplog.records if r.exc_info], "no traceback per poll"


def test_a_job_the_fault_interrupted_runs_again_and_leaves_no_worker(store: Store) -> None:
    switch = _ReadOnlySwitch(store)
    runner = JobRunner(store.jobs, _config(poll_s=0.2, lease_s=5.0))
    runner.start()
    try:
        job_id = _submit(store, time_limit_s=12.0)
        runner.wake()
        _wait_for(lambda: bool(_job_workers()), 60, "the job's worker never started")
        switch.on.set()  # the next lease renewal fails
        _wait_for(lambda: runner.running_count == 0, 10, "the supervisor kept going")
        _wait_for(lambda: not _job_workers(), 5, "a job worker outlived its supervisor")
        time.sleep(1.0)  # the lease runs out while the store refuses writes
        switch.on.clear()
        _wait_for(
            lambda: store.jobs.get(job_id).status == "succeeded",  # type: ignore[union-attr]
            90,
            "the interrupted job never ran again",
        )
    finally:
        runner.stop()
    job = store.jobs.get(job_id)
    assert job is not None and job.attempts == 2 and job.objective is not None
