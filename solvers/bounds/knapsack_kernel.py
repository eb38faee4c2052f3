"""Compiled kernel of the knapsack Lagrangian bound (`knapsack_bound.py`): one 0/1
knapsack per agent, solved exactly by dynamic programming over integer capacity units.

numba-compiled, the machine code cached on disk (`cache=True`); it releases the GIL
(`nogil`), so the bound climbs in a thread beside the LNS's lanes. Work per call: the
sum over agents of (tasks with a positive profit there x capacity units).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["knapsacks"]


@njit(cache=True, nogil=True)
def knapsacks(cost, weight, cap, u, cover, keep):
    """Sum over agents i of max sum_j (u_j - cost_ij) x_ij subject to sum_j weight_ij
    x_ij <= cap_i, x binary; `cover[j]` (int64[n], overwritten) counts the agents whose
    best packing takes task j. cost float64[m, n] (inf: j may not go to i); weight
    int64[m, n] >= 0; cap int64[m], -1 for an agent without a binding capacity (it takes
    every task with a positive profit); keep: bool[n, max(cap) + 1], scratch space.
    Only tasks with a positive profit enter an agent's table, so a call costs far less
    than (tasks x capacity) once the multipliers are near their best."""
    m, n = cost.shape
    for j in range(n):
        cover[j] = 0
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
                c -= weight[i, j]
    return total
