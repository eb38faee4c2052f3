"""Completion notices: a waiting request subscribes to a job id and is called when it ends."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

__all__ = ["CompletionBoard"]


class CompletionBoard:
    """Thread-safe map of job id -> callbacks, each called once when the job finishes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[Callable[[], None]]] = defaultdict(list)

    def subscribe(self, job_id: str, callback: Callable[[], None]) -> None:
        with self._lock:
            self._waiters[job_id].append(callback)

    def unsubscribe(self, job_id: str, callback: Callable[[], None]) -> None:
        with self._lock:
            waiters = self._waiters.get(job_id)
            if waiters and callback in waiters:
                waiters.remove(callback)
            if not waiters:
                self._waiters.pop(job_id, None)

    def publish(self, job_id: str) -> None:
        with self._lock:
            waiters = self._waiters.pop(job_id, [])
        for callback in waiters:
            try:
                callback()
            except Exception:  # a gone waiter (closed event loop) must not stop the others
                continue
