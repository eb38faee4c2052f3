"""Weighted fair queuing across tenants by virtual finish time (self-clocked, SCFQ).

Each task gets finish = max(V, tenant's last finish) + est / weight; the smallest
finish goes next and V moves to it. Served work per tenant tracks the weights.
"""

from __future__ import annotations

from collections.abc import Mapping

from allocator.coordinator.queues.heap import LazyHeapQueue
from allocator.coordinator.records import TaskRecord

__all__ = ["WfqQueue"]


class WfqQueue(LazyHeapQueue):
    """Heap by virtual finish time. push/pop/unpop O(log n); steal_one O(1) (a heap leaf)."""

    name = "wfq"
    __slots__ = ("_last_finish", "_tenant_weights", "_vtime")

    def __init__(self, tenant_weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self._tenant_weights = dict(tenant_weights or {})
        self._last_finish: dict[str, float] = {}
        self._vtime = 0.0

    def _key(self, task: TaskRecord) -> float:
        weight = self._tenant_weights.get(task.tenant, task.weight)
        start = max(self._vtime, self._last_finish.get(task.tenant, 0.0))
        finish = start + task.est / weight
        self._last_finish[task.tenant] = finish
        return finish

    def _served(self, key: float) -> None:
        self._vtime = max(self._vtime, key)
