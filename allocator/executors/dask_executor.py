"""The Dask executor: solver jobs on a Dask distributed cluster (`dask[distributed]` extra).

Dask cannot interrupt a running task, so each task drives a solve host *subprocess*
on its worker (warm, one per worker thread) and polls a named `distributed.Event`;
`cancel` sets the event, the task tells the host to stop, the solver keeps its best
plan, and a host that does not stop within the grace period is killed with its
process group. Progress travels back through a named `distributed.Variable`, and so
does the best verified plan (for a service job: its supervisor stores it). A task that
Dask runs again after its worker died starts from the plan the first run relayed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any

from allocator.executors.host_client import PlanNote, ProgressNote, SolveHost
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
    kind: str,
    request_text: str,
    time_limit_s: float,
    stop_name: str,
    progress_name: str,
    plan_name: str | None = None,
    breaker_state: dict[str, Any] | None = None,
    warm_start: str | None = None,
) -> dict[str, Any]:
    """The Dask task: run one job in this worker's solve host; returns the outcome as a dict.

    With `plan_name`, the best verified plan is published there as the solve goes.
    """
    from distributed import Event, Variable

    stop = Event(stop_name)
    progress = Variable(progress_name)
    plans = Variable(plan_name) if plan_name is not None else None
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

    def on_plan(note: PlanNote) -> None:
        if plans is not None:
            plans.set(dataclasses.asdict(note))

    if should_stop():
        return dataclasses.asdict(JobOutcome("cancelled", "cancelled", "none"))
    if warm_start is None and plans is not None:
        # Run again after the worker that ran it died: start from what that run relayed.
        earlier = _read_plan(plans)
        warm_start = earlier.plan if earlier is not None else None
    outcome = _worker_host().run(
        kind,
        request_text,
        time_limit_s=time_limit_s,
        should_stop=should_stop,
        on_progress=on_progress,
        on_plan=on_plan if plans is not None else None,
        breaker_state=breaker_state,
        warm_start=warm_start,
    )
    return dataclasses.asdict(outcome)


def _read_plan(plans: Any) -> PlanNote | None:
    """The plan published on a `distributed.Variable`; None when there is none yet."""
    try:
        value = plans.get(timeout=0)
    except Exception:  # nothing published yet
        return None
    return PlanNote(**value) if isinstance(value, dict) else None


class DaskHandle:
    """A solve submitted to the cluster."""

    def __init__(
        self,
        executor: DaskExecutor,
        future: Any,
        stop_name: str,
        progress_name: str,
        plan_name: str | None = None,
    ):
        self._executor = executor
        self.future = future
        self._stop_name = stop_name
        self._progress_name = progress_name
        self._plan_name = plan_name
        self._outcome: JobOutcome | None = None
        self._final_plan: PlanNote | None = None  # read before the names are cleaned up

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
        client = self._executor.client
        self._final_plan = self._read_plan()
        self._outcome = outcome
        cleanups = [
            lambda: Variable(self._progress_name, client).delete(),
            lambda: Event(self._stop_name, client).clear(),
        ]
        if self._plan_name is not None:
            plan_name = self._plan_name
            cleanups.append(lambda: Variable(plan_name, client).delete())
        for cleanup in cleanups:
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

    def best_plan(self) -> PlanNote | None:
        if self._outcome is not None:
            return self._final_plan
        return self._read_plan()

    def _read_plan(self) -> PlanNote | None:
        if self._plan_name is None:
            return None
        from distributed import Variable

        return _read_plan(Variable(self._plan_name, self._executor.client))


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

    def submit(
        self,
        kind: str,
        request_text: str,
        time_limit_s: float,
        *,
        breaker_state: dict[str, Any] | None = None,
        warm_start: str | None = None,
        relay_plans: bool = False,
    ) -> DaskHandle:
        token = uuid.uuid4().hex
        stop_name, progress_name = f"allocator-stop-{token}", f"allocator-progress-{token}"
        plan_name = f"allocator-plan-{token}" if relay_plans else None
        future = self.client.submit(
            solve_on_worker,
            kind,
            request_text,
            time_limit_s,
            stop_name,
            progress_name,
            plan_name,
            breaker_state,
            warm_start,
            key=f"allocator-{kind}-{token}",
            pure=False,
        )
        return DaskHandle(self, future, stop_name, progress_name, plan_name)

    def n_workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
