"""Interchangeable queue disciplines: FIFO, multi-level priority, EDF, CFS, WFQ."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from allocator.coordinator.queues.base import QueueDiscipline
from allocator.coordinator.queues.cfs import CfsQueue, nice_to_weight
from allocator.coordinator.queues.edf import EdfQueue
from allocator.coordinator.queues.fifo import FifoQueue
from allocator.coordinator.queues.priority import DEFAULT_CLASS_WEIGHTS, PriorityQueue
from allocator.coordinator.queues.wfq import WfqQueue

__all__ = [
    "DEFAULT_CLASS_WEIGHTS",
    "DISCIPLINES",
    "CfsQueue",
    "EdfQueue",
    "FifoQueue",
    "PriorityQueue",
    "QueueDiscipline",
    "QueueFactory",
    "WfqQueue",
    "make_queue_factory",
    "nice_to_weight",
]

QueueFactory = Callable[[], QueueDiscipline]

#: Discipline names accepted by `make_queue_factory` (and the CLI's --discipline).
DISCIPLINES: tuple[str, ...] = ("fifo", "priority", "edf", "cfs", "wfq")


def make_queue_factory(
    name: str,
    *,
    aging_s: float = 30.0,
    tenant_weights: Mapping[str, float] | None = None,
) -> QueueFactory:
    """A zero-argument constructor for the named discipline (one queue per agent)."""
    if name == "fifo":
        return FifoQueue
    if name == "priority":
        return lambda: PriorityQueue(aging_s=aging_s)
    if name == "edf":
        return EdfQueue
    if name == "cfs":
        return lambda: CfsQueue(tenant_weights)
    if name == "wfq":
        return lambda: WfqQueue(tenant_weights)
    raise ValueError(f"unknown queue discipline {name!r}; choose one of {', '.join(DISCIPLINES)}")
