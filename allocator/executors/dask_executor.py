"""The Dask executor: solver jobs on a Dask distributed cluster (`dask[distributed]` extra).

Dask cannot interrupt a running task, so each task drives a solve host *subprocess*
on its worker (warm, one per worker thread) and polls a named `distributed.Event`;
`cancel` sets the event, the task tells the host to stop, the solver keeps its best
plan, and a host that does not stop within the grace period is killed with its
process group. Progress travels back through a named `distributed.Variable`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any

from allocator.executors.host_client import ProgressNote, SolveHost
from allocator.store import JobOutcome

__all__ = ["DaskExecutor", "DaskHandle", "solve_on_worker"]

_STOP_POLL_S = 0.25

_hosts: dict[int, SolveHost] = {}
_hosts_lock = threading.Lock()


def _worker_host() -> SolveHost:
    """The solve host of the calling worker thread (started on first use, kept warm)."""
    key = threading.get_ident()
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            host = _hosts[key] = SolveHost()
        return host


def solve_on_worker(
    kind: str, request_text: str, time_limit_s: float, stop_name: str, progress_name: str
) -> dict[str, Any]:
    """The Dask task: run one job in this worker's solve host; returns the outcome as a dict."""
    from distributed import Event, Variable

    stop = Event(stop_name)
    progress = Variable(progress_name)
    checked = {"at": 0.0, "stop": False}

    def should_stop() -> bool:
        # The event lives on the scheduler: ask a few times a second, not on every poll.
        now = time.monotonic()
        if not checked["stop"] and now - checked["at"] >= _STOP_POLL_S:
            checked["at"] = now
            checked["stop"] = bool(stop.is_set())
        return bool(checked["stop"])

    def on_progress(note: ProgressNote) -> None:
        progress.set(dataclasses.asdict(note))

    if should_stop():
        return dataclasses.asdict(JobOutcome("cancelled", "cancelled", "none"))
    outcome = _worker_host().run(
        kind,
        request_text,
        time_limit_s=time_limit_s,
        should_stop=should_stop,
        on_progress=on_progress,
    )
    return dataclasses.asdict(outcome)


class DaskHandle:
    """A solve submitted to the cluster."""

    def __init__(self, executor: DaskExecutor, future: Any, stop_name: str, progress_name: str):
        self._executor = executor
        self.future = future
        self._stop_name = stop_name
        self._progress_name = progress_name
        self._outcome: JobOutcome | None = None

    def result(self, timeout: float | None = None) -> JobOutcome:
        if self._outcome is not None:
            return self._outcome
        from distributed import Event, Variable

        try:
            raw = self.future.result(timeout=timeout)
            outcome = JobOutcome(**raw)
        except TimeoutError:
            raise
        except Exception as exc:  # cancelled before it ran, or the task failed on the worker
            if self.future.cancelled() or Event(self._stop_name, self._executor.client).is_set():
                outcome = JobOutcome("cancelled", "cancelled", "none")
            else:
                outcome = JobOutcome(
                    "failed",
                    "error",
                    "none",
                    error=f"on the Dask cluster: {type(exc).__name__}: {exc}",
                )
        self._outcome = outcome
        client = self._executor.client
        for cleanup in (
            lambda: Variable(self._progress_name, client).delete(),
            lambda: Event(self._stop_name, client).clear(),
        ):
            try:
                cleanup()
            except Exception:  # names left on the scheduler are harmless; never fail a result
                continue
        return outcome

    def done(self) -> bool:
        return bool(self.future.done())

    def cancel(self) -> None:
        from distributed import Event

        # Not future.cancel(): that drops the result of a running task, and with it the
        # best plan; a task that has not started yet sees the event and returns at once.
        Event(self._stop_name, self._executor.client).set()

    def progress(self) -> ProgressNote | None:
        from distributed import Variable

        try:
            value = Variable(self._progress_name, self._executor.client).get(timeout=0)
        except Exception:  # nothing reported yet
            return None
        return ProgressNote(**value) if isinstance(value, dict) else None


class DaskExecutor:
    """Submits solves to the scheduler at `address`, or to an existing `client`."""

    name = "dask"

    def __init__(self, address: str | None = None, *, client: Any = None):
        if client is None:
            from distributed import Client

            client = Client(address, set_as_default=False)
            self._owns_client = True
        else:
            self._owns_client = False
        self.client = client
        self.address: str = address or str(client.scheduler.address)

    def submit(self, kind: str, request_text: str, time_limit_s: float) -> DaskHandle:
        token = uuid.uuid4().hex
        stop_name, progress_name = f"allocator-stop-{token}", f"allocator-progress-{token}"
        future = self.client.submit(
            solve_on_worker,
            kind,
            request_text,
            time_limit_s,
            stop_name,
            progress_name,
            key=f"allocator-{kind}-{token}",
            pure=False,
        )
        return DaskHandle(self, future, stop_name, progress_name)

    def n_workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
