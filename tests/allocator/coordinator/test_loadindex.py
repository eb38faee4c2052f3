"""The load indexes (all agents, and per topology node) against a plain dict of counts."""

from __future__ import annotations

import random

import pytest

from allocator.coordinator.breaker import BreakerConfig, CircuitBreaker
from allocator.coordinator.loadindex import LoadIndex, NodeLoadIndex
from allocator.coordinator.queues import FifoQueue
from allocator.coordinator.records import AgentRecord, AgentSpec


def agents(n: int) -> list[AgentRecord]:
    return [
        AgentRecord(AgentSpec(f"a{i}"), FifoQueue(), CircuitBreaker(BreakerConfig()), i)
        for i in range(n)
    ]


@pytest.mark.parametrize("index_type", [LoadIndex, NodeLoadIndex])
def test_heaviest_follows_random_updates(index_type: type[LoadIndex | NodeLoadIndex]) -> None:
    rng = random.Random(7)
    pool = agents(12)
    index = index_type()
    counts = {a.id: 0 for a in pool}
    for _ in range(2000):
        agent = rng.choice(pool)
        # Moves of one, as pushes and pops make, and now and then a bulk drop to zero.
        step = rng.choice([-1, 1, 1]) if rng.random() > 0.05 else -counts[agent.id]
        counts[agent.id] = max(0, counts[agent.id] + step)
        index.update(agent, counts[agent.id])
        top = max(counts.values())
        assert index.max_count == top
        listed = list(index.heaviest(len(pool)))
        assert sorted(a.id for a in listed) == sorted(k for k, c in counts.items() if c)
        listed_counts = [counts[a.id] for a in listed]
        assert listed_counts == sorted(listed_counts, reverse=True)


def test_heaviest_stops_at_the_limit() -> None:
    pool = agents(5)
    index = LoadIndex()
    for k, agent in enumerate(pool):
        index.update(agent, k + 1)
    assert [a.id for a in index.heaviest(2)] == ["a4", "a3"]
