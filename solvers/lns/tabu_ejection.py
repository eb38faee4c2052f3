"""Compiled kernel of the penalty tabu search with ejection chains (`tabu.py`, KERNEL).

After Yagiura, Ibaraki & Glover's TS-EC: each step takes the best non-tabu ejection
chain, worsening or not, on cost plus, per agent, a weight times its capacity excess:
task j onto agent b, one of b's tasks on to a third agent, one of that agent's tasks on
to a fourth, up to `links` tasks. From each start (j onto b) the chain grows one link at
a time, each the task of the last agent whose move on to one of its two best targets or
back to j's agent scores best; every prefix is a candidate, so shifts, swaps (back to
j's agent) and cycles are chains too. On an infeasible plan chains start only from
tasks of overloaded agents, at most `span` of them. A chain that lands on a feasible
plan cheaper than the best one wins over any other (aspiration). Weights, tabu memory
and the `rounds` signature as in `tabu_kernel.py` (which compares shifts, swaps and
two-step chains only); p[4] is the chain length. Not the default: it gets further than
that kernel only in long walks from weak plans, not in the LNS's 50 ms bursts from its
incumbent (`tabu.py`, KERNEL). TS-EC's order (first improving shift or swap, chains
only at a local minimum) measured slower to good plans here (BENCHMARKS.md, "GAP tabu
kernel (seventh session, helper)").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solvers.lns.tabu_kernel import _EPS, _excess, _move, _state, _targets

__all__ = ["rounds"]


@njit(cache=True)
def _slot(agents, nv, i):
    """Index of agent i among the chain's first `nv` agents, -1 if absent."""
    for v in range(nv):
        if agents[v] == i:
            return v
    return -1


@njit(cache=True)
def _change(i, du, load, cap, ag, dl, nv):
    """Raw excess change on agent i of `du` more load, on top of the chain's changes so far
    (its first `nv` agents `ag`, their load changes `dl`)."""
    v = _slot(ag, nv, i)
    now = load[i] + (dl[v] if v >= 0 else 0.0)
    return _excess(now + du, cap[i]) - _excess(now, cap[i])


@njit(cache=True)
def _room(i, count, max_tasks, ag, dc, nv):
    """Agent i may take one more task after the chain's changes so far."""
    v = _slot(ag, nv, i)
    return count[i] + (dc[v] if v >= 0 else 0) < max_tasks[i]


@njit(cache=True)
def _record(i, du, dn, ag, dl, dc, nv):
    """Add `du` load and `dn` tasks on agent i to the chain's changes; the new `nv`."""
    v = _slot(ag, nv, i)
    if v < 0:
        v, nv = nv, nv + 1
        ag[v], dl[v], dc[v] = i, 0.0, 0
    dl[v] += du
    dc[v] += dn
    return nv


@njit(cache=True)
def _best_chain(
    plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, over, gap, span,
    links, out, ch, tasks, dest, best_tasks, best_dest, starts,
):  # fmt: skip
    """The best non-tabu ejection chain of up to `links` tasks on the penalised score,
    worsening or not, into best_tasks / best_dest; returns its length (0: every move
    tabu). From each start (j onto b), each next link is the task of the last agent
    whose move on to its best target (`out`, from `_targets`) or back to j's agent
    scores best; every prefix is a candidate. A chain landing on a feasible plan
    cheaper by more than `gap` wins. Starts: up to `span` tasks from a random one, of
    the overloaded agents' tasks if the plan is infeasible (`starts`: int64[n] room)."""
    load, count, members, nmem = st[0], st[1], st[2], st[3]
    agent, raw_k = out[0], out[3]
    ag, dl, dc = ch
    n = plan.shape[0]
    best, best_len, aspired = np.inf, 0, gap
    pool = n
    if over > _EPS:  # relieve the overloaded agents: the chains that can pay most
        pool = 0
        for i in range(cap.shape[0]):
            if load[i] > cap[i] + _EPS:
                starts[pool : pool + nmem[i]] = members[i, : nmem[i]]
                pool += nmem[i]
    else:
        starts[:] = np.arange(n)
    first = np.random.randint(pool)
    for t in range(min(span, pool)):
        j = starts[(first + t) % pool]
        a = plan[j]
        ra = _excess(load[a] - usage[a, j], cap[a]) - _excess(load[a], cap[a])
        for x in range(ncand[j]):
            b = cand[j, x]
            if b == a or tabu[b, j] > it:
                continue
            ag[0], dl[0], dc[0], nv = a, -usage[a, j], -1, 1
            rb = _excess(load[b] + usage[b, j], cap[b]) - _excess(load[b], cap[b])
            dcost = cost[b, j] - cost[a, j]
            pen, raw = alpha[a] * ra, ra
            tasks[0], dest[0] = j, b
            if count[b] < max_tasks[b]:  # the shift itself
                if over + raw + rb <= _EPS and dcost < aspired:
                    aspired, best = dcost, -np.inf
                    best_len = _keep(tasks, dest, 1, best_tasks, best_dest)
                elif dcost + pen + alpha[b] * rb < best:
                    best = dcost + pen + alpha[b] * rb
                    best_len = _keep(tasks, dest, 1, best_tasks, best_dest)
            nv = _record(b, usage[b, j], 0, ag, dl, dc, nv)  # b passes a task on
            pen, raw, cur, size = pen + alpha[b] * rb, raw + rb, b, 1
            while size < links:
                nk, nc, nscore, nrk, nrc = -1, -1, np.inf, 0.0, 0.0
                for s in range(nmem[cur]):
                    k = members[cur, s]
                    if _moved(k, tasks, size):
                        continue
                    rk = _change(cur, -usage[cur, k], load, cap, ag, dl, nv)
                    for q in range(3):  # k's two best targets, then back to j's agent
                        c = agent[k, q] if q < 2 else a
                        if c < 0 or (q < 2 and c == a):
                            continue
                        if q == 2 and (c == cur or tabu[c, k] > it or not np.isfinite(cost[c, k])):
                            continue
                        if _slot(ag, nv, c) < 0:  # c untouched: as `_targets` saw it
                            rc = raw_k[k, q]
                        elif _room(c, count, max_tasks, ag, dc, nv):
                            rc = _change(c, usage[c, k], load, cap, ag, dl, nv)
                        else:
                            continue
                        kc = dcost + cost[c, k] - cost[cur, k]
                        if over + raw + rk + rc <= _EPS and kc < aspired:
                            tasks[size], dest[size] = k, c
                            aspired, best = kc, -np.inf
                            best_len = _keep(tasks, dest, size + 1, best_tasks, best_dest)
                        score = kc + pen + alpha[cur] * rk + alpha[c] * rc
                        if score < nscore:
                            nk, nc, nscore, nrk, nrc = k, c, score, rk, rc
                if nk < 0:
                    break
                tasks[size], dest[size] = nk, nc
                size += 1
                if nscore < best:
                    best = nscore
                    best_len = _keep(tasks, dest, size, best_tasks, best_dest)
                nv = _record(cur, -usage[cur, nk], 0, ag, dl, dc, nv)
                nv = _record(nc, usage[nc, nk], 0, ag, dl, dc, nv)
                dcost += cost[nc, nk] - cost[cur, nk]
                pen += alpha[cur] * nrk + alpha[nc] * nrc
                raw += nrk + nrc
                cur = nc
    return best_len


