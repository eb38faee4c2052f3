"""Compiled kernel of the workflow exact search (`exact_search.py`): the depth-first
branch and bound over semi-active schedules, with an explicit stack instead of recursion.

Level d of the stack holds the children of the node with d tasks placed: (start, task,
agent) of every placement that passes the cuts, earliest finish first (ties by task,
then agent, as the tuples sorted before), and which of them is being explored. The
cuts are those `exact_search` describes: start order (ties by topological position),
tails, idle time, every unplaced task still able to end by the target, and load windows
(subset sums by meet in the middle, `_largest_sum`). The search runs for a budget of
nodes per call and keeps its whole state in the arrays passed, so the caller reads the
clock between calls and resumes. It may start at a subtree's root: the levels above it
then hold one prepared child each (the path), walked without being counted or cut
again, and the search ends when that root is done (`exact_pool` shares subtrees so).
numba-compiled, the machine code cached on disk (`cache=True`), and it releases the GIL
(`nogil`), so it runs beside CP-SAT's workers and beside another search thread.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["BUDGET_SPENT", "ENDED", "FOUND", "LOAD_CUT_TASKS", "search"]

#: `search`'s outcomes: the node budget ran out (call again to resume), the tree is
#: exhausted, or (in the feasibility mode) a schedule under the target was found.
BUDGET_SPENT, ENDED, FOUND = 0, 1, 2

#: The load-window cut runs at nodes with at most this many tasks left: its subset sums
#: (two halves of 2^(k/2), merged) cost more than they save higher up (BENCHMARKS.md,
#: "Workflow proofs (eighth session, helper)").
LOAD_CUT_TASKS = 12

# Slots of the `counters` (int64) and `scalars` (float64) arrays.
DEPTH, NODES, FRESH, FOUND_ANY, CULPRIT, ROOT = 0, 1, 2, 3, 4, 5
TARGET, TOL, GAP, BEST, SPEED_SUM = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True)
def _subset_sums(items, lo, hi, cap, out, spare):
    """The sums <= cap of the subsets of items[lo:hi], sorted, into `out`; their count.
    Each item merges the list with itself shifted by the item into the other buffer."""
    count = 1
    out[0] = 0.0
    src, dst = out, spare
    for t in range(lo, hi):
        x = items[t]
        i, c = 0, 0
        for j in range(count):
            v = src[j] + x
            if v > cap:
                break
            while i < count and src[i] <= v:
                dst[c] = src[i]
                i += 1
                c += 1
            dst[c] = v
            c += 1
        while i < count:
            dst[c] = src[i]
            i += 1
            c += 1
        count = c
        src, dst = dst, src
    if (hi - lo) % 2 == 1:  # the last merge wrote into `spare`
        out[:count] = spare[:count]
    return count


@njit(cache=True, nogil=True)
def _largest_sum(items, k, cap, low, high, spare):
    """The largest sum <= cap of a subset of items[:k] (meet in the middle)."""
    h = k // 2
    n_low = _subset_sums(items, 0, h, cap, low, spare)
    y = _subset_sums(items, h, k, cap, high, spare) - 1
    best = 0.0
    for x in range(n_low):  # low ascending, high descending: two pointers
        while y >= 0 and low[x] + high[y] > cap:
            y -= 1
        if y < 0:
            break
        best = max(best, low[x] + high[y])
    return best


@njit(cache=True, nogil=True)
def search(graph, times, state, stack, best, counters, scalars, budget, first_only):
    """Run the search on from where `counters` left it for about `budget` nodes;
    returns BUDGET_SPENT, ENDED or FOUND (`first_only` stops at the first schedule).

    graph: (allowed[n, m], eligible[n, m] (0 / 1), n_allowed, position, pred_ptr,
    pred_task, pred_edge, succ_ptr, succ_task), int64; times: (duration[m, n], tail[n, m],
    fastest, speed, data, per_data, fixed), float64; state: (agent, start, finish, free,
    waiting, arrival[n, m]); stack: (cand_s, cand_j, cand_i, cand_end [n, n * m], count,
    idx, before, last_start, last_pos, work_left) per depth; best: (agent, start) of the
    best schedule found.
    One function, its arrays unpacked once: with helper functions taking the tuples,
    numba's reference counting on every call held it to 1.6 M nodes per CPU s (6 M
    then; 2 M with the load windows, which cut far more than that costs).
    """
    allowed, eligible, n_allowed, position, pred_ptr, pred_task, pred_edge = graph[:7]
    succ_ptr, succ_task = graph[7], graph[8]
    duration, tail, fastest, speed, data, per_data, fixed = times
    agent, start, finish, free, waiting, arrival = state
    cand_s, cand_j, cand_i, cand_end, count, idx, before, last_start, last_pos, work_left = stack
    best_agent, best_start = best
    n, m = agent.shape[0], free.shape[0]
    target, tol, gap, speed_sum = (
        scalars[TARGET],
        scalars[TOL],
        scalars[GAP],
        scalars[SPEED_SUM],
    )
    nodes = counters[NODES]
    stop = nodes + budget
    d = counters[DEPTH]
    opening = counters[FRESH] == 1  # the node at depth d is to be counted and listed
    root = counters[ROOT]  # levels above it hold one prepared child each: a subtree's path
    status = BUDGET_SPENT
    counters[FRESH] = 0
    # Scratch for the load windows: each agent's durations, and subset sums of halves.
    items, n_items = np.empty((m, n)), np.zeros(m, dtype=np.int64)
    rooms, all_fit = np.zeros(m), np.zeros(m, dtype=np.bool_)
    half = 1 << ((LOAD_CUT_TASKS + 1) // 2)
    low, high, spare = np.empty(half), np.empty(half), np.empty(half)
    while True:
        if opening:
            opening = False
            if d < root:
                continue  # on the path to the subtree's root: its prepared child comes next
            nodes += 1
            if d == n:  # a schedule: keep it when the best, lower the target
                makespan = finish.max()
                if makespan < scalars[BEST]:
                    best_agent[:] = agent
                    best_start[:] = start
                    scalars[BEST] = makespan
                    counters[FOUND_ANY] = 1
                    target = min(target, makespan * (1 - gap))
                if first_only:
                    status = FOUND
                    break
                continue
            # Each unplaced task can still end, tail included, by the target: it starts
            # no earlier than the last start, its agent's free time and (once ready) its
            # inputs' arrival there.
            ls, limit = last_start[d], target + tol
            fits = True
            for q in range(n):
                if agent[q] >= 0:
                    continue
                fits = False
                for k in range(n_allowed[q]):
                    a = allowed[q, k]
                    begin = free[a] if free[a] > ls else ls
                    if waiting[q] == 0 and arrival[q, a] > begin:
                        begin = arrival[q, a]
                    if begin + duration[a, q] + tail[q, a] <= limit:
                        fits = True
                        break
                if not fits:
                    break
            count[d], idx[d] = 0, 0
            if not fits:
                continue
            # Load windows: agent a still has r_a = T - max(free_a, last start) and can
            # fill at most the largest subset sum <= r_a of the durations there of the
            # tasks left; the idle so left, weighted by speed, is at least
            # speed_a (r_a - that sum), and summed over the agents it must fit in the
            # budget sum_a speed_a r_a - work left (the idle cut's room less the work).
            if n - d <= LOAD_CUT_TASKS:
                idle_budget, idle = 2.0 * tol * speed_sum - work_left[d], 0.0
                for a in range(m):
                    base = free[a] if free[a] > ls else ls
                    room = max(target - base, 0.0)
                    idle_budget += speed[a] * room
                    k, total = 0, 0.0
                    for q in range(n):
                        if agent[q] >= 0 or not eligible[q, a]:
                            continue
                        begin = base
                        if waiting[q] == 0 and arrival[q, a] > begin:
                            begin = arrival[q, a]
                        if begin + duration[a, q] + tail[q, a] <= limit:
                            items[a, k] = duration[a, q]
                            k += 1
                            total += duration[a, q]
                    rooms[a], n_items[a] = room, k
                    # All of them fit: that is the largest sum (no subset sums needed).
                    all_fit[a] = total <= room
                    idle += speed[a] * (room - min(room, total))
                # Subset sums agent by agent, from the one that last overran the budget
                # (it often does again: a cut then costs one agent's sums, not four).
                first = counters[CULPRIT]
                for step in range(m):
                    if idle > idle_budget:
                        break
                    a = (first + step) % m
                    if all_fit[a]:
                        continue
                    fill = _largest_sum(items[a], n_items[a], rooms[a] + tol, low, high, spare)
                    idle += speed[a] * (rooms[a] - fill)
                    if idle > idle_budget:
                        counters[CULPRIT] = a
                if idle > idle_budget:
                    continue
            # The children that pass the cuts, sorted by finish (insertion, stable).
            lp, slack, cnt = last_pos[d], tol * speed_sum, 0
            for j in range(n):
                if agent[j] >= 0 or waiting[j] > 0:
                    continue
                work_after = work_left[d] - fastest[j]
                for k in range(n_allowed[j]):
                    i = allowed[j, k]
                    s = free[i] if free[i] > arrival[j, i] else arrival[j, i]
                    if s < ls or (s == ls and position[j] < lp):
                        continue  # built in start order: this schedule comes from another branch
                    end = s + duration[i, j]
                    if end + tail[j, i] > limit:
                        continue
                    room = speed[i] * (target - end)
                    for a in range(m):
                        if a != i:
                            room += speed[a] * (target - (free[a] if free[a] > s else s))
                    if work_after > room + slack:
                        continue
                    pos = cnt
                    while pos > 0 and cand_end[d, pos - 1] > end:
                        cand_s[d, pos], cand_j[d, pos] = cand_s[d, pos - 1], cand_j[d, pos - 1]
                        cand_i[d, pos], cand_end[d, pos] = cand_i[d, pos - 1], cand_end[d, pos - 1]
                        pos -= 1
                    cand_s[d, pos], cand_j[d, pos], cand_i[d, pos], cand_end[d, pos] = s, j, i, end
                    cnt += 1
            count[d] = cnt
            continue
        if d == n or idx[d] >= count[d]:  # this node is done: back to its parent
            if d <= root:  # the subtree is done (or its path no longer fits the target)
                status = ENDED
                break
            d -= 1
            j, i = cand_j[d, idx[d] - 1], cand_i[d, idx[d] - 1]
            free[i] = before[d]
            agent[j] = -1
            for x in range(succ_ptr[j], succ_ptr[j + 1]):
                waiting[succ_task[x]] += 1
            continue
        if nodes >= stop:
            status = BUDGET_SPENT
            break
        k = idx[d]
        idx[d] += 1
        j, i, s = cand_j[d, k], cand_i[d, k], cand_s[d, k]
        if s + duration[i, j] + tail[j, i] > target + tol:
            continue  # the target dropped since the children were listed
        # Put j on i at s; fill the arrivals of the successors it makes ready.
        agent[j], start[j] = i, s
        finish[j] = s + duration[i, j]
        before[d] = free[i]
        free[i] = finish[j]
        for x in range(succ_ptr[j], succ_ptr[j + 1]):
            q = succ_task[x]
            waiting[q] -= 1
            if waiting[q] == 0:  # all inputs placed: when they can be on each allowed agent
                for y in range(n_allowed[q]):
                    b = allowed[q, y]
                    t = 0.0
                    for z in range(pred_ptr[q], pred_ptr[q + 1]):
                        p, e = pred_task[z], pred_edge[z]
                        arrive = finish[p]
                        if agent[p] != b:
                            arrive += data[e] * per_data[agent[p], b] + fixed[agent[p], b]
                        if arrive > t:
                            t = arrive
                    arrival[q, b] = t
        last_start[d + 1], last_pos[d + 1] = s, position[j]
        work_left[d + 1] = work_left[d] - fastest[j]
        d += 1
        opening = True
    counters[NODES], counters[DEPTH] = nodes, d
    scalars[TARGET] = target
    return status
