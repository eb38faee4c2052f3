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
from models.placement_network import node_traffic
from models.topology_routing import route_within_bandwidth
from solvers.shared.bandwidth_plan import EPS, TOLERANCE, Links, RepairPlan
from solvers.shared.bandwidth_tabu import tabu_repair

__all__ = ["BandwidthRepair", "repair_bandwidth"]


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


def _crossing_overload(plan: RepairPlan) -> list[int]:
    """Movable tasks whose traffic crosses a link over bandwidth (on shortest paths)."""
    over = plan.load > plan.links.bandwidth * (1 + TOLERANCE)
    out: set[int] = set()
    node = plan.links.node
    for x, y in plan.p.comm_pairs.tolist():
        ax, ay = int(plan.a[x]), int(plan.a[y])
        if ax < 0 or ay < 0 or node[ax] < 0 or node[ay] < 0 or node[ax] == node[ay]:
            continue
        if over[plan.links.path(int(node[ax]), int(node[ay]))].any():
            out.update((x, y))
    return sorted(j for j in out if not plan.fixed[j])


def _best_move(plan: RepairPlan) -> tuple[int, int] | None:
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
        useful = allowed & (gain > EPS)
        if not useful.any():
            continue
        ratio = np.where(useful, plan.delta_scores(j) / np.where(useful, gain, 1.0), np.inf)
        i = int(np.argmin(ratio))
        if ratio[i] < best_ratio:
            best, best_ratio = (j, i if i < m else -1), float(ratio[i])
    return best


def _best_swap(plan: RepairPlan, max_partners: int = 40) -> list[tuple[int, int]] | None:
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
            if plan.links.overflow(plan.load + plan.delta_load(j, i)) >= overflow - EPS:
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


def _try(plan: RepairPlan, moves: list[tuple[int, int]], overflow: float, score: float) -> float:
    """Score per unit of overflow removed by `moves` (inf when they break capacity or
    remove none); the plan is left as it was."""
    back = [(j, int(plan.a[j])) for j, _ in moves]
    for j, i in moves:
        plan.move(j, i)
    ok = plan.within_capacity(tuple(i for _, i in moves))
    gain = overflow - plan.links.overflow(plan.load)
    for j, i in reversed(back):
        plan.move(j, i)
    return score / gain if ok and gain > EPS else np.inf


def _routed_overflow(plan: RepairPlan) -> float:
    """Traffic over bandwidth summed over links once routed around full links (the
    heuristic router alone: the exact LP says only whether it fits, not by how much)."""
    net = plan.p.network
    assert net is not None
    traffic = node_traffic(net, plan.p.comm_pairs, plan.p.comm_volume, plan.a)
    if not traffic.any():
        return 0.0
    routed = route_within_bandwidth(
        net.adjacency, net.latency, net.bandwidth, traffic, scale_steps=0
    )
    iu, ku = net.link_ends
    return float(np.maximum(routed.loads[iu, ku] - plan.links.bandwidth, 0.0).sum())


def _best_routed_move(plan: RepairPlan, deadline: float) -> list[tuple[int, int]] | None:
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
            if gain > EPS and scores[i] / gain < best_ratio:
                best, best_ratio = step, float(scores[i] / gain)
    return best


def repair_bandwidth(
    problem: CompiledProblem,
    assignment: np.ndarray,
    *,
    time_limit_s: float = 1.0,
    fixed: np.ndarray | None = None,
) -> BandwidthRepair:
    """Move communicating tasks until the plan's routed traffic fits every link.

    `fixed` (bool[n]) marks tasks that must stay where they are, as co-located ones do
    (a re-plan's pins and the kept tasks its move budget cannot afford to move).

    Returns the plan unchanged (moved 0) when there is no network or it already fits.
    When no sequence of moves fits within `time_limit_s`, returns the least-overflow
    plan reached, `fits` False. Cost per step: O(tasks with traffic x agents x degree
    x path length), plus one routing when shortest paths overflow.
    """
    a = np.asarray(assignment, dtype=np.int64)
    if problem.network is None:
        return BandwidthRepair(a, 0, True)
    deadline = time.perf_counter() + time_limit_s
    plan = RepairPlan(problem, a, Links(problem.network))
    if fixed is not None:
        plan.fixed |= np.asarray(fixed, dtype=bool)
    if plan.fits():
        return BandwidthRepair(a, 0, True)
    moves: list[tuple[int, int]] = []
    fits = False
    while time.perf_counter() < deadline:
        single = _best_move(plan)
        step = [single] if single is not None else _best_swap(plan)
        routed = step is None
        if routed:
            # One routing per candidate: at most half the time left, so the tabu
            # phase below still gets its turn.
            now = time.perf_counter()
            step = _best_routed_move(plan, now + 0.5 * (deadline - now))
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
    if not fits and time.perf_counter() < deadline:
        # The greedy's end can be a dead end: the walk starts from the plan as given, and
        # from the greedy's end only when that fails.
        reached = plan.a.copy()
        _go_to(plan, a)
        fits = tabu_repair(plan, deadline)
        if not fits:
            _go_to(plan, reached)
            fits = tabu_repair(plan, deadline)
        moves = [(int(j), int(a[j])) for j in np.flatnonzero(plan.a != a)]
    plan.tabu.clear()
    if fits:
        _undo_needless(plan, moves, deadline)
    moved = int((plan.a != a).sum())
    return BandwidthRepair(plan.a.copy(), moved, fits)


def _go_to(plan: RepairPlan, target: np.ndarray) -> None:
    """Move every task to its agent in `target`."""
    for j in np.flatnonzero(plan.a != target).tolist():
        plan.move(j, int(target[j]))


def _undo_needless(plan: RepairPlan, moves: list[tuple[int, int]], deadline: float) -> None:
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
