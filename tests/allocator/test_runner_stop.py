"""Stopping the runner while its dispatcher is launching a job: the job is started, then
told to stop, and handed back to the queue; stop() never joins a thread not yet started
(a CI run's shutdown once failed so, and left the warm pool's semaphores behind)."""

from __future__ import annotations

import threading
import time

import pytest

from allocator.jobs.job_process import JobProcess
from allocator.jobs.job_requests import RequestLimits, prepare_job
from allocator.jobs.runner import JobRunner, RunnerConfig
from allocator.store import Store
from models.generators.instances import generate_attribute_problem

pytestmark = pytest.mark.slow

_launching = threading.Event()


class _SlowToLaunch(JobProcess):
    """A real job worker whose launch takes a second after the runner registered it."""

    def start(self) -> None:
        _launching.set()
        time.sleep(1.0)
        super().start()


def test_stop_during_a_launch_starts_then_hands_back_the_job(store: Store) -> None:
    doc = generate_attribute_problem(60, 6, seed=1).model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["cpsat"], "time_limit_s": 30}
    record, _ = store.jobs.create(prepare_job("allocation", doc, RequestLimits()))
    runner = JobRunner(store.jobs, RunnerConfig(fast_workers=0, poll_s=0.1))
    runner._job_process = _SlowToLaunch
    _launching.clear()
    runner.start()
    assert _launching.wait(30), "the dispatcher never claimed the job"
    started = time.monotonic()
    runner.stop()  # raised "cannot join thread before it is started"
    assert time.monotonic() - started < 15
    job = store.jobs.get(record.id)
    assert job is not None
    assert job.status == "queued", job
    assert job.attempts == 0, job
