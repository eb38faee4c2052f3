"""The local executor: N threads, each driving its own warm solve host process.

The baseline the Dask executor is measured against, and what runs when no cluster
is configured; each solve runs in a child process, so a cancel stops the CPU.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from allocator.executors.host_client import PlanNote, ProgressNote, SolveHost
from allocator.store import JobOutcome

__all__ = ["LocalExecutor", "LocalHandle"]


class LocalHandle:
    """A solve queued or running on one of this machine's solve hosts."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.future: Future[JobOutcome] = Future()
        self._progress: ProgressNote | None = None
        self._plan: PlanNote | None = None

    def result(self, timeout: float | None = None) -> JobOutcome:
        try:
            return self.future.result(timeout)
        except FutureTimeout as exc:
            raise TimeoutError("the solve is still running") from exc

    def done(self) -> bool:
        return self.future.done()

    def cancel(self) -> None:
        self.stop.set()

    def progress(self) -> ProgressNote | None:
        return self._progress

    def note(self, progress: ProgressNote) -> None:
        self._progress = progress

    def best_plan(self) -> PlanNote | None:
        return self._plan

    def keep_plan(self, plan: PlanNote) -> None:
        self._plan = plan  # the relay sends only a plan better than its last


class LocalExecutor:
    """At most `workers` solves at once on this machine."""

    name = "local"

    def __init__(self, workers: int = 1, *, cancel_grace_s: float = 5.0):
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="local-solve")
        self._hosts: list[SolveHost] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cancel_grace_s = cancel_grace_s

    def _host(self) -> SolveHost:
        host: SolveHost | None = getattr(self._local, "host", None)
        if host is None:
            host = SolveHost(cancel_grace_s=self._cancel_grace_s)
            self._local.host = host
            with self._lock:
                self._hosts.append(host)
        return host

    def submit(
        self,
        kind: str,
        request_text: str,
        time_limit_s: float,
        *,
        breaker_state: dict[str, Any] | None = None,
        warm_start: str | None = None,
        relay_plans: bool = False,
    ) -> LocalHandle:
        handle = LocalHandle()

        def run() -> None:
            if handle.stop.is_set():  # cancelled while queued: nothing ran
                handle.future.set_result(JobOutcome("cancelled", "cancelled", "none"))
                return
            try:
                outcome = self._host().run(
                    kind,
                    request_text,
                    time_limit_s=time_limit_s,
                    should_stop=handle.stop.is_set,
                    on_progress=handle.note,
                    on_plan=handle.keep_plan if relay_plans else None,
                    breaker_state=breaker_state,
                    warm_start=warm_start,
                )
            except Exception as exc:  # the host could not start: a failed run, not a crash
                outcome = JobOutcome("failed", "error", "none", error=str(exc))
            handle.future.set_result(outcome)

        self._pool.submit(run)
        return handle

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            hosts, self._hosts = self._hosts, []
        for host in hosts:
            host.close()
