"""Descent over every shift, swap and two-step ejection chain of a plan, vectorised.

Between the LNS's exact sub-solves (a few per second) this checks all moves of the
kinds Yagiura and Ibaraki's ejection-chain searches are built on, over all agents at
once: move one task (shift), exchange two tasks (swap), or move task j onto agent b
while b's task k moves on to a third agent (chain). A sub-solve over a few chosen
agents contains such a move only when it happens to pick all of its agents. Each round
takes the best improving feasible move; O(n x min(n, ROWS)) work per round.

Applies to plans whose score is a sum of per-pair costs (`pair_costs`) with every task
placed and no group rules; `applies` says when.
"""

from __future__ import annotations

import time

import numpy as np

from models import CompiledProblem

__all__ = ["applies", "descend"]

#: Tasks above which the descent does not run (memory: ROWS x n tables, time per round).
MAX_TASKS = 2_000
#: Tasks that may move onto another task's agent (swap, chain) per round: larger plans
#: cycle through blocks of this many, so a round is O(ROWS x n) instead of O(n^2) (at
#: 1,600 tasks a full round took 0.25-1 s on the loaded 2-core machine).
ROWS = 400


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
    problem: CompiledProblem,
    plan: np.ndarray,
    cost: np.ndarray,
    deadline: float,
    patience: int = 0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, int]:
    """(best plan seen, moves made): take the best feasible move each round until none
    improves (`patience` 0) or, as a tabu search, until `patience` rounds in a row found
    no better plan; or until the clock passes `deadline` (time.perf_counter). A task
    may not return to the agent it left for a few rounds. `cost` is float[m, n], inf
    where a task may not go."""
    rng = rng if rng is not None else np.random.default_rng(0)
    walk = _Walk(problem, plan, cost)
    blocks = np.array_split(rng.permutation(len(plan)), -(-len(plan) // ROWS))
    best, best_score, stale, moves, misses = walk.plan.copy(), walk.score, 0, 0, 0
    while time.perf_counter() < deadline and stale <= patience:
        rows = blocks[(moves + misses) % len(blocks)]
        move, delta = walk.best_move(walk.tabu_mask(), best_score - walk.score, rows)
        if move is None or (patience == 0 and delta >= -1e-9):
            misses += 1  # on large plans, another block of tasks may still move
            if misses >= len(blocks):
                break
            continue
        misses = 0
        walk.apply(move, moves + _TENURE + int(rng.integers(0, _TENURE)))
        moves += 1
        if walk.score < best_score - 1e-9:
            best, best_score, stale = walk.plan.copy(), walk.score, 0
        else:
            stale += 1
    return best.astype(np.int32), moves


#: Rounds a task may not return to an agent it left: this plus up to as many again.
_TENURE = 7


class _Walk:
    """A plan with its loads and score, and when each (agent, task) pair is allowed again."""

    def __init__(self, problem: CompiledProblem, plan: np.ndarray, cost: np.ndarray):
        self.problem, self.cost = problem, cost
        self.plan = plan.astype(np.int64).copy()
        self.usage = problem.usage.astype(np.float64)
        self.capacity = problem.capacity.astype(np.float64)
        self.load = _loads(self.usage, self.plan, problem.n_agents)
        self.count = np.bincount(self.plan, minlength=problem.n_agents)
        self.score = float(cost[self.plan, np.arange(len(self.plan))].sum())
        self.until = np.zeros(cost.shape, dtype=np.int64)  # pair tabu before this round
        self.round = 0

    def tabu_mask(self) -> np.ndarray:
        return self.until > self.round

    def best_move(
        self, tabu: np.ndarray, aspiration: float, rows: np.ndarray
    ) -> tuple[list[tuple[int, int]] | None, float]:
        return _best_move(
            self.problem,
            self.plan,
            self.cost,
            self.usage,
            self.capacity,
            self.load,
            self.count,
            tabu,
            aspiration,
            rows,
        )

    def apply(self, move: list[tuple[int, int]], until: int) -> None:
        for task, dest in move:
            source = self.plan[task]
            self.load[source] -= self.usage[source, task]
            self.load[dest] += self.usage[dest, task]
            self.count[source] -= 1
            self.count[dest] += 1
            self.score += float(self.cost[dest, task] - self.cost[source, task])
            self.until[source, task] = until
            self.plan[task] = dest
        self.round += 1


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
    tabu: np.ndarray,
    aspiration: float,
    rows: np.ndarray,
) -> tuple[list[tuple[int, int]] | None, float]:
    """The best feasible move as (task, new agent) steps in order, and its change of
    score; (None, inf) when no move is feasible. Swaps and chains move one of `rows`
    onto another task's agent. A move putting a task onto a `tabu` pair is left out
    unless it changes the score by less than `aspiration`."""
    n = len(plan)
    tasks = np.arange(n)
    here = cost[plan, tasks]  # float[n]
    room = capacity - load + 1e-9  # float[m, d]
    # Shift: task j to agent i.
    fits = np.all(usage <= room[:, None, :], axis=2) & (count < problem.max_tasks)[:, None]
    shift = np.where(fits, cost - here[None, :], np.inf)
    shift[plan, tasks] = np.inf
    free_shift = np.where(tabu, np.inf, shift)
    # Best way for each task k to leave its agent (the chain's second step).
    leave = free_shift.min(axis=0)
    leave_to = free_shift.argmin(axis=0)
    # onto[r, k]: j = rows[r] moves onto k's agent b = plan[k] (k leaves b or swaps
    # into j's agent a).
    b, a = plan, plan[rows]
    onto = cost[b[None, :], rows[:, None]] - here[rows][:, None]  # C[b_k, j] - C[a_j, j]
    same = a[:, None] == b[None, :]
    # Room on b_k after j arrives and k leaves: room[b] + u[b,k] - u[b,j] >= 0.
    ok_b = np.ones((len(rows), n), dtype=bool)
    for d in range(usage.shape[2]):
        u_bk = usage[b, tasks, d]  # float[n] (k)
        u_bj = usage[b[None, :], rows[:, None], d]  # float[rows (j), n (k)]
        ok_b &= u_bj <= room[b, d][None, :] + u_bk[None, :]
    chain = np.where(ok_b & ~same, onto + leave[None, :], np.inf)
    # Swap: k goes to j's agent a instead; room on a after k arrives and j leaves.
    back = cost[a[:, None], tasks[None, :]] - here[None, :]  # C[a_j, k] - C[b_k, k]
    ok_a = np.ones((len(rows), n), dtype=bool)
    for d in range(usage.shape[2]):
        u_aj = usage[a, rows, d]
        u_ak = usage[a[:, None], tasks[None, :], d]
        ok_a &= u_ak <= room[a, d][:, None] + u_aj[:, None]
    swap = np.where(ok_b & ok_a & ~same, onto + back, np.inf)
    onto_tabu = tabu[b[None, :], rows[:, None]]  # j onto b_k
    back_tabu = tabu[a[:, None], tasks[None, :]]  # k onto a_j
    shift = np.where(tabu & (shift >= aspiration), np.inf, shift)
    chain = np.where(onto_tabu & (chain >= aspiration), np.inf, chain)
    swap = np.where((onto_tabu | back_tabu) & (swap >= aspiration), np.inf, swap)
    best_shift, best_chain, best_swap = float(shift.min()), float(chain.min()), float(swap.min())
    best = min(best_shift, best_chain, best_swap)
    if not np.isfinite(best):
        return None, best
    if best == best_shift:
        i, j = np.unravel_index(int(shift.argmin()), shift.shape)
        return [(int(j), int(i))], best
    if best == best_swap:
        r, k = np.unravel_index(int(swap.argmin()), swap.shape)
        j = rows[r]
        return [(int(j), int(plan[k])), (int(k), int(plan[j]))], best
    r, k = np.unravel_index(int(chain.argmin()), chain.shape)
    j = rows[r]
    # k leaves first so that b has room when j arrives; k's destination was checked
    # against loads before j left its agent, which only frees room.
    return [(int(k), int(leave_to[k])), (int(j), int(plan[k]))], best
