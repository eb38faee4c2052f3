"""The workflow NSGA-II's genome and its operators: an agent per task and a task order.

A genome is `(agent, order)`: `order` is always a topological order of the tasks, the
list scheduler's priority (`decode.decode` places tasks in it, each in its agent's
earliest gap). The operators keep it topological without a check:
- order crossover takes a prefix of one parent (a set closed under predecessors) and
  the other tasks in the other parent's order, so every task follows its predecessors;
- order mutation moves a task within its window (after its last predecessor, before
  its first successor);
- agent genes are drawn from each task's eligible agents (capabilities and pins), and
  `repair` re-places the genes that break capacity, max_tasks or groups.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.rules import PlacementRules

__all__ = ["Genome", "GenomeOps"]

#: Share of agent mutations that move a task to a predecessor's or successor's agent.
_NEIGHBOUR_SHARE = 0.5

Genome = tuple[list[int], list[int]]  # (agent per task, topological order of the tasks)


class GenomeOps:
    """Crossover, mutation and repair for one workflow problem."""

    def __init__(self, problem: CompiledProblem, graph: WorkflowGraph, rng: np.random.Generator):
        self.problem, self.graph, self.rng = problem, graph, rng
        self.eligible = [np.flatnonzero(problem.eligible[:, j]).tolist() for j in range(graph.n)]
        # Without capacities in use, binding max_tasks or groups, eligible genes are enough.
        self.needs_repair = bool(
            np.any(problem.usage > 0)
            or np.any(problem.max_tasks < graph.n)
            or len(problem.anti_affinity)
            or len(problem.co_location)
        )
        grouped = {j for group in problem.co_location for j in group.tolist()}
        self.placing_order = sorted(
            range(graph.n), key=lambda j: (len(self.eligible[j]), j not in grouped)
        )

    def crossover(self, a: Genome, b: Genome) -> Genome:
        """Uniform crossover of the agents; a prefix of a's order, the rest in b's order."""
        n = self.graph.n
        take_a = self.rng.random(n) < 0.5
        agent = [x if t else y for x, y, t in zip(a[0], b[0], take_a.tolist(), strict=True)]
        cut = int(self.rng.integers(0, n + 1))
        head = a[1][:cut]
        taken = set(head)
        order = head + [j for j in b[1] if j not in taken]
        return agent, order

    def mutate(self, genome: Genome, rate: float) -> Genome:
        """Each agent gene re-drawn with probability `rate`; a few tasks moved in the order."""
        agent, order = list(genome[0]), list(genome[1])
        n = self.graph.n
        graph = self.graph
        for j in np.flatnonzero(self.rng.random(n) < rate).tolist():
            choices = self.eligible[j]
            near = graph.preds[j] + graph.succs[j]
            if near and self.rng.random() < _NEIGHBOUR_SHARE:
                # Join a neighbour's agent: that edge's transfer becomes free.
                i = agent[near[int(self.rng.integers(0, len(near)))][0]]
                if self.problem.eligible[i, j]:
                    agent[j] = i
                    continue
            if choices:
                agent[j] = choices[int(self.rng.integers(0, len(choices)))]
        moves = int(self.rng.binomial(n, rate)) if n else 0
        for _ in range(moves):
            self._move_in_order(order, int(self.rng.integers(0, n)))
        return agent, order

    def _move_in_order(self, order: list[int], j: int) -> None:
        """Move task j to a random place after its predecessors and before its successors."""
        del order[order.index(j)]
        graph = self.graph
        # list.index scans in C: a few scans beat building a position map in Python.
        low = max((order.index(p) + 1 for p, _ in graph.preds[j]), default=0)
        high = min((order.index(s) for s, _ in graph.succs[j]), default=len(order))
        order.insert(int(self.rng.integers(low, high + 1)), j)

    def legalise(self, agent: list[int]) -> list[int] | None:
        """A caller's plan with each ineligible or missing gene on its fastest eligible agent."""
        out = list(agent)
        eligible, duration = self.problem.eligible, self.graph.duration
        for j, i in enumerate(agent):
            if i < 0 or not eligible[i, j]:
                if not self.eligible[j]:
                    return None
                out[j] = min(self.eligible[j], key=lambda x: duration[x][j])
        return out

    def repair(self, genome: Genome) -> Genome | None:
        """The genome with every allocation rule kept, or None when some task fits nowhere.

        Tasks with the fewest eligible agents are placed first (pinned and rare-capability
        tasks before the others fill their agents), co-located ones first among equals
        (a group's later members must join the first); a gene that breaks a rule moves to
        the allowed agent where the task runs fastest. The order is left as it is.
        """
        agent, order = genome
        if not self.needs_repair:
            return genome  # operators and `legalise` only draw eligible agents
        rules = PlacementRules(self.problem)
        fixed = list(agent)
        duration = self.graph.duration
        for j in self.placing_order:
            i = fixed[j]
            if not rules.fits(j, i):
                allowed = rules.allowed(j)
                if not allowed:
                    return None
                i = min(allowed, key=lambda x: duration[x][j])
            rules.add(j, i)
            fixed[j] = i
        return fixed, order
