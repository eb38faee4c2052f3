"""The workflow as plain Python lists, for the list scheduler's inner loops.

Scheduling walks predecessor lists one task at a time; numpy scalar access there is
several times slower than lists, so the compiled arrays are copied once into lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import CompiledProblem

__all__ = ["WorkflowGraph", "build_graph"]


@dataclass
class WorkflowGraph:
    """Tasks, agents, durations and transfer times of one workflow.

    Attributes:
        duration: duration[i][j] seconds of task j on agent i (float64 of the compiled value).
        preds / succs: per task, (other task, edge index) pairs.
        data: data volume per edge.
        per_data / fixed: per_data[a][b] seconds per data unit and fixed[a][b] latency seconds.
        topo: a topological order of the tasks.
        mean_per_data / mean_fixed: their means over ordered pairs of distinct agents.
    """

    n: int
    m: int
    duration: list[list[float]]
    preds: list[list[tuple[int, int]]]
    succs: list[list[tuple[int, int]]]
    data: list[float]
    per_data: list[list[float]]
    fixed: list[list[float]]
    topo: list[int]
    mean_per_data: float = 0.0
    mean_fixed: float = 0.0

    def transfer(self, edge: int, from_agent: int, to_agent: int) -> float:
        """Seconds edge `edge` delays its successor when run on these agents."""
        if from_agent == to_agent:
            return 0.0
        return (
            self.data[edge] * self.per_data[from_agent][to_agent] + self.fixed[from_agent][to_agent]
        )

    def mean_transfer(self, edge: int) -> float:
        """The transfer time averaged over ordered pairs of distinct agents (HEFT's estimate)."""
        return self.data[edge] * self.mean_per_data + self.mean_fixed


def build_graph(problem: CompiledProblem) -> WorkflowGraph:
    """Lists from the compiled arrays; a problem without dependencies has no edges."""
    n, m = problem.n_tasks, problem.n_agents
    preds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    succs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    flow = problem.workflow
    if flow is None:
        data: list[float] = []
        per_data = np.zeros((m, m))
        fixed = np.zeros((m, m))
        topo = list(range(n))
    else:
        for e, (p, s) in enumerate(zip(flow.pred.tolist(), flow.succ.tolist(), strict=True)):
            preds[s].append((p, e))
            succs[p].append((s, e))
        data = flow.data.tolist()
        per_data, fixed = flow.per_data, flow.fixed
        topo = flow.topological_order(n)
    off_diagonal = ~np.eye(m, dtype=bool)
    return WorkflowGraph(
        n=n,
        m=m,
        duration=problem.duration.astype(np.float64).tolist(),
        preds=preds,
        succs=succs,
        data=data,
        per_data=per_data.tolist(),
        fixed=fixed.tolist(),
        topo=topo,
        mean_per_data=float(per_data[off_diagonal].mean()) if m > 1 else 0.0,
        mean_fixed=float(fixed[off_diagonal].mean()) if m > 1 else 0.0,
    )
