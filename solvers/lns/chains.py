"""Descent over every shift, swap and two-step ejection chain of a plan, vectorised.

Between the LNS's exact sub-solves (a few per second) this checks all moves of the
kinds Yagiura and Ibaraki's ejection-chain searches are built on, over all agents at
once: move one task (shift), exchange two tasks (swap), or move task j onto agent b
while b's task k moves on to a third agent (chain). A sub-solve over a few chosen
agents contains such a move only when it happens to pick all of its agents. Each round
takes the best improving feasible move; O(n^2) work per round.

Applies to plans whose score is a sum of per-pair costs (`pair_costs`) with every task
placed and no group rules; `applies` says when.
"""

from __future__ import annotations

import time

import numpy as np

from models import CompiledProblem

__all__ = ["applies", "descend"]

#: Tasks above which the n x n swap and chain tables are not built (memory, time).
MAX_TASKS = 2_000


def applies(problem: CompiledProblem, plan: np.ndarray) -> bool:
    """The descent's moves keep every rule of `problem` when this holds."""
    return (
        problem.n_tasks <= MAX_TASKS
        and bool((plan >= 0).all())
        and not problem.anti_affinity
        and not problem.co_location
        and len(problem.comm_pairs) == 0
        and problem.latency is None
    )


def descend(
    problem: CompiledProblem, plan: np.ndarray, cost: np.ndarray, deadline: float
) -> tuple[np.ndarray, int]:
    """(improved plan, moves made): best-improvement descent until no move helps or the
    clock passes `deadline` (time.perf_counter). `cost` is float[m, n], inf where a
    task may not go."""
    plan = plan.astype(np.int64).copy()
    usage = problem.usage.astype(np.float64)
    capacity = problem.capacity.astype(np.float64)
    load = _loads(usage, plan, problem.n_agents)
    count = np.bincount(plan, minlength=problem.n_agents)
    moves = 0
    while time.perf_counter() < deadline:
        move = _best_move(problem, plan, cost, usage, capacity, load, count)
        if move is None:
            break
        for task, dest in move:
            source = plan[task]
            load[source] -= usage[source, task]
            load[dest] += usage[dest, task]
            count[source] -= 1
            count[dest] += 1
            plan[task] = dest
        moves += 1
    return plan.astype(np.int32), moves


def _loads(usage: np.ndarray, plan: np.ndarray, m: int) -> np.ndarray:
    tasks = np.arange(len(plan))
    out = np.zeros((m, usage.shape[2]))
    for k in range(usage.shape[2]):
        out[:, k] = np.bincount(plan, weights=usage[plan, tasks, k], minlength=m)
    return out


def _best_move(
    problem: CompiledProblem,
    plan: np.ndarray,
    cost: np.ndarray,
    usage: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    count: np.ndarray,
) -> list[tuple[int, int]] | None:
    """The best improving move as (task, new agent) steps in order, or None."""
    n = len(plan)
    tasks = np.arange(n)
    here = cost[plan, tasks]  # float[n]
    room = capacity - load + 1e-9  # float[m, d]
    # Shift: task j to agent i.
    fits = np.all(usage <= room[:, None, :], axis=2) & (count < problem.max_tasks)[:, None]
    shift = np.where(fits, cost - here[None, :], np.inf)
    shift[plan, tasks] = np.inf
    best_shift = float(shift.min())
    # Best way for each task k to leave its agent (the chain's second step).
    leave = shift.min(axis=0)
    leave_to = shift.argmin(axis=0)
    # onto[j, k]: j moves onto k's agent b = plan[k] (k leaves b or swaps into j's agent).
    b = plan  # indexed by k
    onto = cost[b[None, :], tasks[:, None]] - here[:, None]  # C[b_k, j] - C[a_j, j]
    same = plan[:, None] == plan[None, :]
    # Room on b_k after j arrives and k leaves: room[b] + u[b,k] - u[b,j] >= 0.
    ok_b = np.ones((n, n), dtype=bool)
    for d in range(usage.shape[2]):
        u_bk = usage[b, tasks, d]  # float[n] (k)
        u_bj = usage[b[None, :], tasks[:, None], d]  # float[n(j), n(k)]
        ok_b &= u_bj <= room[b, d][None, :] + u_bk[None, :]
    chain = np.where(ok_b & ~same, onto + leave[None, :], np.inf)
    # Swap: k goes to j's agent a instead; room on a after k arrives and j leaves.
    a = plan  # indexed by j
    back = cost[a[:, None], tasks[None, :]] - here[None, :]  # C[a_j, k] - C[b_k, k]
    ok_a = np.ones((n, n), dtype=bool)
    for d in range(usage.shape[2]):
        u_aj = usage[a, tasks, d]
        u_ak = usage[a[:, None], tasks[None, :], d]
        ok_a &= u_ak <= room[a, d][:, None] + u_aj[:, None]
    swap = np.where(ok_b & ok_a & ~same, onto + back, np.inf)
    best_chain, best_swap = float(chain.min()), float(swap.min())
    best = min(best_shift, best_chain, best_swap)
    if not best < -1e-9:
        return None
    if best == best_shift:
        i, j = np.unravel_index(int(shift.argmin()), shift.shape)
        return [(int(j), int(i))]
    if best == best_swap:
        j, k = np.unravel_index(int(swap.argmin()), swap.shape)
        return [(int(j), int(plan[k])), (int(k), int(plan[j]))]
    j, k = np.unravel_index(int(chain.argmin()), chain.shape)
    # k leaves first so that b has room when j arrives; k's destination was checked
    # against loads before j left its agent, which only frees room.
    return [(int(k), int(leave_to[k])), (int(j), int(plan[k]))]
