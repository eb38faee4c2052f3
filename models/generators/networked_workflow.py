"""Workflows whose dependencies also talk over a ring of links (issue 15 benchmarks).

A layered workflow (`generate_workflow_problem`) with agent i on node i of a ring with
one chord (n0 to the opposite node), link latency 1-3 ms and one bandwidth for every
link; every dependency also carries 1 unit of traffic, so a plan spreading a chain over
the ring loads its links, and tight links force the plan together.
"""

from __future__ import annotations

import numpy as np

from models.generators.workflow import generate_workflow_problem
from models.schema import Problem

__all__ = ["generate_ring_workflow"]


def generate_ring_workflow(
    seed: int, bandwidth: float, *, n_tasks: int = 30, n_agents: int = 6, ccr: float = 5.0
) -> Problem:
    """One ring workflow (objective: makespan)."""
    doc = generate_workflow_problem(n_tasks, n_agents, ccr, seed).model_dump(
        mode="json", exclude_none=True
    )
    m = n_agents
    for i, agent in enumerate(doc["agents"]):
        agent["node"] = f"n{i}"
    rng = np.random.default_rng(seed)
    links = [
        {
            "a": f"n{i}",
            "b": f"n{(i + 1) % m}",
            "latency_ms": float(rng.integers(1, 4)),
            "bandwidth": bandwidth,
        }
        for i in range(m)
    ]
    links.append({"a": "n0", "b": f"n{m // 2}", "latency_ms": 1.0, "bandwidth": bandwidth})
    doc["topology"] = {"nodes": [{"id": f"n{i}"} for i in range(m)], "links": links}
    doc["communication"] = [
        {"a": p["task"], "b": t["id"], "volume": 1.0}
        for t in doc["tasks"]
        for p in t.get("after", [])
    ]
    return Problem.model_validate(doc)
