"""The solve host: a plain child process that runs one job at a time for an executor.

Run as `python -m allocator.executors.solve_host`. Requests arrive as JSON lines on
stdin; events leave as JSON lines on the original stdout (fd 1 is pointed at stderr so
a chatty solver cannot corrupt the protocol). It is a normal (non-daemon) process, so
the portfolio may fork its solver processes here even when the caller is a daemonic
Dask worker, which may not have children of its own.

    in:  {"op": "solve", "id": ..., "kind": ..., "request": ...,
          "breaker_state": {...}?, "warm_start": "plan JSON"?, "relay_plans": bool?}
         | {"op": "stop", "id": ...}
    out: {"event": "ready"} | {"event": "progress", "id": ..., ...}
         | {"event": "plan", "id": ..., "objective", "solver", "plan"} | {"event": "done", ...}

`breaker_state` is the service's solver breaker (the outcome carries it back, updated);
with `relay_plans` the best verified incumbent plan is sent as the solve goes
(`allocator.jobs.plan_relay`); `warm_start` is a plan an earlier attempt stored.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import sys
import threading
from typing import IO, Any

__all__ = ["PROGRESS_INTERVAL_S", "main"]

# One progress event per this many seconds at most; the final result always follows.
PROGRESS_INTERVAL_S = 0.25


class _Control:
    """Stdin reader: queues solve requests and sets the stop flag of the current job."""

    def __init__(self, stream: IO[str]):
        self.requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stop = threading.Event()
        self._current: str | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def begin(self, job_id: str) -> None:
        with self._lock:
            self._current = job_id
            self.stop.clear()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("op") == "stop":
                with self._lock:
                    # A late stop for an earlier job must not cancel the next one.
                    if message.get("id") == self._current:
                        self.stop.set()
            elif message.get("op") == "solve":
                self.requests.put(message)
        self.stop.set()  # the executor went away: finish quickly and exit
        self.requests.put(None)


def main() -> None:
    """Serve solve requests until stdin closes."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from solvers go to stderr, never into the protocol
    sys.stdout = sys.stderr
    # The control reader gets a private copy of stdin: forked solver processes close
    # sys.stdin on start, which would deadlock on the reader's lock if they shared it.
    control_in = os.fdopen(os.dup(0), "r", buffering=1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(os.devnull)  # noqa: SIM115 (lives as long as the process)
    from allocator.jobs.execution import execute_job  # heavy: after the protocol is safe
    from models.progress import ProgressEvent

    write_lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with write_lock:
            try:
                out.write(json.dumps(message) + "\n")
            except (BrokenPipeError, OSError):
                os._exit(0)  # the executor is gone; nobody is left to read a result

    control = _Control(control_in)
    send({"event": "ready"})
    while True:
        request = control.requests.get()
        if request is None:
            return
        job_id = str(request.get("id"))
        control.begin(job_id)

        def on_progress(event: ProgressEvent, job_id: str = job_id) -> None:
            if event.objective is None and event.bound is None:
                return  # start notices carry no figures
            # No time throttle here: solver processes already send at most one
            # incumbent per PROGRESS_INTERVAL_S each, and dropping one could lose the
            # best objective a cancelled job reports.
            send(
                {
                    "event": "progress",
                    "id": job_id,
                    "solver": event.solver,
                    "objective": event.objective,
                    "bound": event.bound,
                }
            )

        def on_plan(objective: float, solver: str, plan: str, job_id: str = job_id) -> None:
            send(
                {
                    "event": "plan",
                    "id": job_id,
                    "objective": objective,
                    "solver": solver,
                    "plan": plan,
                }
            )

        breaker_state = request.get("breaker_state")
        warm_start = request.get("warm_start")
        outcome = execute_job(
            str(request.get("kind")),
            str(request.get("request")),
            on_progress=on_progress,
            stop=control.stop,
            breaker_state=breaker_state if isinstance(breaker_state, dict) else None,
            on_plan=on_plan if request.get("relay_plans") else None,
            warm_start=warm_start if isinstance(warm_start, str) else None,
        )
        send({"event": "done", "id": job_id, "outcome": dataclasses.asdict(outcome)})


if __name__ == "__main__":
    main()
