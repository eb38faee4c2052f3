"""Exact deltas of moving every task, at once, onto one agent (the inverse recommendation).

Vectorised over tasks: the removal side uses per-agent suffix sums in evaluate_plan's
run order, the placing side compares each task with the target agent's queue. Cost:
O(n * tasks on the target + sum over agents of (tasks on it)^2) for tardiness.
"""

from __future__ import annotations

import numpy as np

from models.plan_state import PlanState, objective_index

__all__ = ["move_all_to_agent"]

_COST, _MAKESPAN, _WC = (
    objective_index("cost"),
    objective_index("makespan"),
    objective_index("weighted_completion"),
)
_CONS, _IMB, _UNAS = (
    objective_index("consolidation"),
    objective_index("imbalance"),
    objective_index("unassigned"),
)
_MIG, _TARD, _COMM = (
    objective_index("migrations"),
    objective_index("tardiness"),
    objective_index("communication"),
)


def move_all_to_agent(state: PlanState, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tasks not on agent b, their objective deltas [k, 9] if moved there, and feasibility."""
    p, a = state.problem, state.assignment
    tasks = np.flatnonzero(a != b)
    src = a[tasks]
    placed = src >= 0
    k = len(tasks)
    out = np.zeros((k, 9), dtype=np.float64)
    w = p.task_weight[tasks]
    d_src = np.where(placed, p.duration[np.maximum(src, 0), tasks].astype(np.float64), 0.0)
    d_b = p.duration[b, tasks].astype(np.float64)
    cost_src = p.cost[np.maximum(src, 0), tasks].astype(np.float64)  # float32 would round
    out[:, _COST] = p.cost[b, tasks].astype(np.float64) - np.where(placed, cost_src, 0.0)
    out[:, _UNAS] = np.where(placed, 0.0, -w * p.unassigned_penalty)
    cur = p.current[tasks]
    out[:, _MIG] = np.where(cur >= 0, (cur != b).astype(float) - (src != cur).astype(float), 0.0)
    out[:, _CONS] = _consolidation_change(state, tasks, src, placed, b)
    out[:, _COMM] = _communication_change(state, tasks, src, b)
    after_w, tard_rem = _removal_queue(state, tasks, placed, d_src)
    before_b, after_b_w, tard_add = _placing_queue(state, tasks, b, d_b)
    c_j = state.completion[tasks]
    dl = p.deadline[tasks]
    c_new = before_b + d_b
    own_tard = np.where(placed, w * np.maximum(0.0, c_j - dl), 0.0)
    out[:, _TARD] = tard_rem + tard_add - own_tard + w * np.maximum(0.0, c_new - dl)
    wc_sum = (
        state.wc_sum
        - np.where(placed, w * c_j + d_src * after_w, 0.0)
        + w * c_new
        + d_b * after_b_w
    )
    w_sum = state.w_sum - np.where(placed, w, 0.0) + w
    ev = state.evaluation.objectives
    out[:, _WC] = wc_sum / w_sum - ev["weighted_completion"]
    makespan = _makespans(state.load, src, placed, d_src, b, d_b)
    out[:, _MAKESPAN] = makespan - ev["makespan"]
    mean = (float(state.load.sum()) - d_src + d_b) / p.n_agents
    out[:, _IMB] = makespan - mean - ev["imbalance"]
    return tasks, out, _feasible(state, tasks, b)


def _consolidation_change(
    state: PlanState, tasks: np.ndarray, src: np.ndarray, placed: np.ndarray, b: int
) -> np.ndarray:
    p = state.problem
    bs = np.full(len(tasks), b)
    u_b = p.usage[b, tasks].astype(np.float64)
    gain = state.consolidation_terms(state.usage[b] + u_b, state.counts[bs] + 1, bs)
    gain -= state.consolidation_terms(state.usage[bs], state.counts[bs], bs)
    s = np.maximum(src, 0)
    u_s = p.usage[s, tasks].astype(np.float64)
    loss = state.consolidation_terms(state.usage[s] - u_s, state.counts[s] - 1, s)
    loss -= state.consolidation_terms(state.usage[s], state.counts[s], s)
    return gain + np.where(placed, loss, 0.0)


def _communication_change(
    state: PlanState, tasks: np.ndarray, src: np.ndarray, b: int
) -> np.ndarray:
    lat = state.problem.latency
    out = np.zeros(len(tasks), dtype=np.float64)
    if lat is None or not len(state.comm_other):
        return out
    ptr, other, vol = state.comm_ptr, state.comm_other, state.comm_volume
    owner = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))  # task index of each edge
    other_agent = state.assignment[other]
    me = state.assignment[owner]
    live = other_agent >= 0
    change = np.where(live, vol * lat[b, np.maximum(other_agent, 0)], 0.0)
    change -= np.where(
        live & (me >= 0), vol * lat[np.maximum(me, 0), np.maximum(other_agent, 0)], 0.0
    )
    per_task = np.bincount(owner, change, minlength=len(ptr) - 1)
    return per_task[tasks]


def _run_order(state: PlanState) -> np.ndarray:
    p, a = state.problem, state.assignment
    idx = np.flatnonzero(a >= 0)
    return idx[np.lexsort((idx, p.deadline[idx], p.priority_rank[idx], a[idx]))]


def _removal_queue(
    state: PlanState, tasks: np.ndarray, placed: np.ndarray, d_src: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per task: weight queued after it on its agent, and the tardiness its leaving removes."""
    p, a = state.problem, state.assignment
    n = p.n_tasks
    order = _run_order(state)
    agent_of = a[order]
    w = p.task_weight[order]
    # Suffix sums within each agent's run: weight of the tasks after each one.
    total = np.cumsum(w[::-1])[::-1]
    starts = np.r_[True, agent_of[1:] != agent_of[:-1]]
    group = np.cumsum(starts) - 1
    ends = np.r_[np.flatnonzero(starts)[1:], len(order)]
    tail = np.r_[total, 0.0][ends[group]]  # weight of later agents' tasks
    after_w_all = np.zeros(n, dtype=np.float64)
    after_w_all[order] = total - w - tail
    tard = np.zeros(n, dtype=np.float64)
    d_own = np.zeros(n, dtype=np.float64)
    d_own[tasks] = d_src
    due = np.isfinite(p.deadline[order])
    for g0, g1 in zip(np.flatnonzero(starts).tolist(), ends.tolist(), strict=True):
        run = order[g0:g1]
        due_run = run[due[g0:g1]]
        if not len(due_run):
            continue
        pos = np.arange(g0, g1)[due[g0:g1]] - g0
        c, dl, wt = state.completion[due_run], p.deadline[due_run], p.task_weight[due_run]
        # [j, t]: t runs after j, and finishes d_own[j] earlier once j leaves.
        later = pos[None, :] > np.arange(len(run))[:, None]
        shifted = np.maximum(0.0, c[None, :] - d_own[run][:, None] - dl[None, :])
        tard[run] = ((shifted - np.maximum(0.0, c - dl)[None, :]) * wt[None, :] * later).sum(axis=1)
    return np.where(placed, after_w_all[tasks], 0.0), np.where(placed, tard[tasks], 0.0)


def _placing_queue(
    state: PlanState, tasks: np.ndarray, b: int, d_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per task placed on b: busy time before it, weight after it, tardiness it adds to others."""
    p = state.problem
    queue = state.agent_tasks[b]
    rank, dl = p.priority_rank, p.deadline
    before = (rank[queue][None, :] < rank[tasks][:, None]) | (
        (rank[queue][None, :] == rank[tasks][:, None])
        & (
            (dl[queue][None, :] < dl[tasks][:, None])
            | ((dl[queue][None, :] == dl[tasks][:, None]) & (queue[None, :] < tasks[:, None]))
        )
    )
    dur = state.own_duration[queue]
    wq = p.task_weight[queue]
    c, dq = state.completion[queue], dl[queue]
    extra = wq[None, :] * (
        np.maximum(0.0, c[None, :] + d_b[:, None] - dq[None, :]) - np.maximum(0.0, c - dq)[None, :]
    )
    return before @ dur, (~before) @ wq, np.where(~before, extra, 0.0).sum(axis=1)


def _makespans(
    load: np.ndarray,
    src: np.ndarray,
    placed: np.ndarray,
    d_src: np.ndarray,
    b: int,
    d_b: np.ndarray,
) -> np.ndarray:
    m = len(load)
    top = np.argsort(load)[::-1][:3]
    top_loads = np.r_[load[top], [-np.inf] * (3 - len(top))]
    top = np.r_[top, [-1] * (3 - len(top))]
    # The largest load on an agent that is neither the task's agent nor b.
    best_other = np.full(len(src), -np.inf)
    for rank in range(2, -1, -1):
        usable = (top[rank] != src) & (top[rank] != b) & (top[rank] >= 0)
        best_other = np.where(usable, top_loads[rank], best_other)
    new_src = np.where(placed, load[np.maximum(src, 0)] - d_src, -np.inf)
    return np.maximum(np.maximum(best_other, new_src), load[b] + d_b) if m else np.zeros(len(src))


def _feasible(state: PlanState, tasks: np.ndarray, b: int) -> np.ndarray:
    p = state.problem
    used = state.usage[b][None, :] + p.usage[b, tasks].astype(np.float64)
    cap = state.capacity[b][None, :]
    fits = ~np.any(used > cap * (1 + 1e-6) + 1e-6, axis=1)
    ok = p.eligible[b, tasks] & fits & (state.counts[b] + 1 <= p.max_tasks[b])
    a = state.assignment
    for group in p.anti_affinity:
        on_b = group[a[group] == b]
        if len(on_b):
            ok &= ~np.isin(tasks, group)  # any member moving to b meets one already there
    for group in p.co_location:
        for j in group.tolist():
            others = a[group[group != j]]
            if len(others) and not bool(np.all(others == b)):
                ok &= tasks != j
    return ok
