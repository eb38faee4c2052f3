"""Compiled kernel of the workflow exact search (`exact_search.py`): the depth-first
branch and bound over semi-active schedules, with an explicit stack instead of recursion.

Level d of the stack holds the children of the node with d tasks placed: (start, task,
agent) of every placement that passes the cuts, earliest finish first (ties by task,
then agent, as the tuples sorted before), and which of them is being explored. The
cuts are those `exact_search` describes: start order (ties by topological position),
tails, idle time, and every unplaced task still able to end by the target. The search
runs for a budget of nodes per call and keeps its whole state in the arrays passed, so
the caller reads the clock between calls and resumes. numba-compiled, the machine code
cached on disk (`cache=True`), and it releases the GIL (`nogil`), so it runs beside
CP-SAT's workers.
"""

from __future__ import annotations

from numba import njit

__all__ = ["BUDGET_SPENT", "ENDED", "FOUND", "search"]

#: `search`'s outcomes: the node budget ran out (call again to resume), the tree is
#: exhausted, or (in the feasibility mode) a schedule under the target was found.
BUDGET_SPENT, ENDED, FOUND = 0, 1, 2

# Slots of the `counters` (int64) and `scalars` (float64) arrays.
_DEPTH, _NODES, _FRESH, _FOUND_ANY = 0, 1, 2, 3
_TARGET, _TOL, _GAP, _BEST, _SPEED_SUM = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True)
def _every_task_fits(graph, times, state, last_start, limit):
    """Each unplaced task can still end, tail included, by `limit`: it starts no earlier
    than the last start, its agent's free time and (once ready) its inputs' arrival."""
    allowed, n_allowed = graph[0], graph[1]
    duration, tail = times[0], times[1]
    agent, free, waiting, arrival = state[0], state[3], state[4], state[5]
    for q in range(agent.shape[0]):
        if agent[q] >= 0:
            continue
        fits = False
        for k in range(n_allowed[q]):
            a = allowed[q, k]
            start = free[a] if free[a] > last_start else last_start
            if waiting[q] == 0 and arrival[q, a] > start:
                start = arrival[q, a]
            if start + duration[a, q] + tail[q, a] <= limit:
                fits = True
                break
        if not fits:
            return False
    return True


@njit(cache=True, nogil=True)
def _fill_children(d, graph, times, state, stack, target, tol, speed_sum):
    """Level d's children that pass the cuts, sorted by finish (insertion, stable)."""
    allowed, n_allowed, position = graph[0], graph[1], graph[2]
    duration, tail, fastest, speed = times[0], times[1], times[2], times[3]
    agent, free, waiting, arrival = state[0], state[3], state[4], state[5]
    cand_s, cand_j, cand_i, cand_end = stack[0], stack[1], stack[2], stack[3]
    count, idx = stack[4], stack[5]
    last_start, last_pos, work_left = stack[7], stack[8], stack[9]
    ls, lp, slack = last_start[d], last_pos[d], tol * speed_sum
    m = free.shape[0]
    cnt = 0
    for j in range(agent.shape[0]):
        if agent[j] >= 0 or waiting[j] > 0:
            continue
        work_after = work_left[d] - fastest[j]
        for k in range(n_allowed[j]):
            i = allowed[j, k]
            s = free[i] if free[i] > arrival[j, i] else arrival[j, i]
            if s < ls or (s == ls and position[j] < lp):
                continue  # built in start order: this schedule comes from another branch
            end = s + duration[i, j]
            if end + tail[j, i] > target + tol:
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
    count[d], idx[d] = cnt, 0


@njit(cache=True, nogil=True)
def _place(j, i, s, graph, times, state):
    """Put j on i at s, filling the arrivals of the successors it makes ready; returns
    i's free time before, for `_unplace`."""
    allowed, n_allowed = graph[0], graph[1]
    pred_ptr, pred_task, pred_edge = graph[3], graph[4], graph[5]
    succ_ptr, succ_task = graph[6], graph[7]
    duration, data, per_data, fixed = times[0], times[4], times[5], times[6]
    agent, start, finish, free, waiting, arrival = state
    agent[j], start[j] = i, s
    finish[j] = s + duration[i, j]
    before = free[i]
    free[i] = finish[j]
    for x in range(succ_ptr[j], succ_ptr[j + 1]):
        q = succ_task[x]
        waiting[q] -= 1
        if waiting[q] == 0:  # all inputs placed: when they can be on each allowed agent
            for k in range(n_allowed[q]):
                b = allowed[q, k]
                t = 0.0
                for y in range(pred_ptr[q], pred_ptr[q + 1]):
                    p, e = pred_task[y], pred_edge[y]
                    a = agent[p]
                    arrive = finish[p]
                    if a != b:
                        arrive += data[e] * per_data[a, b] + fixed[a, b]
                    if arrive > t:
                        t = arrive
                arrival[q, b] = t
    return before


