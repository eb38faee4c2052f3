"""Entry points that run inside worker processes: one process per job, or a warm pool.

A worker stops its solve when the service says "stop" or dies (SIGKILL of the web
process is seen through its pid, see `lifeline`), so an orphaned solve never keeps
burning a core, and no worker outlives the service by more than a short grace.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from allocator.jobs.execution import execute_job
from allocator.jobs.lifeline import exit_now, release_fork_server, watch_service
from allocator.store import JobOutcome
from models.progress import ProgressEvent
from solvers.registry import solver_modules

__all__ = ["PRELOAD_MODULES", "init_pool_worker", "job_process_main", "pool_ready", "pool_solve"]

# Imported once in the fork server, so each job's process starts warm (the last one loads
# the solvers' compiled kernels there).
PRELOAD_MODULES: tuple[str, ...] = (
    "allocator.jobs.worker_process",
    *solver_modules(),
    "allocator.jobs.warm_kernels",
)

# After the service died, a job's solvers get this long to stop before the group is killed.
ORPHAN_GRACE_S = 2.0

# A job's worker and its solvers run at this lower CPU priority: with every core busy
# solving, the service process (health checks, submissions, 429s) still gets the CPU
# the moment it needs it. Idle cores still go to the solvers in full.
JOB_NICENESS = 10


def job_process_main(
    conn: Connection,
    job_id: str,
    kind: str,
    request_text: str,
    service_pid: int,
    breaker_state: dict[str, Any] | None = None,
    warm_start: str | None = None,
) -> None:
    """Solve one job, streaming progress and then ("done", JobOutcome) over `conn`.

    `warm_start`: the best plan an earlier attempt stored (JSON), to start from.
    """
    # Own process group: the parent can kill this process and its solver children at once.
    os.setpgrp()
    _lower_priority()
    release_fork_server()
    stop = threading.Event()
    send_lock = threading.Lock()
    threading.Thread(target=_read_control, args=(conn, stop), daemon=True).start()

    def orphaned() -> None:
        stop.set()  # the portfolio stops its solvers; the kills below are the backstop
        time.sleep(ORPHAN_GRACE_S)
        _kill_solver_sessions()
        exit_now(group=True)

    watch_service(service_pid, orphaned)

    def send(message: tuple[object, ...]) -> None:
        with send_lock:
            try:
                conn.send(message)
            except (BrokenPipeError, EOFError, OSError):
                stop.set()  # the parent is gone; finish quickly and exit

    def on_progress(event: ProgressEvent) -> None:
        send(("progress", event.kind, event.solver, event.elapsed_s, event.objective, event.bound))

    def on_instances(done: int, total: int) -> None:
        send(("instances", done, total))

    def on_plan(objective: float, solver: str, plan: str) -> None:
        send(("plan", objective, solver, plan))

    outcome = execute_job(
        kind,
        request_text,
        on_progress=on_progress,
        on_instances=on_instances,
        stop=stop,
        job_id=job_id,
        breaker_state=breaker_state,
        on_plan=on_plan,
        warm_start=warm_start,
    )
    send(("done", outcome))
    conn.close()


def _kill_solver_sessions() -> None:
    """Kill this worker's solver processes: each leads a session of its own (see
    `solvers.portfolio.solver_process`), so the kill of this worker's group misses them,
    and a starved portfolio may not have stopped them within the grace."""
    for child in multiprocessing.active_children():
        if child.pid is None:
            continue
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(child.pid, signal.SIGKILL)  # it may not have made its session yet


def _lower_priority() -> None:
    """Nice this process (and the solvers it starts) by JOB_NICENESS, where allowed."""
    with contextlib.suppress(OSError, AttributeError):  # no nice() on this platform
        os.nice(JOB_NICENESS)


def _read_control(conn: Connection, stop: threading.Event) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            stop.set()
            return
        if message == "stop":
            stop.set()


def init_pool_worker(service_pid: int) -> None:
    """Pool worker start-up: exit the moment the service process goes away."""
    release_fork_server()
    watch_service(service_pid, exit_now)


def pool_ready() -> int:
    """A no-op the runner sends to start each pool worker before traffic arrives."""
    return os.getpid()


def pool_solve(
    job_id: str, kind: str, request_text: str, breaker_state: dict[str, Any] | None = None
) -> JobOutcome:
    """Solve a small job in a warm pool worker (no cancellation: these jobs are short)."""
    return execute_job(kind, request_text, job_id=job_id, breaker_state=breaker_state)
