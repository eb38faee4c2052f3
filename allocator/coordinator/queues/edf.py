"""Earliest deadline first: a binary heap keyed by absolute deadline (none = last).

Admission control lives in `allocator.coordinator.admission`.
"""

from __future__ import annotations

import math

from allocator.coordinator.queues.heap import LazyHeapQueue
from allocator.coordinator.records import TaskRecord

__all__ = ["EdfQueue"]


class EdfQueue(LazyHeapQueue):
    """EDF order, ties FIFO. push/pop/unpop O(log n); steal_one O(1) (a heap leaf)."""

    name = "edf"
    __slots__ = ()

    def _key(self, task: TaskRecord) -> float:
        return math.inf if task.deadline is None else task.deadline
