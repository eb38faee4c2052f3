"""Agents bucketed by how many tasks they have queued: O(1) heaviest-victim lookup.

Queue lengths move by one per push or pop, so a bucket array with a max pointer
answers "who is heaviest" in O(1) and updates in O(1) (amortised when a bulk steal
drops the max by k). Agents with nothing queued are not filed at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from allocator.coordinator.records import AgentRecord

__all__ = ["LoadIndex", "NodeLoadIndex"]


class _BucketIndex:
    """Buckets of agents by queued count; subclasses say where an agent's slot is kept."""

    __slots__ = ("buckets", "max_count")

    # `buckets[c]`: the agents filed under count c. Public so a steal policy can read
    # the top bucket without a call (every empty-handed pull looks); only `update` writes.

    def __init__(self) -> None:
        self.buckets: list[list[AgentRecord]] = [[]]
        self.max_count = 0

    # Where an agent's slot is kept differs per subclass; ABC's abstractmethod would say
    # the same but costs an instance check at construction, so the hooks just refuse.
    def _count_of(self, agent: AgentRecord) -> int:
        """The queued count `agent` is filed under (0: not filed). Subclasses keep it."""
        raise NotImplementedError("a _BucketIndex subclass says where slots are kept")

    def _pos_of(self, agent: AgentRecord) -> int:
        """`agent`'s position in its bucket. Subclasses keep it."""
        raise NotImplementedError("a _BucketIndex subclass says where slots are kept")

    def _place(self, agent: AgentRecord, count: int, pos: int) -> None:
        """Record that `agent` sits at `pos` of bucket `count` (count 0: not filed)."""
        raise NotImplementedError("a _BucketIndex subclass says where slots are kept")

    def update(self, agent: AgentRecord, count: int) -> None:
        """Refile `agent` under its new queued count. O(1) amortised."""
        old = self._count_of(agent)
        if old == count:
            return
        buckets = self.buckets
        if old:
            # Swap-remove: the bucket's last agent takes the leaving agent's slot.
            bucket = buckets[old]
            last = bucket.pop()
            if last is not agent:
                pos = self._pos_of(agent)
                bucket[pos] = last
                self._place(last, old, pos)
        if count:
            while len(buckets) <= count:
                buckets.append([])
            bucket = buckets[count]
            self._place(agent, count, len(bucket))
            bucket.append(agent)
            if count > self.max_count:
                self.max_count = count
        else:
            self._place(agent, 0, -1)
        while self.max_count and not buckets[self.max_count]:
            self.max_count -= 1

    def top(self, limit: int) -> list[AgentRecord]:
        """`heaviest(limit)` as a list (safe to refile agents while walking it). O(limit)."""
        bucket = self.buckets[self.max_count]
        if self.max_count and len(bucket) >= limit:
            return bucket[: -limit - 1 : -1]  # the common case: the top bucket alone
        return list(self.heaviest(limit))

    def heaviest(self, limit: int) -> Iterator[AgentRecord]:
        """Up to `limit` agents from the heaviest buckets down. O(limit + empty buckets)."""
        buckets = self.buckets
        count = self.max_count
        while count and limit > 0:
            for agent in reversed(buckets[count]):
                yield agent
                limit -= 1
                if limit <= 0:
                    return
            count -= 1


class LoadIndex(_BucketIndex):
    """All agents of a coordinator; slots live on the agent (`agent.bpos`/`agent.bcount`)."""

    __slots__ = ()

    def _count_of(self, agent: AgentRecord) -> int:
        return agent.bcount

    def _pos_of(self, agent: AgentRecord) -> int:
        return agent.bpos

    def _place(self, agent: AgentRecord, count: int, pos: int) -> None:
        agent.bcount = count
        agent.bpos = pos

    def validate(self, agents: Iterator[AgentRecord], floor: int = 1) -> None:
        """Each agent filed under its queue length (if >= floor), positions right. O(n)."""
        filed = 0
        for count, bucket in enumerate(self.buckets):
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


class NodeLoadIndex(_BucketIndex):
    """The agents of one topology node; slots live in dicts (an agent is in one node)."""

    __slots__ = ("_count", "_pos")

    def __init__(self) -> None:
        super().__init__()
        self._pos: dict[str, int] = {}
        self._count: dict[str, int] = {}

    def _count_of(self, agent: AgentRecord) -> int:
        return self._count.get(agent.id, 0)

    def _pos_of(self, agent: AgentRecord) -> int:
        return self._pos[agent.id]

    def _place(self, agent: AgentRecord, count: int, pos: int) -> None:
        if count:
            self._count[agent.id] = count
            self._pos[agent.id] = pos
        else:
            self._count.pop(agent.id, None)
            self._pos.pop(agent.id, None)
