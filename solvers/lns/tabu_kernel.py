"""Compiled kernel of the penalty tabu search (`tabu.py`), after Yagiura, Ibaraki & Glover.

The walk goes through infeasible plans: each step takes the best non-tabu shift (one
task to another agent) or swap (two tasks exchange agents) on cost plus, per agent, a
weight times its capacity excess, worsening or not, over each task's cheapest agents
(`cand`) for a window of tasks; a step that lands on a feasible plan cheaper than the
best one wins over any other (aspiration). After each step the weights adapt: raised
on overloaded agents (most on the most overloaded), cut on every agent while the plan
is feasible. A moved task may not return to the agent it left for a few steps. The
best feasible plan seen is kept. One resource, every task placed. numba-compiled, the
machine code cached on disk (`cache=True`), and it releases the GIL (`nogil`), so it
runs beside the LNS's CP-SAT lanes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["rounds"]

#: Tolerance of a capacity check (GAP usages are integers; sums are exact in float64).
_EPS = 1e-9


@njit(cache=True)
def _excess(load: float, cap: float) -> float:
    return load - cap if load > cap + _EPS else 0.0


@njit(cache=True)
def _move(j, dest, plan, load, usage, count, members, nmem, pos):
    """Put task j on agent `dest`, keeping loads, counts and member lists."""
    src = plan[j]
    load[src] -= usage[src, j]
    load[dest] += usage[dest, j]
    count[src] -= 1
    count[dest] += 1
    last = members[src, nmem[src] - 1]  # j's slot on src takes src's last member
    members[src, pos[j]] = last
    pos[last] = pos[j]
    nmem[src] -= 1
    members[dest, nmem[dest]] = j
    pos[j] = nmem[dest]
    nmem[dest] += 1
    plan[j] = dest


@njit(cache=True)
def _best_move(
    plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, over, gap, span
):
    """The best non-tabu shift or swap on the penalised score, worsening or not, as
    (j, b, k): task j onto agent b and, for a swap, b's task k onto j's agent (k = -1
    for a shift; j = -1 when every move is tabu). A move that leaves the plan feasible
    and changes its cost by less than `gap` wins over any other (aspiration). `over`:
    the plan's total capacity excess now."""
    load, count, members, nmem = st[0], st[1], st[2], st[3]
    n = plan.shape[0]
    best, bj, bb, bk = np.inf, -1, -1, -1
    aspired = gap  # cost change a feasible move must beat
    start = np.random.randint(n)
    for t in range(min(span, n)):
        j = (start + t) % n
        a = plan[j]
        a_now = _excess(load[a], cap[a])
        a_out = _excess(load[a] - usage[a, j], cap[a]) - a_now
        for c in range(ncand[j]):
            b = cand[j, c]
            if b == a or tabu[b, j] > it:
                continue
            gain = cost[b, j] - cost[a, j]
            b_now = _excess(load[b], cap[b])
            if count[b] < max_tasks[b]:
                b_in = _excess(load[b] + usage[b, j], cap[b]) - b_now
                if over + a_out + b_in <= _EPS and gain < aspired:
                    aspired, best, bj, bb, bk = gain, -np.inf, j, b, -1
                delta = gain + alpha[a] * a_out + alpha[b] * b_in
                if delta < best:
                    best, bj, bb, bk = delta, j, b, -1
            for s in range(nmem[b]):
                k = members[b, s]
                if tabu[a, k] > it or not np.isfinite(cost[a, k]):
                    continue
                swap = gain + cost[a, k] - cost[b, k]
                a_x = _excess(load[a] - usage[a, j] + usage[a, k], cap[a]) - a_now
                b_x = _excess(load[b] - usage[b, k] + usage[b, j], cap[b]) - b_now
                if over + a_x + b_x <= _EPS and swap < aspired:
                    aspired, best, bj, bb, bk = swap, -np.inf, j, b, k
                delta = swap + alpha[a] * a_x + alpha[b] * b_x
                if delta < best:
                    best, bj, bb, bk = delta, j, b, k
    return bj, bb, bk


@njit(cache=True)
def _state(plan, usage, m):
    n = plan.shape[0]
    load = np.zeros(m)
    count = np.zeros(m, dtype=np.int64)
    members = np.empty((m, n), dtype=np.int64)
    nmem = np.zeros(m, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    for j in range(n):
        i = plan[j]
        load[i] += usage[i, j]
        count[i] += 1
        members[i, nmem[i]] = j
        pos[j] = nmem[i]
        nmem[i] += 1
    return load, count, members, nmem, pos


@njit(cache=True, nogil=True)
def rounds(
    plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it0, count_, p, best, best_cost
):
    """Take `count_` steps from `plan` (int64[n], changed in place), numbered from `it0`
    (also the seed); `alpha` (weights) and `tabu` (step before which a pair is free
    again) persist between calls. `p` = float64[4]: weight raise, weight cut, tabu
    tenure, tasks per step. A feasible plan cheaper than `best_cost[0]` is copied to
    `best` (int64[n]) and its cost to `best_cost[0]`. One resource: usage[m, n], cap[m]."""
    np.random.seed(it0)
    n, m = plan.shape[0], cost.shape[0]
    st = _state(plan, usage, m)
    load = st[0]
    score = 0.0
    for j in range(n):
        score += cost[plan[j], j]
    raise_, cut, tenure, span = p[0], p[1], int(p[2]), int(p[3])
    excess = np.zeros(m)
    over = 0.0
    for i in range(m):
        over += _excess(load[i], cap[i])
    for r in range(count_):
        it = it0 + r
        gap = best_cost[0] - score - _EPS
        j, b, k = _best_move(
            plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, over, gap, span
        )
        if j < 0:
            continue  # everything tabu: the clock moves on
        a = plan[j]
        hold = tenure + np.random.randint(tenure + 1)
        tabu[a, j] = it + hold
        score += cost[b, j] - cost[a, j]
        _move(j, b, plan, load, usage, st[1], st[2], st[3], st[4])
        if k >= 0:
            tabu[b, k] = it + hold
            score += cost[a, k] - cost[b, k]
            _move(k, a, plan, load, usage, st[1], st[2], st[3], st[4])
        worst, over = 0.0, 0.0
        for i in range(m):
            excess[i] = _excess(load[i], cap[i])
            worst = max(worst, excess[i])
            over += excess[i]
        if worst == 0.0:
            if score < best_cost[0] - _EPS:
                best_cost[0] = score
                best[:] = plan
            for i in range(m):
                alpha[i] *= 1.0 - cut
        else:
            for i in range(m):
                alpha[i] *= 1.0 + raise_ * excess[i] / worst
