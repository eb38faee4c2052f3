"""Compiled kernel of the knapsack Lagrangian bound (`knapsack_bound.py`): one 0/1
knapsack per agent, solved exactly by dynamic programming over integer capacity units.

numba-compiled, the machine code cached on disk (`cache=True`); it releases the GIL
(`nogil`), so the bound climbs in a thread beside the LNS's lanes. Work per call: the
sum over agents of (tasks with a positive profit there x capacity units).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["forced_penalties", "knapsacks", "task_forced"]


@njit(cache=True, nogil=True)
def knapsacks(cost, weight, cap, u, cover, owner, keep):
    """Sum over agents i of max sum_j (u_j - cost_ij) x_ij subject to sum_j weight_ij
    x_ij <= cap_i, x binary; `cover[j]` (int64[n], overwritten) counts the agents whose
    best packing takes task j, `owner[j]` (int64[n], overwritten) is the last of them
    (-1: none). cost float64[m, n] (inf: j may not go to i); weight
    int64[m, n] >= 0; cap int64[m], -1 for an agent without a binding capacity (it takes
    every task with a positive profit); keep: bool[n, max(cap) + 1], scratch space.
    Only tasks with a positive profit enter an agent's table, so a call costs far less
    than (tasks x capacity) once the multipliers are near their best."""
    m, n = cost.shape
    for j in range(n):
        cover[j] = 0
        owner[j] = -1
    top = 0
    for i in range(m):
        top = max(top, cap[i])
    best = np.empty(top + 1)
    items = np.empty(n, dtype=np.int64)
    total = 0.0
    for i in range(m):
        count = 0
        for j in range(n):
            if u[j] - cost[i, j] > 0.0 and (cap[i] < 0 or weight[i, j] <= cap[i]):
                items[count] = j
                count += 1
        if cap[i] < 0:
            for t in range(count):
                j = items[t]
                total += u[j] - cost[i, j]
                cover[j] += 1
                owner[j] = i
            continue
        size = cap[i]
        best[: size + 1] = 0.0
        for t in range(count):
            j = items[t]
            w = weight[i, j]
            profit = u[j] - cost[i, j]
            for c in range(size, w - 1, -1):
                value = best[c - w] + profit
                taken = value > best[c]
                keep[t, c] = taken
                if taken:
                    best[c] = value
            for c in range(min(w, size + 1)):
                keep[t, c] = False
        total += best[size]
        c = size
        for t in range(count - 1, -1, -1):
            if keep[t, c]:
                j = items[t]
                cover[j] += 1
                owner[j] = i
                c -= weight[i, j]
    return total


@njit(cache=True, nogil=True)
def _tables(items, count, weight_row, profit, size):
    """Best packings of the first t items (F[t]) and of items t.. (G[t]) per capacity."""
    first = np.zeros((count + 1, size + 1))
    last = np.zeros((count + 1, size + 1))
    for t in range(count):
        w = weight_row[items[t]]
        first[t + 1] = first[t]
        for c in range(w, size + 1):
            value = first[t, c - w] + profit[items[t]]
            if value > first[t + 1, c]:
                first[t + 1, c] = value
    for t in range(count - 1, -1, -1):
        w = weight_row[items[t]]
        last[t] = last[t + 1]
        for c in range(w, size + 1):
            value = last[t + 1, c - w] + profit[items[t]]
            if value > last[t, c]:
                last[t, c] = value
    return first, last


@njit(cache=True, nogil=True)
def _merge(first_row, last_row, room):
    best = -np.inf
    for c in range(room + 1):
        value = first_row[c] + last_row[room - c]
        if value > best:
            best = value
    return best


@njit(cache=True, nogil=True)
def forced_penalties(cost, weight, cap, u, out):
    """out[i, j] (float64[m, n]): how much L(u) rises when task j is forced onto agent i
    (and kept off every other agent), >= 0; inf where j may not go to i or cannot fit.
    Same arguments as `knapsacks`; about twice its work plus one merge per pair."""
    m, n = cost.shape
    kp = np.zeros(m)
    without = np.zeros((m, n))  # best packing of agent i without task j
    with_ = np.full((m, n), -np.inf)  # best packing of agent i that holds task j
    profit = np.empty(n)
    items = np.empty(n, dtype=np.int64)
    for i in range(m):
        for j in range(n):
            profit[j] = u[j] - cost[i, j]
        if cap[i] < 0:  # no binding capacity: every positive profit is taken
            for j in range(n):
                kp[i] += max(profit[j], 0.0)
            for j in range(n):
                if np.isfinite(cost[i, j]):
                    without[i, j] = kp[i] - max(profit[j], 0.0)
                    with_[i, j] = without[i, j] + profit[j]
                else:
                    without[i, j] = kp[i]
            continue
        size = cap[i]
        count = 0
        for j in range(n):
            if profit[j] > 0.0 and weight[i, j] <= size:
                items[count] = j
                count += 1
        first, last = _tables(items, count, weight[i], profit, size)
        kp[i] = first[count, size]
        for j in range(n):
            without[i, j] = kp[i]
            if np.isfinite(cost[i, j]) and weight[i, j] <= size:
                with_[i, j] = profit[j] + first[count, size - weight[i, j]]
        for t in range(count):
            j = items[t]
            without[i, j] = _merge(first[t], last[t + 1], size)
            with_[i, j] = profit[j] + _merge(first[t], last[t + 1], size - weight[i, j])
    for j in range(n):
        removed = 0.0  # L's rise when j is kept off every agent
        for i in range(m):
            removed += kp[i] - without[i, j]
        for i in range(m):
            if np.isfinite(with_[i, j]):
                out[i, j] = removed + without[i, j] - with_[i, j]
            else:
                out[i, j] = np.inf


@njit(cache=True, nogil=True)
def task_forced(cost, weight, cap, u, j, without, with_):
    """For one task j: `without[i]` (float64[m]), agent i's best packing with j left out;
    `with_[i]`, its best packing holding j (-inf where j may not go to i or cannot fit).
    With j forced onto agent i (and off the others), L(u) = sum(u) - (sum(without) -
    without[i] + with_[i]): the branch and bound's child bounds at its node's multipliers,
    for about the work of one `knapsacks` call. Same arguments as `knapsacks`."""
    m, n = cost.shape
    top = 0
    for i in range(m):
        top = max(top, cap[i])
    best = np.empty(top + 1)
    for i in range(m):
        fits = np.isfinite(cost[i, j]) and (cap[i] < 0 or weight[i, j] <= cap[i])
        if cap[i] < 0:
            total = 0.0
            for k in range(n):
                if k != j and u[k] - cost[i, k] > 0.0:
                    total += u[k] - cost[i, k]
            without[i] = total
            with_[i] = total + u[j] - cost[i, j] if fits else -np.inf
            continue
        size = cap[i]
        best[: size + 1] = 0.0
        for k in range(n):
            profit = u[k] - cost[i, k]
            w = weight[i, k]
            if k == j or profit <= 0.0 or w > size:
                continue
            for c in range(size, w - 1, -1):
                value = best[c - w] + profit
                if value > best[c]:
                    best[c] = value
        without[i] = best[size]
        with_[i] = u[j] - cost[i, j] + best[size - weight[i, j]] if fits else -np.inf
