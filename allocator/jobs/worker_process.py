"""Entry points that run inside worker processes: one process per job, or a warm pool.

A worker stops its solve when the parent says "stop" or disappears (SIGKILL of the
web process closes the pipe), so an orphaned solve never keeps burning a core.
"""

from __future__ import annotations

import os
import threading
import time
from multiprocessing.connection import Connection

from allocator.jobs.execution import execute_job
from allocator.store import JobOutcome
from models.progress import ProgressEvent

__all__ = ["PRELOAD_MODULES", "init_pool_worker", "job_process_main", "pool_ready", "pool_solve"]

# Imported once in the fork server, so each job's process starts warm.
PRELOAD_MODULES: tuple[str, ...] = (
    "allocator.jobs.worker_process",
    "solvers.heuristic.solver",
    "solvers.cpsat.solver",
    "solvers.milp.solver",
    "solvers.nsga2.solver",
)

_PARENT_CHECK_S = 1.0


def job_process_main(conn: Connection, kind: str, request_text: str) -> None:
    """Solve one job, streaming progress and then ("done", JobOutcome) over `conn`."""
    # Own process group: the parent can kill this process and its solver children at once.
    os.setpgrp()
    stop = threading.Event()
    send_lock = threading.Lock()
    threading.Thread(target=_read_control, args=(conn, stop), daemon=True).start()
    _watch_parent(stop, exit_when_orphaned=False)

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

    outcome = execute_job(
        kind, request_text, on_progress=on_progress, on_instances=on_instances, stop=stop
    )
    send(("done", outcome))
    conn.close()


def _read_control(conn: Connection, stop: threading.Event) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            stop.set()
            return
        if message == "stop":
            stop.set()


def _watch_parent(stop: threading.Event, *, exit_when_orphaned: bool) -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_S)
        stop.set()
        if exit_when_orphaned:
            os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def init_pool_worker() -> None:
    """Pool worker start-up: exit when the service process goes away."""
    _watch_parent(threading.Event(), exit_when_orphaned=True)


def pool_ready() -> int:
    """A no-op the runner sends to start each pool worker before traffic arrives."""
    return os.getpid()


def pool_solve(kind: str, request_text: str) -> JobOutcome:
    """Solve a small job in a warm pool worker (no cancellation: these jobs are short)."""
    return execute_job(kind, request_text)
