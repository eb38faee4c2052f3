"""The job runner's leases: a job whose worker is slow to start (the fork server's first
start takes seconds on a loaded machine, longer than a short lease) is renewed by the
runner that holds it and is never claimed a second time."""

from __future__ import annotations

import time

import pytest

from allocator.jobs.job_process import JobProcess
from allocator.jobs.job_requests import RequestLimits, prepare_job
from allocator.jobs.runner import JobRunner, RunnerConfig
from allocator.jobs.supervision import JobOutcome
from allocator.store import Store
from models.generators.instances import generate_attribute_problem

pytestmark = pytest.mark.slow

_LEASE_S = 1.0


class _SlowToStart(JobProcess):
    """A real job worker whose supervision begins three leases late, as when the fork
    server is still importing the solvers."""

    def _supervise(self) -> JobOutcome | None:
        time.sleep(3 * _LEASE_S)
        return super()._supervise()


def test_a_job_slow_to_start_is_not_claimed_twice(store: Store) -> None:
    doc = generate_attribute_problem(60, 6, seed=1).model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["greedy"], "time_limit_s": 0.5}
    record, _ = store.jobs.create(prepare_job("allocation", doc, RequestLimits()))
    runner = JobRunner(store.jobs, RunnerConfig(fast_workers=0, poll_s=0.1, lease_s=_LEASE_S))
    runner._job_process = _SlowToStart  # the only change: supervision starts late
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while store.jobs.get(record.id).status not in ("succeeded", "failed"):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the job never finished"
            time.sleep(0.05)  # the job runs in another process: nothing here to wait on
    finally:
        runner.stop()
    job = store.jobs.get(record.id)
    assert job is not None
    assert job.status == "succeeded", job
    assert job.attempts == 1, f"claimed {job.attempts} times"
