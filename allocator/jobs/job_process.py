"""Drive one job in its own worker process: progress, lease renewal, cancel, outcome.

One monitoring thread per running job in the web process; the CPU work happens in
the child, so the web process stays responsive while every core is busy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from allocator.jobs.supervision import JobSupervisor
from allocator.jobs.worker_process import job_process_main
from allocator.store import JobOutcome, JobRecord, JobRepository

__all__ = ["JobProcess"]

log = logging.getLogger("allocator.jobs")

_POLL_S = 0.1
_PROGRESS_WRITE_S = 0.5
# A solve that ignores its time limit by this much (plus 50 %) is stopped from outside.
_OVERRUN_GRACE_S = 30.0


@dataclass
class _Watch:
    """What the supervisor has heard from a job's worker so far, and its clocks."""

    hard_deadline: float
    next_renew: float
    next_progress_write: float = 0.0
    best: tuple[float | None, float | None, str] | None = None
    plan: tuple[float, str] | None = None  # the best verified plan not yet stored
    stop_sent_at: float | None = None
    outcome: JobOutcome | None = None
    lost_lease: bool = False


class JobProcess(JobSupervisor):
    """Runs `job` in a child process and records the outcome if our lease still holds."""

    def __init__(
        self,
        job: JobRecord,
        request_text: str,
        jobs: JobRepository,
        owner: str,
        lease_s: float,
        ctx: BaseContext,
        *,
        cancel_grace_s: float = 5.0,
        on_done: Callable[[JobRecord, JobOutcome | None], None],
        breaker_state: dict[str, Any] | None = None,
    ):
        super().__init__(
            job,
            request_text,
            jobs,
            owner,
            lease_s,
            cancel_grace_s=cancel_grace_s,
            on_done=on_done,
            breaker_state=breaker_state,
        )
        self._ctx = ctx

    def _supervise(self) -> JobOutcome | None:
        process, conn = self._start_worker()
        started = time.monotonic()
        watch = _Watch(
            hard_deadline=started + 1.5 * self.job.time_limit_s + _OVERRUN_GRACE_S,
            next_renew=started + self._lease_s / 3,
        )
        try:
            while self._watch_once(process, conn, watch):
                pass
        finally:  # a store error ends the watch too: the worker never outlives it
            _kill_group(process.pid)
            if process.is_alive():
                process.kill()  # it may not have made its own group yet
            process.join(timeout=5)
            conn.close()
        return self._conclude(process, watch)

    def _start_worker(self) -> tuple[Any, Connection]:
        """The job's worker process, started, and our end of its pipe."""
        parent_conn, child_conn = self._ctx.Pipe()
        # A retry (the last worker died) starts from the best plan that worker left.
        warm_start = self._jobs.best_plan(self.job.id)
        process = self._ctx.Process(  # type: ignore[attr-defined]
            target=job_process_main,
            args=(
                child_conn,
                self.job.id,
                self.job.kind,
                self._request_text,
                os.getpid(),
                self.breaker_state,
                warm_start,
            ),
            name=f"allocator-job-{self.job.id[:8]}",
        )
        process.start()
        child_conn.close()
        return process, parent_conn

    def _watch_once(self, process: Any, conn: Connection, watch: _Watch) -> bool:
        """One poll of the worker and the store; False once the watch is over."""
        if conn.poll(_POLL_S):
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return False
            if message[0] == "done":
                watch.outcome = message[1]
                return False
            self._take(message, watch)
        elif not process.is_alive():
            # It may have sent its result between our poll and this check.
            watch.outcome = _last_outcome(conn)
            return False
        if self._shutdown.is_set():
            return False
        now = time.monotonic()
        if (watch.best is not None or watch.plan is not None) and now >= watch.next_progress_write:
            if watch.best is not None:
                self._jobs.record_progress(self.job.id, self._owner, *watch.best)
            self._store_plan(watch.plan)
            watch.plan = None
            watch.next_progress_write = now + _PROGRESS_WRITE_S
        if now >= watch.next_renew:
            cancel_requested = self._jobs.renew(self.job.id, self._owner, self._lease_s)
            watch.next_renew = now + self._lease_s / 3
            if cancel_requested is None:
                watch.lost_lease = True  # another runner took the job over; its result counts
                return False
            if cancel_requested:
                self._cancel.set()
        if (self._cancel.is_set() or now > watch.hard_deadline) and watch.stop_sent_at is None:
            watch.stop_sent_at = now
            try:
                conn.send("stop")
            except (BrokenPipeError, OSError):
                return False
        return watch.stop_sent_at is None or now - watch.stop_sent_at <= self._cancel_grace_s

    def _take(self, message: tuple[Any, ...], watch: _Watch) -> None:
        """A progress, plan or batch-instances message from the worker."""
        if message[0] == "progress":
            watch.best = _merge_progress(watch.best, message)
        elif message[0] == "plan":  # verified by the worker; better than the last
            watch.plan = (float(message[1]), str(message[3]))
        elif message[0] == "instances":  # a batch: written at once (rare, coarse)
            self._jobs.record_instances(self.job.id, self._owner, *message[1:3])

    def _conclude(self, process: Any, watch: _Watch) -> JobOutcome | None:
        """Store the job's end: its result, a re-queue, or nothing when the lease was lost."""
        if watch.lost_lease:
            return None
        self._store_plan(watch.plan)  # what arrived since the last write (a killed worker's last)
        outcome = watch.outcome
        if self._shutdown.is_set() and outcome is None:
            self._jobs.release(self.job.id, self._owner)
            return None
        if outcome is None and watch.stop_sent_at is None and process.exitcode != 0:
            # The worker died (killed, out of memory): run the job again, per the attempts
            # policy; the best objective it reported stays visible in the job's progress.
            log.warning(
                "job worker died; job re-queued",
                extra={"job_id": self.job.id, "exit_code": process.exitcode},
            )
            self._jobs.release(self.job.id, self._owner, count_attempt=True)
            return None
        if outcome is None:
            outcome = self._without_result(watch.stop_sent_at is not None, process.exitcode)
        if not self._jobs.finish(self.job.id, self._owner, outcome):
            return None
        return outcome

    def _without_result(self, stopped: bool, exit_code: int | None) -> JobOutcome:
        """The worker ended without sending its result: the stored best plan stands."""
        error = (
            None
            if stopped and self._cancel.is_set()
            else f"the worker process ended (exit code {exit_code}) without a result"
        )
        return self._stored_plan_outcome(error)


def _last_outcome(conn: Connection) -> JobOutcome | None:
    """Drain what a finished worker left in the pipe; its result if it sent one."""
    try:
        while conn.poll(0):
            message = conn.recv()
            if message[0] == "done":
                return message[1]
    except (EOFError, OSError):
        pass
    return None


def _merge_progress(
    best: tuple[float | None, float | None, str] | None, message: tuple[object, ...]
) -> tuple[float | None, float | None, str]:
    """Keep the lowest objective and the highest bound (both minimised objectives)."""
    _, _kind, solver, _elapsed, objective, bound = message
    old_obj, old_bound = (best[0], best[1]) if best else (None, None)
    if isinstance(objective, int | float) and (old_obj is None or objective < old_obj):
        old_obj = float(objective)
    if isinstance(bound, int | float) and (old_bound is None or bound > old_bound):
        old_bound = float(bound)
    return old_obj, old_bound, str(solver)


def _kill_group(pid: int | None) -> None:
    """Kill the worker's process group (it and its solver processes); gone is fine."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
