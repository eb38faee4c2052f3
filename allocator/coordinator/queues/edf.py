"""Earliest deadline first: a binary heap keyed by absolute deadline (none = last).

Admission control lives in `allocator.coordinator.admission`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator

from allocator.coordinator.queues.base import QueueDiscipline, next_token
from allocator.coordinator.records import TaskRecord

__all__ = ["EdfQueue"]


class EdfQueue(QueueDiscipline):
    """EDF order, ties FIFO. push/pop/unpop O(log n); steal_one O(1) (a heap leaf)."""

    name = "edf"
    __slots__ = ("_heap",)

    def __init__(self) -> None:
        super().__init__()
        self._heap: list[tuple[float, int, TaskRecord]] = []

    def push(self, task: TaskRecord, now: float) -> None:
        token = next_token()
        task.qtoken = token
        task.queue = self
        self._n += 1
        key = math.inf if task.deadline is None else task.deadline
        task.qkey = key
        heapq.heappush(self._heap, (key, token, task))

    def pop(self, now: float) -> TaskRecord | None:
        heap = self._heap
        while heap:
            _key, token, task = heapq.heappop(heap)
            if task.qtoken == token and task.queue is self:
                task.queue = None
                self._n -= 1
                return task
            self._stale -= 1
        return None

    def unpop(self, task: TaskRecord) -> None:
        task.queue = self
        self._n += 1
        heapq.heappush(self._heap, (task.qkey, task.qtoken, task))

    def steal_one(self) -> TaskRecord | None:
        # Removing the last array slot keeps the heap property; a leaf is never served
        # next (unless alone), so this takes late work in O(1).
        heap = self._heap
        while heap:
            _key, token, task = heap.pop()
            if task.qtoken == token and task.queue is self:
                task.queue = None
                self._n -= 1
                return task
            self._stale -= 1
        return None

    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        return ((token, task) for _k, token, task in self._heap)

    def _rebuild(self, live: list[TaskRecord]) -> None:
        self._heap = [(t.qkey, t.qtoken, t) for t in live]
        heapq.heapify(self._heap)