@njit(cache=True, nogil=True)
def _unplace(j, i, before, graph, state):
    succ_ptr, succ_task = graph[6], graph[7]
    agent, free, waiting = state[0], state[3], state[4]
    free[i] = before
    agent[j] = -1
    for x in range(succ_ptr[j], succ_ptr[j + 1]):
        waiting[succ_task[x]] += 1


@njit(cache=True, nogil=True)
def _open(d, graph, times, state, stack, best, counters, scalars):
    """Count the node with d tasks placed and list its children; at a leaf keep the
    schedule when it is the best and lower the target. True at a leaf."""
    agent, start, finish = state[0], state[1], state[2]
    count, last_start = stack[4], stack[7]
    counters[_NODES] += 1
    n = agent.shape[0]
    target, tol = scalars[_TARGET], scalars[_TOL]
    if d == n:
        makespan = finish.max()
        if makespan < scalars[_BEST]:
            best[0][:] = agent
            best[1][:] = start
            scalars[_BEST] = makespan
            counters[_FOUND_ANY] = 1
            scalars[_TARGET] = min(target, makespan * (1 - scalars[_GAP]))
        return True
    if _every_task_fits(graph, times, state, last_start[d], target + tol):
        _fill_children(d, graph, times, state, stack, target, tol, scalars[_SPEED_SUM])
    else:
        count[d] = 0
    return False


@njit(cache=True, nogil=True)
def search(graph, times, state, stack, best, counters, scalars, budget, first_only):
    """Run the search on from where `counters` left it for about `budget` nodes;
    returns BUDGET_SPENT, ENDED or FOUND (`first_only` stops at the first schedule).

    graph: (allowed[n, m], n_allowed, position, pred_ptr, pred_task, pred_edge, succ_ptr,
    succ_task), int64; times: (duration[m, n], tail[n, m], fastest, speed, data,
    per_data, fixed), float64; state: (agent, start, finish, free, waiting, arrival[n, m]);
    stack: (cand_s, cand_j, cand_i, cand_end [n, n * m], count, idx, before, last_start,
    last_pos, work_left) per depth; best: (agent, start) of the best schedule found.
    """
    position = graph[2]
    duration, tail, fastest = times[0], times[1], times[2]
    cand_s, cand_j, cand_i = stack[0], stack[1], stack[2]
    count, idx, before = stack[4], stack[5], stack[6]
    last_start, last_pos, work_left = stack[7], stack[8], stack[9]
    n = position.shape[0]
    stop = counters[_NODES] + budget
    d = counters[_DEPTH]
    if counters[_FRESH]:
        counters[_FRESH] = 0
        d = 0
        if _open(0, graph, times, state, stack, best, counters, scalars) and first_only:
            counters[_DEPTH] = d
            return FOUND
    while True:
        if d == n or idx[d] >= count[d]:  # this node is done: back to its parent
            if d == 0:
                counters[_DEPTH] = 0
                return ENDED
            d -= 1
            _unplace(cand_j[d, idx[d] - 1], cand_i[d, idx[d] - 1], before[d], graph, state)
            continue
        if counters[_NODES] >= stop:
            counters[_DEPTH] = d
            return BUDGET_SPENT
        k = idx[d]
        idx[d] += 1
        j, i, s = cand_j[d, k], cand_i[d, k], cand_s[d, k]
        if s + duration[i, j] + tail[j, i] > scalars[_TARGET] + scalars[_TOL]:
            continue  # the target dropped since the children were listed
        before[d] = _place(j, i, s, graph, times, state)
        last_start[d + 1], last_pos[d + 1] = s, position[j]
        work_left[d + 1] = work_left[d] - fastest[j]
        d += 1
        if _open(d, graph, times, state, stack, best, counters, scalars) and first_only:
            counters[_DEPTH] = d
            return FOUND
