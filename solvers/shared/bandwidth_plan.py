"""A plan under bandwidth repair: its resource use, task counts and shortest-path link
loads kept up to date move by move, and what a move would change (issue 15).

Shared by the greedy repair (`bandwidth_repair`) and its tabu phase (`bandwidth_tabu`).
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem
from models.placement_network import PlacementNetwork, link_use, node_traffic

__all__ = ["EPS", "TOLERANCE", "Links", "RepairPlan"]

EPS = 1e-9
TOLERANCE = 1e-6
#: The router is asked again once shortest-path overflow falls below this share of
#: what it was when the router last failed (moves past the point of fitting are sent
#: back by `_undo_needless`).
_ROUTE_AGAIN = 0.5


class Links:
    """Shortest-path link loads of a plan, and what moving one task does to them."""

    def __init__(self, net: PlacementNetwork):
        iu, ku = net.link_ends
        self.bandwidth = net.bandwidth[iu, ku]
        self.path = net.path  # link indices on the lowest-latency path between two nodes
        self.node = net.agent_node

    def add(self, load: np.ndarray, agent: int, other: int, volume: float, sign: float) -> None:
        """Add (sign +1) or take away (-1) `volume` between two agents' nodes."""
        if agent < 0 or other < 0:
            return
        u, w = int(self.node[agent]), int(self.node[other])
        if u >= 0 and w >= 0 and u != w:
            load[self.path(u, w)] += sign * volume  # a simple path: no link twice

    def overflow(self, load: np.ndarray) -> float:
        return float(np.maximum(load - self.bandwidth, 0.0).sum())


class RepairPlan:
    """A plan with its resource use, task counts and link loads kept up to date."""

    def __init__(self, problem: CompiledProblem, assignment: np.ndarray, links: Links):
        self.p, self.links = problem, links
        self.a = np.asarray(assignment, dtype=np.int64).copy()
        m, n = problem.n_agents, problem.n_tasks
        placed = np.flatnonzero(self.a >= 0)
        self.usage = np.zeros((m, problem.n_dims))
        for k in range(problem.n_dims):
            self.usage[:, k] = np.bincount(
                self.a[placed], weights=problem.usage[self.a[placed], placed, k], minlength=m
            )
        self.counts = np.bincount(self.a[placed], minlength=m)
        self.partners: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for (x, y), vol in zip(problem.comm_pairs.tolist(), problem.comm_volume, strict=True):
            self.partners[x].append((y, float(vol)))
            self.partners[y].append((x, float(vol)))
        self.load = np.zeros(len(links.bandwidth))
        for (x, y), vol in zip(problem.comm_pairs.tolist(), problem.comm_volume, strict=True):
            links.add(self.load, int(self.a[x]), int(self.a[y]), float(vol), 1.0)
        self.fixed = np.zeros(n, dtype=bool)
        for group in problem.co_location:
            self.fixed[group] = True
        self.room = problem.capacity * (1 + TOLERANCE) + TOLERANCE
        self.failed_at = np.inf  # shortest-path overflow when the router last failed
        # Agents each task has left during the repair: not gone back to (no cycling).
        self.tabu: dict[int, set[int]] = {}
        self.groups_of: list[list[np.ndarray]] = [[] for _ in range(n)]
        for group in problem.anti_affinity:
            for j in group.tolist():
                self.groups_of[j].append(group)

    def allowed_targets(self, j: int, *, room: bool = True) -> np.ndarray:
        """bool[m + 1]: the agents task j may move to keeping the hard rules, and (last)
        leaving it out where the request allows it; its own agent is not a move.
        `room=False` skips capacity and max_tasks (a swap makes room)."""
        p = self.p
        ok = p.eligible[:, j].copy()
        if room:
            ok &= self.counts + 1 <= p.max_tasks
            ok &= np.all(self.usage + p.usage[:, j, :] <= self.room, axis=1)
        for group in self.groups_of[j]:
            others = self.a[group[group != j]]
            ok[others[others >= 0]] = False
        out = np.append(ok, p.allow_unassigned)
        out[self.a[j]] = False  # index -1 is "unassigned": not a move when it is out
        for left in self.tabu.get(j, ()):
            out[left] = False
        return out

    def delta_load(self, j: int, i: int) -> np.ndarray:
        """Shortest-path link load change when task j moves to agent i (-1: out)."""
        delta = np.zeros_like(self.load)
        for k, vol in self.partners[j]:
            other = int(self.a[k])
            self.links.add(delta, int(self.a[j]), other, vol, -1.0)
            self.links.add(delta, i, other, vol, 1.0)
        return delta

    def delta_scores(self, j: int) -> np.ndarray:
        """float64[m + 1]: change of the plan's linear objectives (cost, communication,
        unassigned, migrations) when task j moves to each agent, or (last) out."""
        p, spec = self.p, self.p.objectives
        m, old = p.n_agents, int(self.a[j])
        here = old if old >= 0 else m
        value = np.zeros(m + 1)
        if spec.weight("cost"):
            value += spec.weight("cost") * np.append(p.cost[:, j].astype(np.float64), 0.0)
        if spec.weight("unassigned"):
            penalty = float(p.task_weight[j]) * p.unassigned_penalty
            value[m] += spec.weight("unassigned") * penalty
        if spec.weight("migrations") and p.current[j] >= 0:
            moved = np.ones(m + 1)
            moved[p.current[j]] = 0.0
            value += spec.weight("migrations") * moved
        if spec.weight("communication") and p.latency is not None:
            for k, vol in self.partners[j]:
                other = int(self.a[k])
                if other >= 0:
                    column = np.append(p.latency[:, other], 0.0)
                    value += spec.weight("communication") * vol * column
        return value - value[here]

    def move(self, j: int, i: int) -> None:
        old = int(self.a[j])
        self.load += self.delta_load(j, i)
        if old >= 0:
            self.usage[old] -= self.p.usage[old, j]
            self.counts[old] -= 1
        if i >= 0:
            self.usage[i] += self.p.usage[i, j]
            self.counts[i] += 1
        self.a[j] = i

    def within_capacity(self, agents: tuple[int, ...]) -> bool:
        return all(
            i < 0
            or (np.all(self.usage[i] <= self.room[i]) and self.counts[i] <= self.p.max_tasks[i])
            for i in agents
        )

    def fits(self, *, route: bool = False) -> bool:
        """Whether the plan's traffic fits: on shortest paths, else when the router fits
        it. The router (tens of ms) runs on the first call, then only once the
        shortest-path overflow has halved since it last failed, or when `route`."""
        overflow = self.links.overflow(self.load)
        if overflow <= TOLERANCE:
            return True
        if not route and overflow > _ROUTE_AGAIN * self.failed_at:
            return False
        net = self.p.network
        assert net is not None
        use = link_use(net, node_traffic(net, self.p.comm_pairs, self.p.comm_volume, self.a))
        if use is None or use.fits:
            return True
        self.failed_at = overflow
        return False
