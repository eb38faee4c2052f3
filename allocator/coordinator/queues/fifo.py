"""First in, first out: a deque of (token, task) entries."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from allocator.coordinator.queues.base import QueueDiscipline
from allocator.coordinator.records import TaskRecord

__all__ = ["FifoQueue"]


class FifoQueue(QueueDiscipline):
    """FIFO. push, pop, unpop, steal_one (from the tail): O(1) amortised."""

    name = "fifo"
    __slots__ = ("_q",)

    def __init__(self) -> None:
        super().__init__()
        self._q: deque[tuple[int, TaskRecord]] = deque()

    def push(self, task: TaskRecord, now: float) -> None:
        token = self._file(task)
        self._q.append((token, task))

    def pop(self, now: float) -> TaskRecord | None:
        entry = self._take_live(self._q, deque.popleft)
        return None if entry is None else entry[1]

    def unpop(self, task: TaskRecord) -> None:
        task.queue = self
        self._n += 1
        self._q.appendleft((task.qtoken, task))

    def unsteal(self, task: TaskRecord) -> None:
        task.queue = self
        self._n += 1
        self._q.append((task.qtoken, task))

    def steal_one(self) -> TaskRecord | None:
        entry = self._take_live(self._q, deque.pop)
        return None if entry is None else entry[1]

    def steal_candidates(self) -> Iterator[tuple[int, TaskRecord]] | None:
        """Entries from the tail, left in place. O(1) per entry."""
        return reversed(self._q)

    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        return iter(self._q)

    def _rebuild(self, live: list[TaskRecord]) -> None:
        self._q = deque((t.qtoken, t) for t in live)
