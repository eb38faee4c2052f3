"""Agents bucketed by how many tasks they have queued: O(1) heaviest-victim lookup.

Queue lengths move by one per push or pop, so a bucket array with a max pointer
answers "who is heaviest" in O(1) and updates in O(1) (amortised when a bulk steal
drops the max by k). Agents with nothing queued are not filed at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from allocator.coordinator.records import AgentRecord

__all__ = ["LoadIndex", "NodeLoadIndex"]


class LoadIndex:
    """Buckets of agents by queued count; positions live in `agent.bpos`/`agent.bcount`."""

    __slots__ = ("_buckets", "max_count")

    def __init__(self) -> None:
        self._buckets: list[list[AgentRecord]] = [[]]
        self.max_count = 0

    def update(self, agent: AgentRecord, count: int) -> None:
        """Refile `agent` under its new queued count. O(1) amortised."""
        old = agent.bcount
        if old == count:
            return
        buckets = self._buckets
        if old:
            bucket = buckets[old]
            last = bucket.pop()
            if last is not agent:
                pos = agent.bpos
                bucket[pos] = last
                last.bpos = pos
        if count:
            while len(buckets) <= count:
                buckets.append([])
            bucket = buckets[count]
            agent.bpos = len(bucket)
            bucket.append(agent)
            if count > self.max_count:
                self.max_count = count
        else:
            agent.bpos = -1
        agent.bcount = count
        while self.max_count and not buckets[self.max_count]:
            self.max_count -= 1

    def heaviest(self, limit: int) -> Iterator[AgentRecord]:
        """Up to `limit` agents from the heaviest buckets down. O(limit + empty buckets)."""
        buckets = self._buckets
        count = self.max_count
        while count and limit > 0:
            for agent in reversed(buckets[count]):
                yield agent
                limit -= 1
                if limit <= 0:
                    return
            count -= 1

    def validate(self, agents: Iterator[AgentRecord], floor: int = 1) -> None:
        """Each agent filed under its queue length (if >= floor), positions right. O(n)."""
        filed = 0
        for count, bucket in enumerate(self._buckets):
            for pos, agent in enumerate(bucket):
                if agent.bcount != count or agent.bpos != pos:
                    raise AssertionError(f"load index: {agent.id} misfiled at {count}/{pos}")
            filed += len(bucket)
            if count > self.max_count and bucket:
                raise AssertionError("load index: max pointer below a non-empty bucket")
        expected = 0
        for agent in agents:
            length = len(agent.queue)
            if agent.bcount != (length if length >= floor else 0):
                raise AssertionError(
                    f"load index: {agent.id} filed at {agent.bcount}, queue has {len(agent.queue)}"
                )
            expected += 1 if agent.bcount else 0
        if filed != expected:
            raise AssertionError(f"load index: {filed} filed, {expected} expected")


class NodeLoadIndex:
    """The same buckets for the agents of one topology node (positions in a dict)."""

    __slots__ = ("_buckets", "_count", "_pos", "max_count")

    def __init__(self) -> None:
        self._buckets: list[list[AgentRecord]] = [[]]
        self._pos: dict[str, int] = {}
        self._count: dict[str, int] = {}
        self.max_count = 0

    def update(self, agent: AgentRecord, count: int) -> None:
        """Refile `agent` under its new queued count. O(1) amortised."""
        old = self._count.get(agent.id, 0)
        if old == count:
            return
        buckets = self._buckets
        if old:
            bucket = buckets[old]
            last = bucket.pop()
            if last is not agent:
                pos = self._pos[agent.id]
                bucket[pos] = last
                self._pos[last.id] = pos
        if count:
            while len(buckets) <= count:
                buckets.append([])
            self._pos[agent.id] = len(buckets[count])
            buckets[count].append(agent)
            self.max_count = max(self.max_count, count)
            self._count[agent.id] = count
        else:
            self._pos.pop(agent.id, None)
            self._count.pop(agent.id, None)
        while self.max_count and not buckets[self.max_count]:
            self.max_count -= 1

    def heaviest(self, limit: int) -> Iterator[AgentRecord]:
        """Up to `limit` agents from the heaviest buckets down."""
        count = self.max_count
        while count and limit > 0:
            for agent in reversed(self._buckets[count]):
                yield agent
                limit -= 1
                if limit <= 0:
                    return
            count -= 1
