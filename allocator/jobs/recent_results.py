"""The last jobs finished in this process, kept with their results for the `?wait`
request that is waiting for one: it answers from here instead of reading the store."""

from __future__ import annotations

import threading
from collections import OrderedDict

from allocator.store import JobRecord

__all__ = ["RecentResults"]


class RecentResults:
    """The last `capacity` jobs finished here, as stored (record and result text).

    A reader that finds a job here skips two store reads; one that does not (evicted
    under a burst, or finished by another process) reads the store as before.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._lock = threading.Lock()
        self._capacity = capacity
        self._jobs: OrderedDict[str, tuple[JobRecord, str | None]] = OrderedDict()

    def keep(self, record: JobRecord, result: str | None) -> None:
        """Remember a job as stored when it finished (the oldest one goes when full)."""
        with self._lock:
            self._jobs[record.id] = (record, result)
            while len(self._jobs) > self._capacity:
                self._jobs.popitem(last=False)

    def get(self, job_id: str) -> tuple[JobRecord, str | None] | None:
        """The job's final record and result text, if it finished here recently."""
        with self._lock:
            return self._jobs.get(job_id)
