"""Descent over every shift, swap and two-step ejection chain of a plan, vectorised.

Between the LNS's exact sub-solves (a few per second) this checks all moves of the
kinds Yagiura and Ibaraki's ejection-chain searches are built on, over all agents at
once: move one task (shift), exchange two tasks (swap), or move task j onto agent b
while b's task k moves on to a third agent (chain). A sub-solve over a few chosen
agents contains such a move only when it happens to pick all of its agents. Each round
builds every move's change of score, O(n x min(n, ROWS)) work; a plain descent then takes
all improving moves on disjoint agents, best first, and a tabu walk the single best.

Applies to plans whose score is a sum of per-pair costs (`pair_costs`) with every task
placed and no group rules; `applies` says when.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from models import CompiledProblem

__all__ = ["agent_loads", "applies", "descend"]

#: Tasks above which the descent does not run (memory: ROWS x n tables, time per round).
MAX_TASKS = 2_000
#: Tasks that may move onto another task's agent (swap, chain) per round: larger plans
#: cycle through blocks of this many, so a round is O(ROWS x n) instead of O(n^2) (at
#: 1,600 tasks a full round took 0.25-1 s on the loaded 2-core machine).
ROWS = 400
#: Improving moves of each kind per agent one plain-descent round considers taking.
CANDIDATES_PER_AGENT = 4


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
    """(best plan seen, moves made): take the best improving moves on disjoint agents
    each round until none improves (`patience` 0) or, as a tabu search, take the best
    feasible move each round until `patience` rounds in a row found
    no better plan; or until the clock passes `deadline` (time.perf_counter). A task
    may not return to the agent it left for the next few moves. `cost` is float[m, n], inf
    where a task may not go."""
    rng = rng if rng is not None else np.random.default_rng(0)
    walk = _Walk(problem, plan, cost)
    blocks = np.array_split(rng.permutation(len(plan)), -(-len(plan) // ROWS))
    best, best_score, stale, moves, misses = walk.plan.copy(), walk.score, 0, 0, 0
    # A plain descent takes every improving move on agents no better move touches (one
    # round's tables serve them all); the tabu walk one move per round.
    pick = _disjoint_moves if patience == 0 else _best_move
    while time.perf_counter() < deadline and stale <= patience:
        rows = blocks[(walk.round + misses) % len(blocks)]
        found = pick(walk.tables(walk.tabu_mask(), best_score - walk.score, rows), walk.plan)
        if not found:  # (`_disjoint_moves` returns improving moves only)
            misses += 1  # on large plans, another block of tasks may still move
            if misses >= len(blocks):
                break
            continue
        misses = 0
        for move, _ in found:
            walk.apply(move, walk.round + _TENURE + int(rng.integers(0, _TENURE)))
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
        self.load = agent_loads(self.usage, self.plan, problem.n_agents)
        self.count = np.bincount(self.plan, minlength=problem.n_agents)
        self.score = float(cost[self.plan, np.arange(len(self.plan))].sum())
        self.until = np.zeros(cost.shape, dtype=np.int64)  # pair tabu before this round
        self.round = 0

    def tabu_mask(self) -> np.ndarray:
        return self.until > self.round

    def tables(self, tabu: np.ndarray, aspiration: float, rows: np.ndarray) -> _Tables:
        return _tables(
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


def agent_loads(usage: np.ndarray, plan: np.ndarray, m: int) -> np.ndarray:
    """float[m, d]: each agent's load per resource under `plan` (every task placed)."""
    tasks = np.arange(len(plan))
    out = np.zeros((m, usage.shape[2]))
    for k in range(usage.shape[2]):
        out[:, k] = np.bincount(plan, weights=usage[plan, tasks, k], minlength=m)
    return out


class _Tables(NamedTuple):
    """Each move's change of score (inf where infeasible or tabu) for one round."""

    shift: np.ndarray  # float[m, n]: task j to agent i
    chain: np.ndarray  # float[rows, n]: rows[r] onto k's agent, k on to leave_to[k]
    swap: np.ndarray  # float[rows, n]: rows[r] and k exchange agents
    leave_to: np.ndarray  # int[n]: where k goes in a chain
    rows: np.ndarray


def _tables(
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
) -> _Tables:
    """Every shift, swap and chain of this round. Swaps and chains move one of `rows`
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
    return _Tables(shift, chain, swap, leave_to, rows)


Move = list[tuple[int, int]]  # (task, new agent) steps, in order


def _as_move(tables: _Tables, plan: np.ndarray, kind: int, flat: int) -> Move:
    """The steps of entry `flat` of table `kind` (0 shift, 1 swap, 2 chain)."""
    if kind == 0:
        agent, task = divmod(flat, tables.shift.shape[1])
        return [(task, agent)]
    r, k = divmod(flat, tables.swap.shape[1])
    j = int(tables.rows[r])
    if kind == 1:
        return [(j, int(plan[k])), (k, int(plan[j]))]
    # k leaves first so that b has room when j arrives; k's destination was checked
    # against loads before j left its agent, which only frees room.
    return [(k, int(tables.leave_to[k])), (j, int(plan[k]))]


def _best_move(tables: _Tables, plan: np.ndarray) -> list[tuple[Move, float]]:
    """The best feasible move and its change of score; [] when no move is feasible."""
    kinds = (tables.shift, tables.swap, tables.chain)
    flats = [int(t.argmin()) for t in kinds]
    values = [float(t.flat[f]) for t, f in zip(kinds, flats, strict=True)]
    kind = int(np.argmin(values))
    if not np.isfinite(values[kind]):
        return []
    return [(_as_move(tables, plan, kind, flats[kind]), values[kind])]


def _disjoint_moves(tables: _Tables, plan: np.ndarray) -> list[tuple[Move, float]]:
    """Improving moves, best first, each on agents no better one of them touches: moves
    on disjoint agents change disjoint loads and tasks, so each stays feasible and
    keeps its change of score after the others. Taking them all from one round's tables
    (O(ROWS x n) to build) instead of one per round: d801600's LP rounding went from 2.03 %
    above best-known to 0.39 % in 0.1 s and to its local optimum, 0.24 %, in 0.8 s; one
    move per round took it to 1.12 % in 0.25 s and to 0.21 % in 2.2 s."""
    m = tables.shift.shape[0]
    keep = CANDIDATES_PER_AGENT * m
    found: list[tuple[float, int, int]] = []
    for kind, table in enumerate((tables.shift, tables.swap, tables.chain)):
        values = table.ravel()
        top = np.argpartition(values, keep)[:keep] if values.size > keep else np.arange(values.size)
        top = top[values[top] < -1e-9]
        found += [(float(values[f]), kind, int(f)) for f in top]
    used = np.zeros(m, dtype=bool)
    moves: list[tuple[Move, float]] = []
    found.sort()
    for delta, kind, flat in found:
        move = _as_move(tables, plan, kind, flat)
        agents = {int(plan[task]) for task, _ in move} | {dest for _, dest in move}
        if not used[list(agents)].any():
            used[list(agents)] = True
            moves.append((move, delta))
    return moves
