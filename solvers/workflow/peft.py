"""PEFT's optimistic cost table (Arabnejad and Barbosa, 2014): a second list-scheduling start.

OCT[j, k] is the shortest time from the end of task j on agent k to the end of the
workflow when every later task takes its best agent, paying the mean transfer only when
it changes agent. PEFT orders tasks by the mean of OCT over agents and places each on
the agent minimising earliest finish + OCT, which looks one step past HEFT's choice;
it tends to win where transfers are expensive.
"""

from __future__ import annotations

import numpy as np

from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.rules import PlacementRules

__all__ = ["optimistic_cost_table", "peft_ranks"]


def optimistic_cost_table(graph: WorkflowGraph, rules: PlacementRules) -> np.ndarray:
    """float64[n, m]; inf on agents a task can never use. O(e * m) in numpy."""
    n, m = graph.n, graph.m
    duration = np.array(graph.duration, dtype=np.float64).reshape(m, n)
    usable = np.zeros((m, n), dtype=bool)
    for j in range(n):
        usable[rules.eligible[j], j] = True
    duration = np.where(usable, duration, np.inf)
    table = np.zeros((n, m))
    for j in reversed(graph.topo):
        row = table[j]
        for s, e in graph.succs[j]:
            after = table[s] + duration[:, s]
            best = after.min()
            if not np.isfinite(best):
                continue
            np.maximum(row, np.minimum(after, best + graph.mean_transfer(e)), out=row)
    return table


def peft_ranks(table: np.ndarray, rules: PlacementRules) -> list[float]:
    """PEFT's priority: each task's mean OCT over the agents it may use."""
    return [
        float(table[j, agents].mean()) if agents else 0.0 for j, agents in enumerate(rules.eligible)
    ]