@njit(cache=True)
def _keep(tasks, dest, size, best_tasks, best_dest):
    best_tasks[:size] = tasks[:size]
    best_dest[:size] = dest[:size]
    return size


@njit(cache=True)
def _moved(k, tasks, size):
    """Task k is among the chain's first `size` tasks."""
    for q in range(size):  # noqa: SIM110 (a loop numba compiles without a generator)
        if tasks[q] == k:
            return True
    return False


@njit(cache=True, nogil=True)
def rounds(
    plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it0, count_, p, best, best_cost
):
    """Take `count_` steps from `plan` (int64[n], changed in place), numbered from `it0`
    (also the seed); `alpha` (weights) and `tabu` (step before which a pair is free
    again) persist between calls. `p` = float64[5]: weight raise, weight cut, tabu
    tenure, chain starts per step, tasks per chain at most. A feasible plan cheaper than
    `best_cost[0]` is copied to `best` (int64[n]) and its cost to `best_cost[0]`. One
    resource: usage[m, n], cap[m]."""
    np.random.seed(it0)
    n, m = plan.shape[0], cost.shape[0]
    st = _state(plan, usage, m)
    load = st[0]
    score = 0.0
    for j in range(n):
        score += cost[plan[j], j]
    raise_, cut, tenure, span = p[0], p[1], int(p[2]), int(p[3])
    links = max(1, int(p[4]))
    out = (
        np.full((n, 2), -1, dtype=np.int64),
        np.full((n, 2), np.inf),
        np.zeros((n, 2)),
        np.zeros((n, 2)),
    )
    ch = (  # a chain's agents, their load and task-count changes
        np.zeros(links + 1, dtype=np.int64),
        np.zeros(links + 1),
        np.zeros(links + 1, dtype=np.int64),
    )
    tasks, dest = np.zeros(links, dtype=np.int64), np.zeros(links, dtype=np.int64)
    moved_tasks, moved_to = np.zeros(links + 1, dtype=np.int64), np.zeros(links + 1, dtype=np.int64)
    starts = np.arange(n)
    excess = np.zeros(m)
    over = 0.0
    for i in range(m):
        over += _excess(load[i], cap[i])
    for r in range(count_):
        it = it0 + r
        gap = best_cost[0] - score - _EPS
        _targets(plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, out)
        size = _best_chain(
            plan, cost, usage, cap, max_tasks, cand, ncand, alpha, tabu, it, st, over, gap,
            span, links, out, ch, tasks, dest, moved_tasks, moved_to, starts)  # fmt: skip
        if size == 0:
            continue  # everything tabu: the clock moves on
        hold = tenure + np.random.randint(tenure + 1)
        for q in range(size):
            t, d = moved_tasks[q], moved_to[q]
            tabu[plan[t], t] = it + hold
            score += cost[d, t] - cost[plan[t], t]
            _move(t, d, plan, load, usage, st[1], st[2], st[3], st[4])
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
