"""The job runner: claims queued jobs with leases and runs a bounded number at once.

Big jobs get one worker process each (cancel stops the CPU); small `?wait` jobs may
take the fast path, a warm process pool, because starting a process per 20x5
request costs more than solving it.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any

from sqlalchemy.exc import DBAPIError

from allocator.executors import job_process_factory
from allocator.jobs.breaker_board import BreakerBoard
from allocator.jobs.completion import CompletionBoard
from allocator.jobs.job_process import JobProcess
from allocator.jobs.recent_results import RecentResults
from allocator.jobs.worker_process import (
    PRELOAD_MODULES,
    init_pool_worker,
    pool_ready,
    pool_solve,
)
from allocator.store import (
    JobOutcome,
    JobRecord,
    JobRepository,
    NewJob,
    StorageHealth,
    storage_reason,
)

__all__ = ["JobFinished", "JobRunner", "RunnerConfig"]

log = logging.getLogger("allocator.jobs")

_WARM_UP_TIMEOUT_S = 60.0
_MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class RunnerConfig:
    """How many jobs run at once, how long leases last, when the fast path applies."""

    max_concurrent_jobs: int = 2
    lease_s: float = 15.0
    max_attempts: int = 3
    cancel_grace_s: float = 5.0
    poll_s: float = 1.0
    fast_workers: int = 2
    fast_backlog: int = 64
    fast_max_cells: int = 2_000  # agents x tasks at most
    fast_max_time_limit_s: float = 2.0


@dataclass(frozen=True)
class JobFinished:
    """Told to listeners (metrics) when a job this runner ran has its outcome stored."""

    job_id: str
    kind: str
    status: str
    wall_time_s: float
    result: str | None


class JobRunner:
    """Dispatcher thread + one monitor thread per running job + a warm pool."""

    def __init__(
        self,
        jobs: JobRepository,
        config: RunnerConfig | None = None,
        *,
        on_finished: Callable[[JobFinished], None] | None = None,
        health: StorageHealth | None = None,
        breakers: BreakerBoard | None = None,
    ):
        self.jobs = jobs
        self.config = config or RunnerConfig()
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.completions = CompletionBoard()
        # Fast jobs just finished, with their results: the `?wait` request that is
        # waiting for one answers from here instead of reading the store again.
        self.recent = RecentResults()
        self._on_finished = on_finished
        self._health = health
        # The solver breaker carried across this service's jobs (see BreakerBoard).
        self.breakers = breakers or BreakerBoard()
        self._ctx: BaseContext = _worker_context()
        self._lock = threading.Lock()
        self._running: dict[str, JobProcess] = {}
        self._fast: dict[str, float] = {}  # job id -> start time
        self._pool: ProcessPoolExecutor | None = None
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        # JobProcess, or a job on the Dask cluster when ALLOCATOR_DASK_ADDRESS is set.
        self._job_process = job_process_factory(JobProcess)

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Re-queue jobs whose lease expired (a crashed runner) and start dispatching."""
        requeued = self.jobs.requeue_expired()
        if requeued:
            log.info("re-queued jobs with expired leases", extra={"count": requeued})
        if self.config.fast_workers > 0:
            self._warm_pool()
        self._thread = threading.Thread(target=self._dispatch, name="job-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching; running jobs go back to the queue for the next start."""
        self._closing.set()
        self._wake.set()
        # The dispatcher first: a job it is claiming now is started before the running
        # ones are told to stop, so none is left out (or joined before its start).
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            running = list(self._running.values())
        for job in running:
            job.shutdown()
        for job in running:
            if job.thread.ident is not None:  # a dispatcher that outlived its join
                job.thread.join(timeout=10)
        if self._pool is not None:
            # Fast jobs already running finish (their limit is at most
            # fast_max_time_limit_s) and are stored; queued ones are cancelled and go
            # back to the queue (_fast_done). Waiting also joins the pool's workers and
            # queues: with wait=False the queues' semaphores outlived the interpreter's
            # clean-up and the resource tracker warned about "leaked semaphore objects".
            self._pool.shutdown(wait=True, cancel_futures=True)

    # -- requests from the API ---------------------------------------------------
    def wake(self) -> None:
        """A job was queued: look for work now rather than at the next poll."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """Stop a job running here now (the store flag reaches other instances)."""
        with self._lock:
            job = self._running.get(job_id)
            fast = job_id in self._fast
        if job is not None:
            job.cancel()
        elif fast:
            # A warm-pool solve cannot be interrupted; it is short, so the job ends now as
            # cancelled and the pool's late answer is dropped (its lease is gone).
            cancelled = JobOutcome("cancelled", "cancelled", "none")
            finished = self.jobs.finish_record(job_id, self.owner, cancelled)
            if finished is not None:
                self.recent.keep(finished, None)
                self.completions.publish(job_id)

    def fast_path_fits(self, job: NewJob) -> bool:
        cfg = self.config
        return (
            cfg.fast_workers > 0
            and job.kind in ("allocation", "comparison")
            and job.n_agents * job.n_tasks <= cfg.fast_max_cells
            and job.time_limit_s <= cfg.fast_max_time_limit_s
            and len(self._fast) < cfg.fast_backlog
        )

    def submit_fast(self, job: NewJob) -> tuple[JobRecord, bool]:
        """Store `job` leased to us and solve it in the warm pool; returns (job, created)."""
        record, created = self.jobs.create(job, lease_owner=self.owner, lease_s=self.config.lease_s)
        if not created:
            return record, False
        sent = self.breakers.snapshot()
        with self._lock:
            self._fast[record.id] = time.monotonic()
            future = self._fast_pool().submit(pool_solve, record.id, job.kind, job.request, sent)
        future.add_done_callback(lambda f: self._fast_done(record, f, sent))
        return record, True

    def solving_fast(self, job_id: str) -> bool:
        """Whether the job is in this runner's warm pool now (its end is published)."""
        with self._lock:
            return job_id in self._fast

    @property
    def running_count(self) -> int:
        with self._lock:
            return len(self._running) + len(self._fast)

    # -- internals ---------------------------------------------------------------
    def _fast_pool(self) -> ProcessPoolExecutor:
        """The warm pool (made again after it broke); call with the lock held."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.config.fast_workers,
                mp_context=self._ctx,
                initializer=init_pool_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    def _warm_pool(self) -> None:
        """Start the fork server and every pool worker now: made on the first request
        instead, they cost the first seconds of traffic 2 s of latency (solver imports)."""
        try:
            with self._lock:
                pool = self._fast_pool()
                # Each submit to a pool with no idle worker starts one, up to fast_workers.
                started = [pool.submit(pool_ready) for _ in range(self.config.fast_workers)]
            done, pending = wait(started, timeout=_WARM_UP_TIMEOUT_S)
            for future in done:
                future.result()
        except Exception:  # the service runs without it; the pool is made again on demand
            log.exception("warm pool failed to start; small jobs start it on demand")
            with self._lock:
                self._pool = None
            return
        if pending:
            log.warning("warm pool still starting; small jobs may wait for it")

    def _dispatch(self) -> None:
        next_sweep = 0.0
        backoff_s = 0.0  # > 0 while the store refuses: doubled per failure, up to a cap
        while not self._closing.is_set():
            try:
                now = time.monotonic()
                if now >= next_sweep:
                    self._sweep()
                    next_sweep = now + self.config.lease_s / 3
                self._claim_jobs()
            except DBAPIError as exc:  # a full disk or a lost database: back off, say it once
                backoff_s = self._storage_failed(exc, backoff_s)
            except Exception:  # a bug must not kill the dispatcher either
                log.exception("job dispatcher error; retrying")
            else:
                if backoff_s:
                    log.warning("job store writable again; dispatching resumes")
                    if self._health is not None:
                        self._health.recovered()
                    backoff_s = 0.0
            if backoff_s:
                self._closing.wait(backoff_s)
            else:
                self._wake.wait(self.config.poll_s)
                self._wake.clear()

    def _storage_failed(self, exc: DBAPIError, backoff_s: float) -> float:
        """Log the first failure of an outage in one line; the next wait, doubled."""
        reason = self._health.failed(exc) if self._health is not None else storage_reason(exc)
        if not backoff_s:
            log.warning("job store unavailable; backing off", extra={"reason": reason})
        return min(_MAX_BACKOFF_S, max(self.config.poll_s, 2 * backoff_s))

    def _sweep(self) -> None:
        # Renew our own jobs before re-queuing expired ones: a job whose worker is still
        # starting (the fork server can take longer than a short lease on a loaded
        # machine) has no supervisor renewing it yet, and must not be claimed again.
        with self._lock:
            ours = [*self._fast, *self._running]
        self.jobs.renew_all(ours, self.owner, self.config.lease_s)
        self.jobs.requeue_expired()
        self.jobs.fail_exhausted(self.config.max_attempts)

    def _claim_jobs(self) -> None:
        while not self._closing.is_set():
            with self._lock:
                if len(self._running) >= self.config.max_concurrent_jobs:
                    return
            job = self.jobs.claim_next(self.owner, self.config.lease_s, self.config.max_attempts)
            if job is None:
                return
            if self._closing.is_set():  # claimed as the service stops: the next start runs it
                self.jobs.release(job.id, self.owner)
                return
            request_text = self.jobs.request_text(job.id) or "{}"
            process = self._job_process(
                job,
                request_text,
                self.jobs,
                self.owner,
                self.config.lease_s,
                self._ctx,
                cancel_grace_s=self.config.cancel_grace_s,
                on_done=self._job_done,
                breaker_state=self.breakers.snapshot(),
            )
            with self._lock:
                self._running[job.id] = process
            log.info("job started", extra={"job_id": job.id, "kind": job.kind})
            process.start()

    def _job_done(self, job: JobRecord, outcome: JobOutcome | None) -> None:
        with self._lock:
            process = self._running.pop(job.id, None)
        if process is not None and process.breaker_state is not None and outcome is not None:
            self.breakers.merge(process.breaker_state, outcome.breaker_state)
        self._wake.set()  # a slot is free
        started = job.started_at or time.time()
        self._publish(job.id, job.kind, outcome, time.time() - started)

    def _fast_done(
        self, record: JobRecord, future: Future[JobOutcome], sent: dict[str, Any]
    ) -> None:
        with self._lock:
            started = self._fast.pop(record.id, time.monotonic())
        try:
            outcome: JobOutcome | None = future.result()
        except Exception as exc:  # pool broken, or cancelled at shutdown
            if self._closing.is_set():
                self.jobs.release(record.id, self.owner)  # the next start runs it
                return
            log.warning("fast path failed; job re-queued", extra={"job_id": record.id})
            with self._lock:
                self._pool = None  # a broken pool is replaced on the next fast job
            del exc
            self.jobs.release(record.id, self.owner)
            self._wake.set()
            return
        if outcome is not None:
            self.breakers.merge(sent, outcome.breaker_state)
            finished = self.jobs.finish_record(record.id, self.owner, outcome)
            if finished is None:
                outcome = None
            else:
                self.recent.keep(finished, outcome.result)
        self._publish(record.id, record.kind, outcome, time.monotonic() - started)

    def _publish(
        self, job_id: str, kind: str, outcome: JobOutcome | None, wall_time_s: float
    ) -> None:
        self.completions.publish(job_id)
        if outcome is None:
            return
        log.info(
            "job finished",
            extra={"job_id": job_id, "kind": kind, "status": outcome.status},
        )
        if self._on_finished is not None:
            try:
                self._on_finished(
                    JobFinished(job_id, kind, outcome.status, wall_time_s, outcome.result)
                )
            except Exception:  # metrics must never break job completion
                log.exception("job listener failed")


def _worker_context() -> BaseContext:
    """A fork server started before the web process grows threads: safe and fast to fork."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD_MODULES))
    return ctx
