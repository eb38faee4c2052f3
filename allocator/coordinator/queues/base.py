"""The queue-discipline contract shared by local and global queues, with lazy removal.

A discipline orders `TaskRecord`s; the coordinator owns task state and load figures.
Removal is lazy (entries carry a token that must match `task.qtoken`), so taking an
arbitrary task out is O(1) and the stale entry is skipped when it reaches the front.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

from allocator.coordinator.records import TaskRecord

__all__ = ["QueueDiscipline", "next_token"]

# Tokens are unique across all queues, so a matching token alone proves an entry is live.
next_token = itertools.count(1).__next__

#: A stored entry: any fields, then (token, task) last.
Entry = TypeVar("Entry", bound=tuple[Any, ...])


class QueueDiscipline(ABC):
    """Orders queued tasks. Implementations state each operation's cost.

    Contract: `push` files a task (sets `task.queue`, `task.qtoken`); `pop` returns
    the next task to serve and clears `task.queue`; `unpop` puts a just-popped task
    back where it was; `steal_one` removes a task the queue would serve late (a
    tail or a heap leaf: O(1) amortised); `remove` takes out any task in O(1).
    """

    name: ClassVar[str] = "abstract"
    __slots__ = ("_n", "_stale")

    def __init__(self) -> None:
        self._n = 0
        self._stale = 0

    def __len__(self) -> int:
        return self._n

    @abstractmethod
    def push(self, task: TaskRecord, now: float) -> None: ...

    @abstractmethod
    def pop(self, now: float) -> TaskRecord | None: ...

    @abstractmethod
    def unpop(self, task: TaskRecord) -> None: ...

    @abstractmethod
    def steal_one(self) -> TaskRecord | None: ...

    def unsteal(self, task: TaskRecord) -> None:
        """Put back a task `steal_one` just returned (heaps: same key, so same place)."""
        self.unpop(task)

    def steal_candidates(self) -> Iterator[tuple[Any, ...]] | None:
        """Stored entries in the order `steal_one` would take them, left in place (stale
        ones included: an entry is live when its task's `qtoken` is its token, entry[-2],
        and the task, entry[-1], is in this queue); None when the discipline cannot list
        them without taking them (stealers then take and put back). Lets a thief look at a
        victim's tail for free when no move pays. Raw entries, not a filtering generator:
        creating and closing one per steal cost more than the rest of the steal."""
        return None

    @abstractmethod
    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        """Every stored (token, task) entry, stale ones included."""

    @abstractmethod
    def _rebuild(self, live: list[TaskRecord]) -> None:
        """Refill internal storage with exactly `live` (each keeps qtoken and qkey)."""

    def remove(self, task: TaskRecord) -> None:
        """Take `task` out. O(1); its entry is dropped lazily. Caller checks membership."""
        task.queue = None
        task.qtoken = 0
        self._n -= 1
        self._stale += 1
        # Compaction bounds memory when many tasks leave by migration rather than pop.
        if self._stale > 64 and self._stale > 2 * self._n:
            self._rebuild(list(self.tasks()))
            self._stale = 0

    def tasks(self) -> Iterator[TaskRecord]:
        """Live tasks in storage order (not service order). O(n)."""
        for token, task in self._entries():
            if task.qtoken == token and task.queue is self:
                yield task

    def drain(self) -> list[TaskRecord]:
        """Remove and return every live task. O(n)."""
        live = list(self.tasks())
        for task in live:
            task.queue = None
        self._n = 0
        self._stale = 0
        self._rebuild([])
        return live

    def _take_live(self, entries: Any, take: Callable[[Any], Entry]) -> Entry | None:
        """Take entries out of `entries` with `take` (e.g. deque.popleft, heappop) until
        a live one comes out, dropping stale ones; unfile its task and return it."""
        while entries:
            entry = take(entries)
            token, task = entry[-2], entry[-1]
            if task.qtoken == token and task.queue is self:
                task.queue = None
                self._n -= 1
                return entry
            self._stale -= 1
        return None

    def _file(self, task: TaskRecord) -> int:
        token = next_token()
        task.qtoken = token
        task.queue = self
        self._n += 1
        return token

    def validate(self) -> None:
        """Check the live count and that each live task points back here. O(n)."""
        live = list(self.tasks())
        if len(live) != self._n:
            raise AssertionError(f"{self.name}: count {self._n} but {len(live)} live entries")
        if len({id(t) for t in live}) != len(live):
            raise AssertionError(f"{self.name}: a task is filed twice")
