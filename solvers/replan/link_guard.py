"""Which moves of a re-plan keep link bandwidth: the shortest-path overflow a move of one
task leaves on the topology's links (issue 15).

The re-plan's search scores moves by the plan's objectives, which ignore bandwidth; a
freed task's cheapest agent can sit across a link its traffic overloads. The search
asks this guard, per task, which agents leave no more overflow than needed: placing a
freed task takes the least overflow any agent gives, and moving a placed task must not
add overflow. Overflow is measured on lowest-latency paths (`bandwidth_plan.Links`, the
bandwidth repair's measure): a conservative stand-in for the evaluator's router, which
stays the judge; what the guard lets through is repaired after the search.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem
from models.placement_network import node_traffic
from solvers.shared.bandwidth_plan import EPS, Links

__all__ = ["LinkGuard"]


class LinkGuard:
    """Shortest-path link overflow of a plan and of moving one of its tasks."""

    def __init__(self, problem: CompiledProblem) -> None:
        net = problem.network
        self.problem = problem
        # Nothing to guard when no plan could overload a link (`may_overload` False).
        self.active = net is not None and net.may_overload and len(problem.comm_pairs) > 0
        self.partners: list[list[tuple[int, float]]] = [[] for _ in range(problem.n_tasks)]
        if not self.active:
            return
        assert net is not None
        self.links = Links(net)
        for (x, y), vol in zip(problem.comm_pairs.tolist(), problem.comm_volume, strict=True):
            self.partners[x].append((y, float(vol)))
            self.partners[y].append((x, float(vol)))
        self._key: np.ndarray | None = None
        self._load = np.zeros(0)

    def allowed(self, assignment: np.ndarray, j: int, agents: np.ndarray) -> np.ndarray | None:
        """bool[len(agents)]: the agents task j may go to without adding overflow beyond
        what is needed (None: every agent, as j's traffic cannot overload a link).

        A placed task may move where it adds no overflow; an unplaced one may go where
        it leaves no more than the plan has without it, or else the least any of
        `agents` leaves.
        """
        if not self.active or not self.partners[j] or not len(agents):
            return None
        a = np.asarray(assignment, dtype=np.int64)
        load = self._loads(a)
        links = self.links
        now = links.overflow(load)
        without = load.copy()
        for k, vol in self.partners[j]:
            links.add(without, int(a[j]), int(a[k]), vol, -1.0)
        after = np.empty(len(agents))
        by_node: dict[int, float] = {}
        for pos, i in enumerate(agents.tolist()):
            node = int(links.node[i])
            if node not in by_node:
                trial = without.copy()
                for k, vol in self.partners[j]:
                    links.add(trial, i, int(a[k]), vol, 1.0)
                by_node[node] = links.overflow(trial)
            after[pos] = by_node[node]
        limit = now if a[j] >= 0 else max(now, float(after.min()))
        return after <= limit + EPS

    def _loads(self, a: np.ndarray) -> np.ndarray:
        """Per-link shortest-path load of plan `a`, kept for the next call on the same plan."""
        if self._key is None or not np.array_equal(self._key, a):
            net = self.problem.network
            assert net is not None
            traffic = node_traffic(net, self.problem.comm_pairs, self.problem.comm_volume, a)
            self._key, self._load = a.copy(), net.shortest_loads(traffic)
        return self._load
