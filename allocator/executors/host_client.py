"""Drive a solve host subprocess: send a job, relay progress, stop it, kill it if it hangs.

The host stays warm between jobs (solver imports cost about a second); it is killed
with its whole process group when a stop is not honoured in time, and replaced
on the next job.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocator.store import JobOutcome

__all__ = ["HOST_ENDED", "PlanNote", "ProgressNote", "SolveHost", "host_died"]

#: How a failed outcome says the solve host died under the solve (killed, out of memory).
HOST_ENDED = "the solve host ended"

_POLL_S = 0.1
_START_TIMEOUT_S = 120.0
# A solve that ignores its time limit by this much (plus 50 %) is stopped from outside.
_OVERRUN_GRACE_S = 30.0


@dataclass(frozen=True)
class ProgressNote:
    """The latest incumbent or bound a running solve reported (objectives minimised)."""

    solver: str
    objective: float | None
    bound: float | None


@dataclass(frozen=True)
class PlanNote:
    """The best verified plan a running solve relayed (see `allocator.jobs.plan_relay`)."""

    objective: float
    solver: str
    plan: str  # the best-plan JSON document the job store keeps


def host_died(outcome: JobOutcome) -> bool:
    """Whether the solve host died under the solve (not a stop, not a solver's failure)."""
    return outcome.status == "failed" and (outcome.error or "").startswith(HOST_ENDED)


def _child_env() -> dict[str, str]:
    """The host must import this code base the way its parent does."""
    paths = [p for p in sys.path if p]
    old = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, *([old] if old else [])])}


class SolveHost:
    """One warm solve host; `run` is called by one thread at a time."""

    def __init__(self, *, cancel_grace_s: float = 5.0):
        self.cancel_grace_s = cancel_grace_s
        self._process: subprocess.Popen[str] | None = None
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._events = queue.Queue()
        process = subprocess.Popen(
            [sys.executable, "-m", "allocator.executors.solve_host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=_child_env(),
            start_new_session=True,  # its own group: one killpg stops it and its solvers
        )
        threading.Thread(
            target=_pump, args=(process, self._events), name="solve-host-reader", daemon=True
        ).start()
        self._process = process
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                event = self._events.get(timeout=_POLL_S)
                if event is None:
                    break
                if event.get("event") == "ready":
                    return process
        self.close()
        raise RuntimeError(
            "the solve host did not start; run `python -m allocator.executors.solve_host`"
        )

    def run(
        self,
        kind: str,
        request_text: str,
        *,
        time_limit_s: float,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[ProgressNote], None] | None = None,
        on_plan: Callable[[PlanNote], None] | None = None,
        breaker_state: dict[str, Any] | None = None,
        warm_start: str | None = None,
    ) -> JobOutcome:
        """Solve one job; never raises for a solver failure (it becomes a failed outcome).

        `should_stop` is polled about ten times a second; once true, the host is asked
        to stop and keep its best plan, and killed if it has not answered within
        `cancel_grace_s`. `on_plan` gets the best verified plan as the solve goes;
        `breaker_state` (a service's solver breaker) comes back updated in the outcome;
        `warm_start` is a plan an earlier attempt stored, to start from.
        """
        process = self._ensure_started()
        job_id = uuid.uuid4().hex
        request: dict[str, Any] = {"op": "solve", "id": job_id, "kind": kind}
        request.update(request=request_text, relay_plans=on_plan is not None)
        if breaker_state is not None:
            request["breaker_state"] = breaker_state
        if warm_start is not None:
            request["warm_start"] = warm_start
        self._send(request)
        hard_deadline = time.monotonic() + 1.5 * time_limit_s + _OVERRUN_GRACE_S
        stop_sent_at: float | None = None
        while True:
            try:
                event = self._events.get(timeout=_POLL_S)
            except queue.Empty:
                event = {}
            if event is None:  # the host died (killed, crashed, out of memory)
                code = process.poll()
                self._process = None
                if stop_sent_at is not None:
                    return JobOutcome("cancelled", "cancelled", "none")
                return JobOutcome(
                    "failed", "error", "none", error=f"{HOST_ENDED} (exit code {code})"
                )
            if event.get("id") == job_id:
                done = self._handle(event, on_progress, on_plan)
                if done is not None:
                    return done
            now = time.monotonic()
            if stop_sent_at is None and (now > hard_deadline or should_stop()):
                stop_sent_at = now
                self._send({"op": "stop", "id": job_id})
            if stop_sent_at is not None and now - stop_sent_at > self.cancel_grace_s:
                self.close()  # it ignored the stop; the next run starts a fresh host
                return JobOutcome("cancelled", "cancelled", "none")

    @staticmethod
    def _handle(
        event: dict[str, Any],
        on_progress: Callable[[ProgressNote], None] | None,
        on_plan: Callable[[PlanNote], None] | None,
    ) -> JobOutcome | None:
        """Pass one event of the current job on; its outcome when the job is done."""
        kind = event.get("event")
        if kind == "done":
            return JobOutcome(**event["outcome"])
        if kind == "progress" and on_progress is not None:
            on_progress(ProgressNote(event["solver"], event["objective"], event["bound"]))
        elif kind == "plan" and on_plan is not None:
            on_plan(PlanNote(float(event["objective"]), str(event["solver"]), str(event["plan"])))
        return None

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()

    def close(self) -> None:
        """Kill the host and its solver processes (gone already is fine)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            process.wait(timeout=5)
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()


def _pump(process: subprocess.Popen[str], events: queue.Queue[dict[str, Any] | None]) -> None:
    """Reader thread: host stdout lines -> events; None when the host is gone."""
    assert process.stdout is not None
    with contextlib.suppress(ValueError, OSError):
        for line in process.stdout:
            with contextlib.suppress(ValueError):
                events.put(json.loads(line))
    events.put(None)
