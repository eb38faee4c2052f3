"""Weighted fair queuing across tenants by virtual finish time (self-clocked, SCFQ).

Each task gets finish = max(V, tenant's last finish) + est / weight; the smallest
finish goes next and V moves to it. Served work per tenant tracks the weights.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping

from allocator.coordinator.queues.base import QueueDiscipline, next_token
from allocator.coordinator.records import TaskRecord

__all__ = ["WfqQueue"]


class WfqQueue(QueueDiscipline):
    """Heap by virtual finish time. push/pop/unpop O(log n); steal_one O(1) (a heap leaf)."""

    name = "wfq"
    __slots__ = ("_heap", "_last_finish", "_tenant_weights", "_vtime")

    def __init__(self, tenant_weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self._tenant_weights = dict(tenant_weights or {})
        self._heap: list[tuple[float, int, TaskRecord]] = []
        self._last_finish: dict[str, float] = {}
        self._vtime = 0.0

    def push(self, task: TaskRecord, now: float) -> None:
        token = next_token()
        task.qtoken = token
        task.queue = self
        self._n += 1
        weight = self._tenant_weights.get(task.tenant, task.weight)
        start = max(self._vtime, self._last_finish.get(task.tenant, 0.0))
        finish = start + task.est / weight
        self._last_finish[task.tenant] = finish
        task.qkey = finish
        heapq.heappush(self._heap, (finish, token, task))

    def pop(self, now: float) -> TaskRecord | None:
        heap = self._heap
        while heap:
            finish, token, task = heapq.heappop(heap)
            if task.qtoken == token and task.queue is self:
                self._vtime = max(self._vtime, finish)
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
        heap = self._heap
        while heap:
            _finish, token, task = heap.pop()  # a leaf: keeps the heap property
            if task.qtoken == token and task.queue is self:
                task.queue = None
                self._n -= 1
                return task
            self._stale -= 1
        return None

    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        return ((token, task) for _f, token, task in self._heap)

    def _rebuild(self, live: list[TaskRecord]) -> None:
        self._heap = [(t.qkey, t.qtoken, t) for t in live]
        heapq.heapify(self._heap)
