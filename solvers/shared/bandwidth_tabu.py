"""Tabu phase of the bandwidth repair: when no greedy step leads to a fitting plan.

The greedy repair (`bandwidth_repair`) only takes steps that lower shortest-path
overflow; a fitting plan often needs a few steps through plans no better than the
current one (a heavy pair brought together first overloads another link, which a
second move then clears). This phase walks: each iteration takes the neighbour with the
least shortest-path overflow (then the least score increase), even when that is worse,
among single moves of communicating tasks, moves of both ends of a communicating pair
to one agent, moves of all of one agent's communicating tasks to another agent (traffic
clusters in one step), and swaps of a task crossing an overloaded link with a task of
another agent. A task moved stays put for `tenure` iterations unless moving it reaches an
overflow below the best seen (aspiration). The router decides when the plan fits; when
the walk ends without a fit, the least-overflow plan seen is restored.
"""

from __future__ import annotations

import time

import numpy as np

from solvers.shared.bandwidth_plan import EPS, TOLERANCE, RepairPlan

__all__ = ["tabu_repair"]

#: Swap partners tried per (task, agent): bounds a neighbourhood on large agents.
_SWAP_PARTNERS = 4

Moves = list[tuple[int, int]]


def _communicating(plan: RepairPlan) -> np.ndarray:
    return np.array(
        [j for j, q in enumerate(plan.partners) if q and not plan.fixed[j]], dtype=np.int64
    )


def _crossing(plan: RepairPlan) -> set[int]:
    """Tasks whose traffic crosses a link over bandwidth on shortest paths."""
    over = plan.load > plan.links.bandwidth * (1 + TOLERANCE)
    node = plan.links.node
    out: set[int] = set()
    for x, y in plan.p.comm_pairs.tolist():
        ax, ay = int(plan.a[x]), int(plan.a[y])
        if min(ax, ay) < 0 or min(node[ax], node[ay]) < 0 or node[ax] == node[ay]:
            continue
        if over[plan.links.path(int(node[ax]), int(node[ay]))].any():
            out.update((x, y))
    return out


def _neighbours(
    plan: RepairPlan, movable: np.ndarray, deadline: float
) -> list[tuple[float, float, Moves]]:
    """Every neighbour worth scoring as (overflow after, score change, moves); those
    found by the deadline when it passes (a large plan's neighbourhood takes a while)."""
    m = plan.p.n_agents
    out: list[tuple[float, float, Moves]] = []
    for j in movable.tolist():
        if time.perf_counter() > deadline:
            return out
        allowed, scores = plan.allowed_targets(j), plan.delta_scores(j)
        node = np.append(plan.links.node, -2)  # "out" is a node of its own here
        over_at: dict[int, float] = {}  # link loads depend only on the target's node
        for i in np.flatnonzero(allowed).tolist():
            target = i if i < m else -1
            if node[i] not in over_at:
                delta = plan.delta_load(j, target)
                over_at[node[i]] = plan.links.overflow(plan.load + delta)
            out.append((over_at[node[i]], float(scores[i]), [(j, target)]))
    crossing = _crossing(plan)
    for x, y in plan.p.comm_pairs.tolist():
        if plan.fixed[x] or plan.fixed[y] or not ({x, y} & crossing):
            continue
        if time.perf_counter() > deadline:
            return out
        both = plan.allowed_targets(x, room=False)[:m] & plan.allowed_targets(y, room=False)[:m]
        for i in np.flatnonzero(both).tolist():
            out.extend(_scored(plan, [(x, i), (y, i)]))
    out.extend(_merges(plan, deadline))
    for j in sorted(crossing):
        if time.perf_counter() > deadline:
            return out
        home = int(plan.a[j])
        if plan.fixed[j] or home < 0:
            continue
        for i in np.flatnonzero(plan.allowed_targets(j, room=False)[:m]).tolist():
            on_i = np.flatnonzero(plan.a == i)
            for k in on_i[~plan.fixed[on_i]][:_SWAP_PARTNERS].tolist():
                if plan.allowed_targets(k, room=False)[home]:
                    out.extend(_scored(plan, [(j, i), (k, home)]))
    return out


def _merges(plan: RepairPlan, deadline: float) -> list[tuple[float, float, Moves]]:
    """Every movable communicating task of one agent onto another agent at once: traffic
    clusters form in one step that single moves reach only through worse plans."""
    m = plan.p.n_agents
    out: list[tuple[float, float, Moves]] = []
    talking = _communicating(plan)
    for source in np.unique(plan.a[talking]).tolist():
        if source < 0:
            continue
        tasks = talking[plan.a[talking] == source].tolist()
        for target in range(m):
            if time.perf_counter() > deadline:
                return out
            if target == source or not all(
                plan.allowed_targets(j, room=False)[target] for j in tasks
            ):
                continue
            out.extend(_scored(plan, [(j, target) for j in tasks]))
    return out


def _scored(plan: RepairPlan, moves: Moves) -> list[tuple[float, float, Moves]]:
    """[(overflow after, score change, moves)] of several moves made at once, or [] when
    they break capacity; the plan is left as it was."""
    back = [(j, int(plan.a[j])) for j, _ in moves]
    score = 0.0
    for j, i in moves:
        score += float(plan.delta_scores(j)[i if i >= 0 else plan.p.n_agents])
        plan.move(j, i)
    over = plan.links.overflow(plan.load)
    ok = plan.within_capacity(tuple(i for _, i in moves))
    for j, i in reversed(back):
        plan.move(j, i)
    return [(over, score, moves)] if ok else []


def tabu_repair(
    plan: RepairPlan, deadline: float, *, iterations: int = 300, tenure: int = 3
) -> bool:
    """Walk as the module says, changing `plan` in place; True when it fits."""
    movable = _communicating(plan)
    plan.tabu.clear()
    best_over, best = plan.links.overflow(plan.load), plan.a.copy()
    frozen_until: dict[int, int] = {}
    for step in range(iterations):
        if time.perf_counter() > deadline:
            break
        options = [
            (over, score, moves)
            for over, score, moves in _neighbours(plan, movable, deadline)
            if over < best_over - EPS or all(frozen_until.get(j, -1) < step for j, _ in moves)
        ]
        if not options:
            break
        over, _, moves = min(options, key=lambda o: (round(o[0], 9), o[1]))
        for j, i in moves:
            plan.move(j, i)
            frozen_until[j] = step + tenure
        improved = over < best_over - EPS
        if improved:
            best_over, best = over, plan.a.copy()
        if plan.fits(route=improved or over <= TOLERANCE):
            return True
    for j in np.flatnonzero(plan.a != best).tolist():
        plan.move(j, int(best[j]))
    return False
