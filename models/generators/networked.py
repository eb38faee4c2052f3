"""Random allocation problems on a topology whose links carry the tasks' communication.

A generated attribute problem (`generate_attribute_problem`) whose agents sit on the
nodes of a ring with chords, with communicating task pairs. `with_bandwidth` sets every
link's bandwidth, so a benchmark can scale it against a plan's link loads.
"""

from __future__ import annotations

import numpy as np

from models.generators.instances import generate_attribute_problem
from models.schema import Communication, Link, Objectives, Problem, Topology, TopologyNode

__all__ = ["generate_networked_problem", "with_bandwidth"]


def generate_networked_problem(
    n_tasks: int,
    n_agents: int,
    n_nodes: int,
    seed: int,
    *,
    pair_share: float = 0.5,
    communication_weight: float = 0.01,
) -> Problem:
    """Agents round-robin on `n_nodes` nodes (a ring, plus a chord from every third node
    to the opposite side), latency 1-5 ms per link, bandwidth 1000; `pair_share` x
    n_tasks communicating pairs, volume 1-10, mostly between neighbouring task ids
    (pipelines), some at random. Objective: cost + communication_weight x traffic
    latency."""
    if n_nodes < 2:
        raise ValueError(f"n_nodes is {n_nodes}; use 2 or more")
    rng = np.random.default_rng(seed)
    base = generate_attribute_problem(
        n_tasks,
        n_agents,
        seed,
        objectives=Objectives(weights={"cost": 1.0, "communication": communication_weight}),
    )
    nodes = [TopologyNode(id=f"n{k}") for k in range(n_nodes)]
    ends = {(k, (k + 1) % n_nodes) for k in range(n_nodes)}
    ends |= {(k, (k + n_nodes // 2) % n_nodes) for k in range(0, n_nodes, 3)}
    ends = {(min(a, b), max(a, b)) for a, b in ends if a != b}
    links = [
        Link(a=f"n{a}", b=f"n{b}", latency_ms=round(float(rng.uniform(1, 5)), 2), bandwidth=1000.0)
        for a, b in sorted(ends)
    ]
    agents = [
        agent.model_copy(update={"node": f"n{i % n_nodes}"}) for i, agent in enumerate(base.agents)
    ]
    pairs: set[tuple[int, int]] = set()
    for _ in range(max(1, int(pair_share * n_tasks))):
        a = int(rng.integers(0, n_tasks))
        b = a + 1 if rng.random() < 0.7 and a + 1 < n_tasks else int(rng.integers(0, n_tasks))
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    communication = [
        Communication(a=f"task{a}", b=f"task{b}", volume=round(float(rng.uniform(1, 10)), 2))
        for a, b in sorted(pairs)
    ]
    return base.model_copy(
        update={
            "name": f"networked-{n_tasks}x{n_agents}-{n_nodes}n-s{seed}",
            "agents": agents,
            "communication": communication,
            "topology": Topology(nodes=nodes, links=links),
        }
    )


def with_bandwidth(problem: Problem, bandwidth: float) -> Problem:
    """The same problem with every link's bandwidth set to `bandwidth`."""
    assert problem.topology is not None
    links = [link.model_copy(update={"bandwidth": bandwidth}) for link in problem.topology.links]
    topology = problem.topology.model_copy(update={"links": links})
    return problem.model_copy(update={"topology": topology})
