"""Multi-level priority queue: critical first, then weighted classes, with aging.

Classes are 0 = critical, 1 = high, 2 = normal, 3 = low. Critical is always served
first; high/normal/low share service 0.3 : 0.2 : 0.1 (the 0.4/0.3/0.2/0.1 table
with critical taken out) by smooth weighted round-robin, which is deterministic and
spreads picks evenly. A task that waits `aging_s` in a class moves up one class,
so low priority never starves.

A pop records the class credits it found, so an `unpop` right after (the coordinator's
lookahead pops a few tasks and puts back those it skips, in reverse) restores them:
a peek does not shift the classes' shares.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from allocator.coordinator.queues.base import QueueDiscipline
from allocator.coordinator.records import TaskRecord

__all__ = ["DEFAULT_CLASS_WEIGHTS", "PriorityQueue"]

DEFAULT_CLASS_WEIGHTS: tuple[float, float, float, float] = (0.4, 0.3, 0.2, 0.1)
#: Pops whose credits an unpop can still restore (a lookahead is 8 by default).
_UNDO_DEPTH = 1024


class PriorityQueue(QueueDiscipline):
    """Four FIFO classes. push/unpop/remove O(1); pop and steal_one O(1) amortised.

    Aging touches only class heads (the oldest entries), and each task is promoted
    at most three times, so aging adds O(1) amortised per pop.
    """

    name = "priority"
    __slots__ = ("_aging_s", "_counts", "_credit", "_levels", "_undo", "_weights")

    def __init__(
        self,
        aging_s: float = 30.0,
        weights: tuple[float, float, float, float] = DEFAULT_CLASS_WEIGHTS,
    ) -> None:
        super().__init__()
        if aging_s <= 0:
            raise ValueError(f"aging_s is {aging_s}; use a positive number of seconds")
        self._aging_s = aging_s
        self._weights = weights
        self._levels: list[deque[tuple[int, TaskRecord]]] = [deque() for _ in range(4)]
        self._counts = [0, 0, 0, 0]
        self._credit = [0.0, 0.0, 0.0, 0.0]
        # (task popped, the credits before its pick), newest last.
        self._undo: deque[tuple[TaskRecord, list[float]]] = deque(maxlen=_UNDO_DEPTH)

    @property
    def aging_s(self) -> float:
        """Seconds of waiting that lift a task one class (live-tunable)."""
        return self._aging_s

    @aging_s.setter
    def aging_s(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"aging_s is {seconds}; use a positive number of seconds")
        self._aging_s = seconds

    def push(self, task: TaskRecord, now: float) -> None:
        token = self._file(task)
        level = min(max(task.priority, 0), 3)
        task.qkey = level
        self._counts[level] += 1
        self._levels[level].append((token, task))

    def _head(self, level: int) -> TaskRecord | None:
        q = self._levels[level]
        while q:
            token, task = q[0]
            if task.qtoken == token and task.queue is self:
                return task
            q.popleft()
            self._stale -= 1
        return None

    def _age(self, now: float) -> None:
        aging_s = self._aging_s
        for level in (1, 2, 3):
            while self._counts[level]:
                head = self._head(level)
                assert head is not None
                boosts = head.priority - level  # promotions so far
                if now - head.enqueued_at < aging_s * (boosts + 1):
                    break
                self._levels[level].popleft()
                self._counts[level] -= 1
                self._counts[level - 1] += 1
                head.qkey = level - 1
                self._levels[level - 1].append((head.qtoken, head))

    def _pick_level(self) -> int:
        counts = self._counts
        if counts[0]:
            return 0
        credit, weights = self._credit, self._weights
        best, total = -1, 0.0
        for level in (1, 2, 3):
            if counts[level]:
                credit[level] += weights[level]
                total += weights[level]
                if best < 0 or credit[level] > credit[best]:
                    best = level
            else:
                credit[level] = 0.0  # an empty class banks no credit
        credit[best] -= total
        return best

    def pop(self, now: float) -> TaskRecord | None:
        if not self._n:
            return None
        self._age(now)
        credit = self._credit.copy()
        level = self._pick_level()
        task = self._head(level)
        assert task is not None
        self._undo.append((task, credit))
        self._levels[level].popleft()
        self._counts[level] -= 1
        self._n -= 1
        task.queue = None
        return task

    def unpop(self, task: TaskRecord) -> None:
        if self._undo and self._undo[-1][0] is task:
            self._credit = self._undo.pop()[1]
        task.queue = self
        self._n += 1
        self._counts[task.qkey] += 1
        self._levels[task.qkey].appendleft((task.qtoken, task))

    def unsteal(self, task: TaskRecord) -> None:
        task.queue = self
        self._n += 1
        self._counts[task.qkey] += 1
        self._levels[task.qkey].append((task.qtoken, task))

    def steal_one(self) -> TaskRecord | None:
        for level in (3, 2, 1, 0):
            q = self._levels[level]
            while self._counts[level]:
                token, task = q.pop()
                if task.qtoken == token and task.queue is self:
                    task.queue = None
                    self._n -= 1
                    self._counts[level] -= 1
                    task.qkey = level
                    return task
                self._stale -= 1
        return None

    def remove(self, task: TaskRecord) -> None:
        self._counts[task.qkey] -= 1
        super().remove(task)

    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        for q in self._levels:
            yield from q

    def _rebuild(self, live: list[TaskRecord]) -> None:
        self._levels = [deque() for _ in range(4)]
        self._counts = [0, 0, 0, 0]
        for task in live:
            self._levels[task.qkey].append((task.qtoken, task))
            self._counts[task.qkey] += 1

    def validate(self) -> None:
        super().validate()
        per_level = [0, 0, 0, 0]
        for task in self.tasks():
            per_level[task.qkey] += 1
        if per_level != self._counts:
            raise AssertionError(f"priority: class counts {self._counts} != {per_level}")
