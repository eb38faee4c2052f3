"""A binary heap of (key, token, task) with lazy deletion: the shared core of EDF and WFQ.

Subclasses say only how a task is keyed (`_key`) and, if they keep a clock, what
serving a key does to it (`_served`). Stale entries (removed tasks) are skipped when
they reach the front or the tail.
"""

from __future__ import annotations

import heapq
from abc import abstractmethod
from collections.abc import Iterator

from allocator.coordinator.queues.base import QueueDiscipline
from allocator.coordinator.records import TaskRecord

__all__ = ["LazyHeapQueue"]

_Entry = tuple[float, int, TaskRecord]


class LazyHeapQueue(QueueDiscipline):
    """Smallest key first, ties FIFO. push/pop/unpop O(log n); steal_one O(1) (a leaf)."""

    __slots__ = ("_heap",)

    def __init__(self) -> None:
        super().__init__()
        self._heap: list[_Entry] = []

    @abstractmethod
    def _key(self, task: TaskRecord) -> float:
        """The key `task` is filed under (called once per push)."""

    def _served(self, key: float) -> None:
        """The entry with `key` is about to be served (a hook for virtual clocks)."""

    def push(self, task: TaskRecord, now: float) -> None:
        token = self._file(task)
        task.qkey = self._key(task)
        heapq.heappush(self._heap, (task.qkey, token, task))

    def pop(self, now: float) -> TaskRecord | None:
        entry = self._take_live(self._heap, heapq.heappop)
        if entry is None:
            return None
        self._served(entry[0])
        return entry[2]

    def unpop(self, task: TaskRecord) -> None:
        task.queue = self
        self._n += 1
        heapq.heappush(self._heap, (task.qkey, task.qtoken, task))

    def steal_one(self) -> TaskRecord | None:
        # Removing the last array slot keeps the heap property; a leaf is never served
        # next (unless alone), so this takes late work in O(1).
        entry = self._take_live(self._heap, list.pop)
        return None if entry is None else entry[2]

    def steal_candidates(self) -> Iterator[tuple[float, int, TaskRecord]] | None:
        """Entries from the array's end (the leaves `steal_one` takes), left in place."""
        return reversed(self._heap)

    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        return ((token, task) for _key, token, task in self._heap)

    def _rebuild(self, live: list[TaskRecord]) -> None:
        self._heap = [(t.qkey, t.qtoken, t) for t in live]
        heapq.heapify(self._heap)
