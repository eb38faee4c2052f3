"""Cyclic and path exchanges over many agents at once, found in an improvement graph.

After Thompson and Orlin's improvement graph and Ahuja, Orlin and Sharma's very
large-scale neighbourhood search for the generalised assignment problem: a node per
task, an arc j -> k when task j can go onto k's agent in k's place (the agent's load
after the exchange fits), costing what that agent's score changes by. A path
s -> ... -> k whose agents are all different moves each task onto the next one's agent;
closing it back onto s's agent is a cyclic exchange (every agent gives one task and takes
one), ending it on an agent off the path with room for k is a path exchange. Either
changes the score by the sum of its arcs, and each agent's load by its own exchange
only, so checking each arc against the plan's loads checks the whole move.

Negative exchanges are looked for by label correcting, depth by depth: each task keeps
the cheapest path found ending with it (a heuristic: a dearer path with other agents may
have led further), and only the `BEAM` most negative paths are extended. The shift /
swap / two-step chain descent (`chains.py`) sees exchanges of at most three tasks; these
reach `MAX_DEPTH` + 1 tasks over as many agents. From the LNS's 10 s plans, descents
over these exchanges took e60900 from 0.289 % above best-known to 0.106 % in 0.9 s,
e40400 from 0.168 % to 0.114 %, d40400 from 0.517 % to 0.468 %; d20100's plan had none.

Why hand-written: no library offers this neighbourhood. Same rules as the chain
descent (`chains.applies`): a per-pair score, every task placed, no group rules.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from models import CompiledProblem
from solvers.lns.chains import agent_loads

__all__ = ["exchange_descent"]

#: Arcs along one path at most (exchanges of up to this many tasks plus one). The
#: best exchanges found on e60900 were 20-21 tasks long; each depth costs O(BEAM n).
MAX_DEPTH = 20
#: Tasks above which no exchange is searched (dense n x n tables: 2,000 tasks ~ 32 MB
#: each, about 10 ms per depth).
MAX_TASKS = 2_000

#: Paths extended per depth: the most negative labels only (a beam). Descents of 3 s
#: from the LNS's 10 s plans: e801600 0.201 % above best-known -> 0.081 % with 200 paths
#: (0.09 s a search) against 0.154 % extending all 1,600 (0.5 s a search); e60900 0.317
#: -> 0.111 against 0.115; c60900, d40400, e40400 as good or better (session 17).
BEAM = 200

_EPS = 1e-9


def exchange_descent(
    problem: CompiledProblem, plan: np.ndarray, cost: np.ndarray, deadline: float
) -> tuple[np.ndarray, int]:
    """(plan, exchanges made): apply the negative exchanges one search finds on disjoint
    agents, best first, and search again, until a search finds none or the clock
    (time.perf_counter) passes `deadline`. `cost` is float[m, n], inf where a task may
    not go."""
    plan = plan.astype(np.int64).copy()
    if len(plan) > MAX_TASKS or len(plan) < 2:
        return plan.astype(np.int32), 0
    made = 0
    while time.perf_counter() < deadline:
        exchanges = _exchanges(problem, plan, cost, deadline)
        if not exchanges:
            break
        plan = _apply_disjoint(plan, exchanges)
        made += len(exchanges)
    return plan.astype(np.int32), made


#: An exchange: its tasks in order (each goes onto the next one's agent) and where the
#: last one goes: the first one's agent (-1, a cycle) or an agent off the path.
Exchange = tuple[list[int], int]


def _apply_disjoint(plan: np.ndarray, exchanges: list[Exchange]) -> np.ndarray:
    new = plan.copy()
    for chain, agent in exchanges:
        for j, k in itertools.pairwise(chain):
            new[j] = plan[k]
        new[chain[-1]] = plan[chain[0]] if agent < 0 else agent
    return new


def _exchanges(
    problem: CompiledProblem, plan: np.ndarray, cost: np.ndarray, deadline: float
) -> list[Exchange]:
    """Negative exchanges one search finds, best first, on agents no better one of them
    touches: exchanges on disjoint agents change disjoint loads and tasks, so each keeps
    its feasibility and its change of score after the others."""
    n, m = len(plan), problem.n_agents
    tasks = np.arange(n)
    usage = problem.usage.astype(np.float64)
    room = problem.capacity.astype(np.float64) - agent_loads(usage, plan, m) + _EPS
    here = cost[plan, tasks]
    # arc[j, k]: j onto k's agent in k's place; fits when u[b, j] <= room[b] + u[b, k].
    b = plan
    arc = cost[b[None, :], tasks[:, None]] - here[None, :]
    fits = b[:, None] != b[None, :]
    for d in range(usage.shape[2]):
        fits &= usage[b[None, :], tasks[:, None], d] <= room[b, d][None, :] + usage[b, tasks, d]
    arc = np.where(fits, arc, np.inf)
    # End of a path: k onto agent i with room for it (and below its task cap).
    count = np.bincount(plan, minlength=m)
    takes = np.all(usage <= room[:, None, :], axis=2) & (count < problem.max_tasks)[:, None]
    end = np.where(takes, cost, np.inf).T  # float[n, m]

    label = -here  # path "s leaves its agent", per last task
    start = tasks.copy()
    on_path = np.zeros((n, m), dtype=bool)
    on_path[tasks, b] = True
    preds: list[np.ndarray] = []
    found: list[tuple[float, int, int, int]] = []  # (change, depth, last task, end agent)
    for depth in range(MAX_DEPTH + 1):
        # Close each path back onto its first task's agent (a swap at depth 1) ...
        a0 = b[start]
        back = label + cost[a0, tasks]
        closes = np.all(usage[a0, tasks, :] <= room[a0] + usage[a0, start, :], axis=1)
        back = np.where(closes & (start != tasks), back, np.inf)
        found += [(float(back[k]), depth, int(k), -1) for k in _most_negative(back, m)]
        # ... or end it on an agent off the path with room for its last task.
        ends = np.where(on_path, np.inf, label[:, None] + end)
        to = ends.argmin(axis=1)
        best_end = ends[tasks, to]
        found += [
            (float(best_end[k]), depth, int(k), int(to[k])) for k in _most_negative(best_end, m)
        ]
        if depth == MAX_DEPTH or time.perf_counter() >= deadline:
            break
        # Extend the BEAM most negative paths by one arc, each task keeping the cheapest
        # path into it.
        src = np.argpartition(label, BEAM)[:BEAM] if n > BEAM else tasks
        src = src[np.isfinite(label[src])]
        extended = np.where(on_path[src][:, b], np.inf, label[src, None] + arc[src])
        arg = np.argmin(extended, axis=0)
        pred = src[arg]
        label = extended[arg, tasks]
        if not np.isfinite(label).any():
            break
        preds.append(pred)
        start = start[pred]
        on_path = on_path[pred]
        on_path[tasks, b] = True
    used = np.zeros(m, dtype=bool)
    out: list[Exchange] = []
    for _, depth, last, agent in sorted(found):
        chain = [last]
        for pred in reversed(preds[:depth]):
            chain.append(int(pred[chain[-1]]))
        chain.reverse()  # the first task, ..., the last one
        agents = [int(b[t]) for t in chain] + ([agent] if agent >= 0 else [])
        if not used[agents].any():
            used[agents] = True
            out.append((chain, agent))
    return out


def _most_negative(values: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the `keep` most negative entries below zero (fewer when fewer are)."""
    if values.size > keep:
        values_top = np.argpartition(values, keep)[:keep]
    else:
        values_top = np.arange(values.size)
    return values_top[values[values_top] < -_EPS]
