"""Penalty-guided repair of a plan whose communication loads a link past its bandwidth.

Engines that do not model bandwidth (the regret heuristic, CP-SAT, the MILP, NSGA-II)
place communicating tasks by latency and cost alone; `evaluate_plan` then flags links
over bandwidth. This repair moves communicating tasks (or, where the request allows,
leaves them out) until the routed traffic fits: each step takes the move with the least
score increase per unit of overflow removed, overflow measured on shortest-path link
loads (cheap, incremental), and the real router (`models.placement_network.link_use`)
decides when the plan fits. Moves keep every other hard constraint (eligibility,
capacity, max_tasks, anti-affinity; co-located tasks stay put); when no single move
helps (the agents that would help are full), a swap with a task of the target agent.
Afterwards each moved task goes back where it was if the plan still fits without it,
cheapest first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models import CompiledProblem
from models.placement_network import PlacementNetwork, link_use, node_traffic

__all__ = ["BandwidthRepair", "repair_bandwidth"]

_EPS = 1e-9
_TOLERANCE = 1e-6
#: The router is asked again once shortest-path overflow falls below this share of
#: what it was when the router last failed (moves past the point of fitting are sent
#: back by `_undo_needless`).
_ROUTE_AGAIN = 0.5


@dataclass(frozen=True)
class BandwidthRepair:
    """The repaired plan, how many tasks it moved, and whether its traffic now fits."""

    assignment: np.ndarray
    moved: int
    fits: bool

    def note(self) -> str:
        if self.fits:
            return f"bandwidth repair moved {self.moved} communicating task(s) so every link fits"
        return (
            f"bandwidth repair moved {self.moved} task(s) but found no plan within every "
            "link's bandwidth"
        )


class _Links:
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


class _Plan:
    """A plan with its resource use, task counts and link loads kept up to date."""

    def __init__(self, problem: CompiledProblem, assignment: np.ndarray, links: _Links):
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
        self.room = problem.capacity * (1 + _TOLERANCE) + _TOLERANCE
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
        if overflow <= _TOLERANCE:
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


def _crossing_overload(plan: _Plan) -> list[int]:
    """Movable tasks whose traffic crosses a link over bandwidth (on shortest paths)."""
    over = plan.load > plan.links.bandwidth * (1 + _TOLERANCE)
    out: set[int] = set()
    node = plan.links.node
    for x, y in plan.p.comm_pairs.tolist():
        ax, ay = int(plan.a[x]), int(plan.a[y])
        if ax < 0 or ay < 0 or node[ax] < 0 or node[ay] < 0 or node[ax] == node[ay]:
            continue
        if over[plan.links.path(int(node[ax]), int(node[ay]))].any():
            out.update((x, y))
    return sorted(j for j in out if not plan.fixed[j])


def _best_move(plan: _Plan) -> tuple[int, int] | None:
    """The move removing shortest-path overflow at the least score per unit removed.

    Load changes depend only on the target's node, so they are counted once per node.
    """
    overflow = plan.links.overflow(plan.load)
    m = plan.p.n_agents
    target_node = np.append(plan.links.node, -1)  # last: leaving the task out
    best, best_ratio = None, np.inf
    for j in _crossing_overload(plan):
        allowed = plan.allowed_targets(j)
        if not allowed.any():
            continue
        gain = np.zeros(m + 1)
        for node in np.unique(target_node[allowed]).tolist():
            i = int(np.flatnonzero(allowed & (target_node == node))[0])
            after = plan.links.overflow(plan.load + plan.delta_load(j, i if i < m else -1))
            gain[target_node == node] = overflow - after
        useful = allowed & (gain > _EPS)
        if not useful.any():
            continue
        ratio = np.where(useful, plan.delta_scores(j) / np.where(useful, gain, 1.0), np.inf)
        i = int(np.argmin(ratio))
        if ratio[i] < best_ratio:
            best, best_ratio = (j, i if i < m else -1), float(ratio[i])
    return best


def _best_swap(plan: _Plan, max_partners: int = 40) -> list[tuple[int, int]] | None:
    """When no single move helps (agents full): task j to agent i and a task k of i to
    j's agent, the pair removing overflow at the least score per unit removed."""
    overflow = plan.links.overflow(plan.load)
    best: list[tuple[int, int]] | None = None
    best_ratio = np.inf
    for j in _crossing_overload(plan):
        home = int(plan.a[j])
        if home < 0:
            continue
        targets = np.flatnonzero(plan.allowed_targets(j, room=False)[:-1])
        scores_j = plan.delta_scores(j)
        for i in targets.tolist():
            if plan.links.overflow(plan.load + plan.delta_load(j, i)) >= overflow - _EPS:
                continue
            on_i = np.flatnonzero(plan.a == i)
            for k in on_i[~plan.fixed[on_i]][:max_partners].tolist():
                if not plan.allowed_targets(k, room=False)[home]:
                    continue
                swap = [(j, i), (k, home)]
                ratio = _try(plan, swap, overflow, float(scores_j[i] + plan.delta_scores(k)[home]))
                if ratio < best_ratio:
                    best, best_ratio = swap, ratio
    return best


