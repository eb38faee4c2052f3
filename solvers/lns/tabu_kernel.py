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
def _targets(plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, out):
    """Each task's two best non-tabu destinations on the penalised score (an ejection
    chain's last step), into `out` = (agent int64[n, 2] (-1: none), penalised change,
    cost change, raw excess change at the destination)."""
    load, count = st[0], st[1]
    agent, pen, dcost, raw = out
    for k in range(plan.shape[0]):
        b = plan[k]
        agent[k, 0], agent[k, 1], pen[k, 0], pen[k, 1] = -1, -1, np.inf, np.inf
        for x in range(ncand[k]):
            c = cand[k, x]
            if c == b or tabu[c, k] > it or count[c] >= max_tasks[c]:
                continue
            r = _excess(load[c] + usage[c, k], cap[c]) - _excess(load[c], cap[c])
            d = cost[c, k] - cost[b, k]
            p = d + alpha[c] * r
            slot = 0 if p < pen[k, 0] else (1 if p < pen[k, 1] else 2)
            if slot == 0:
                agent[k, 1], pen[k, 1], dcost[k, 1], raw[k, 1] = (
                    agent[k, 0], pen[k, 0], dcost[k, 0], raw[k, 0])  # fmt: skip
            if slot < 2:
                agent[k, slot], pen[k, slot], dcost[k, slot], raw[k, slot] = c, p, d, r


@njit(cache=True)
def _best_move(
    plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, over, gap, span, out
):
    """The best non-tabu shift, swap or two-step ejection chain on the penalised score,
    worsening or not, as (j, b, k, c): task j onto agent b and, unless k = -1, b's task
    k on to agent c (j's agent for a swap); j = -1 when every move is tabu. A move that
    leaves the plan feasible and changes its cost by less than `gap` wins over any
    other (aspiration). `over`: the plan's total capacity excess now; `out`: the
    chains' last steps (`_targets`), or an agent array of -1 for no chains."""
    load, count, members, nmem = st[0], st[1], st[2], st[3]
    agent, pen, dcost, raw = out
    n = plan.shape[0]
    best, bj, bb, bk, bc = np.inf, -1, -1, -1, -1
    aspired = gap  # cost change a feasible move must beat
    start = np.random.randint(n)
    for t in range(min(span, n)):
        j = (start + t) % n
        a = plan[j]
        a_now = _excess(load[a], cap[a])
        a_out = _excess(load[a] - usage[a, j], cap[a]) - a_now
        for x in range(ncand[j]):
            b = cand[j, x]
            if b == a or tabu[b, j] > it:
                continue
            gain = cost[b, j] - cost[a, j]
            b_now = _excess(load[b], cap[b])
            if count[b] < max_tasks[b]:
                b_in = _excess(load[b] + usage[b, j], cap[b]) - b_now
                if over + a_out + b_in <= _EPS and gain < aspired:
                    aspired, best, bj, bb, bk, bc = gain, -np.inf, j, b, -1, -1
                delta = gain + alpha[a] * a_out + alpha[b] * b_in
                if delta < best:
                    best, bj, bb, bk, bc = delta, j, b, -1, -1
            for s in range(nmem[b]):
                k = members[b, s]
                b_x = _excess(load[b] - usage[b, k] + usage[b, j], cap[b]) - b_now
                slot = 0 if agent[k, 0] != a else 1  # a itself: that is the swap
                c = agent[k, slot]
                if c >= 0:
                    chain = gain + dcost[k, slot]
                    if over + a_out + b_x + raw[k, slot] <= _EPS and chain < aspired:
                        aspired, best, bj, bb, bk, bc = chain, -np.inf, j, b, k, c
                    delta = gain + pen[k, slot] + alpha[a] * a_out + alpha[b] * b_x
                    if delta < best:
                        best, bj, bb, bk, bc = delta, j, b, k, c
                if tabu[a, k] > it or not np.isfinite(cost[a, k]):
                    continue
                swap = gain + cost[a, k] - cost[b, k]
                a_x = _excess(load[a] - usage[a, j] + usage[a, k], cap[a]) - a_now
                if over + a_x + b_x <= _EPS and swap < aspired:
                    aspired, best, bj, bb, bk, bc = swap, -np.inf, j, b, k, a
                delta = swap + alpha[a] * a_x + alpha[b] * b_x
                if delta < best:
                    best, bj, bb, bk, bc = delta, j, b, k, a
    return bj, bb, bk, bc


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
    again) persist between calls. `p` = float64[5]: weight raise, weight cut, tabu
    tenure, tasks per step, chains (> 0) or not. A feasible plan cheaper than
    `best_cost[0]` is copied to `best` (int64[n]) and its cost to `best_cost[0]`. One
    resource: usage[m, n], cap[m]."""
    np.random.seed(it0)
    n, m = plan.shape[0], cost.shape[0]
    st = _state(plan, usage, m)
    load = st[0]
    score = 0.0
    for j in range(n):
        score += cost[plan[j], j]
    raise_, cut, tenure, span, chains = p[0], p[1], int(p[2]), int(p[3]), p[4] > 0
    out = (
        np.full((n, 2), -1, dtype=np.int64),
        np.full((n, 2), np.inf),
        np.zeros((n, 2)),
        np.zeros((n, 2)),
    )
    excess = np.zeros(m)
    over = 0.0
    for i in range(m):
        over += _excess(load[i], cap[i])
    for r in range(count_):
        it = it0 + r
        gap = best_cost[0] - score - _EPS
        if chains:
            _targets(plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, out)
        j, b, k, c = _best_move(
            plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, over, gap, span,
            out)  # fmt: skip
        if j < 0:
            continue  # everything tabu: the clock moves on
        a = plan[j]
        hold = tenure + np.random.randint(tenure + 1)
        tabu[a, j] = it + hold
        score += cost[b, j] - cost[a, j]
        if k >= 0:
            tabu[b, k] = it + hold
            score += cost[c, k] - cost[b, k]
            _move(k, c, plan, load, usage, st[1], st[2], st[3], st[4])
        _move(j, b, plan, load, usage, st[1], st[2], st[3], st[4])
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