def _try(plan: _Plan, moves: list[tuple[int, int]], overflow: float, score: float) -> float:
    """Score per unit of overflow removed by `moves` (inf when they break capacity or
    remove none); the plan is left as it was."""
    back = [(j, int(plan.a[j])) for j, _ in moves]
    for j, i in moves:
        plan.move(j, i)
    ok = plan.within_capacity(tuple(i for _, i in moves))
    gain = overflow - plan.links.overflow(plan.load)
    for j, i in reversed(back):
        plan.move(j, i)
    return score / gain if ok and gain > _EPS else np.inf


def _routed_overflow(plan: _Plan) -> float:
    """Traffic over bandwidth summed over links once routed around full links."""
    net = plan.p.network
    assert net is not None
    use = link_use(net, node_traffic(net, plan.p.comm_pairs, plan.p.comm_volume, plan.a))
    if use is None:
        return 0.0
    iu, ku = net.link_ends
    return float(np.maximum(use.routing.loads[iu, ku] - plan.links.bandwidth, 0.0).sum())


def _best_routed_move(plan: _Plan, deadline: float) -> list[tuple[int, int]] | None:
    """When shortest-path overflow shows no way on: single moves of any communicating
    task (its traffic need not cross a full link: moving it can free a detour), scored
    by what the router leaves over bandwidth. One routing per candidate: the last resort."""
    overflow = _routed_overflow(plan)
    m = plan.p.n_agents
    target_node = np.append(plan.links.node, -1)
    best, best_ratio = None, np.inf
    for j in np.flatnonzero(
        [bool(q) and not f for q, f in zip(plan.partners, plan.fixed, strict=True)]
    ):
        allowed = plan.allowed_targets(int(j))
        scores = plan.delta_scores(int(j))
        for node in np.unique(target_node[allowed]).tolist():
            if time.perf_counter() > deadline:
                return best
            choices = np.flatnonzero(allowed & (target_node == node))
            i = int(choices[np.argmin(scores[choices])])
            step = [(int(j), i if i < m else -1)]
            back = int(plan.a[j])
            plan.move(*step[0])
            gain = overflow - _routed_overflow(plan)
            plan.move(int(j), back)
            if gain > _EPS and scores[i] / gain < best_ratio:
                best, best_ratio = step, float(scores[i] / gain)
    return best


def repair_bandwidth(
    problem: CompiledProblem, assignment: np.ndarray, *, time_limit_s: float = 1.0
) -> BandwidthRepair:
    """Move communicating tasks until the plan's routed traffic fits every link.

    Returns the plan unchanged (moved 0) when there is no network or it already fits.
    When no sequence of moves fits within `time_limit_s`, returns the least-overflow
    plan reached, `fits` False. Cost per step: O(tasks with traffic x agents x degree
    x path length), plus one routing when shortest paths overflow.
    """
    a = np.asarray(assignment, dtype=np.int64)
    if problem.network is None:
        return BandwidthRepair(a, 0, True)
    deadline = time.perf_counter() + time_limit_s
    plan = _Plan(problem, a, _Links(problem.network))
    if plan.fits():
        return BandwidthRepair(a, 0, True)
    moves: list[tuple[int, int]] = []
    fits = False
    while time.perf_counter() < deadline:
        single = _best_move(plan)
        step = [single] if single is not None else _best_swap(plan)
        routed = step is None
        if routed:
            step = _best_routed_move(plan, deadline)
        if step is None:
            break
        for j, i in step:
            moves.append((j, int(plan.a[j])))
            plan.tabu.setdefault(j, set()).add(int(plan.a[j]))
            plan.move(j, i)
        if plan.fits(route=routed):
            fits = True
            break
    fits = fits or plan.fits(route=True)
    plan.tabu.clear()
    if fits:
        _undo_needless(plan, moves, deadline)
    moved = int((plan.a != a).sum())
    return BandwidthRepair(plan.a.copy(), moved, fits)


def _undo_needless(plan: _Plan, moves: list[tuple[int, int]], deadline: float) -> None:
    """Send moved tasks back to their first agent while the plan still fits, the moves
    saving most score first."""
    first: dict[int, int] = {}
    for j, origin in moves:
        first.setdefault(j, origin)

    def saving(j: int, origin: int) -> float:
        return float(plan.delta_scores(j)[origin])  # index -1: leaving it out

    for j, origin in sorted(first.items(), key=lambda item: saving(*item)):
        if time.perf_counter() > deadline:
            return
        here = int(plan.a[j])
        if here == origin or saving(j, origin) >= 0 or not plan.allowed_targets(j)[origin]:
            continue
        plan.move(j, origin)
        if not plan.fits(route=True):
            plan.move(j, here)
