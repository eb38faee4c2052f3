"""Lagrangian bound with the assignment rows relaxed: one 0/1 knapsack per agent.

The capacity-row relaxation (`lagrangian.py`) can never beat the LP bound; this one keeps
each agent's capacity as a knapsack constraint, so it can: with multipliers u_j >= 0 on
"each task at least once" (every plan covers each task once, so relaxing = to >= keeps
the bound valid), L(u) = sum_j u_j - sum_i max { sum_j (u_j - c_ij) x_ij : agent i's
packing fits }, each knapsack solved exactly (`knapsack_kernel.py`). Every value is an
exact L(u), so valid for any u. On the classic small GAPs it closes most of the LP gap
(d20100: LP 6,142.5, this 6,176, optimum 6,185; e20100: 8,359.6, 8,431, 8,436).

Dropped, which only lowers the bound: every resource of an agent but its tightest one,
`max_tasks`, group rules and the non-linear objectives (all >= 0). Usage is counted in
integer units: a weight is rounded down and a capacity up after scaling, so every plan's
packing still fits. Needs every task placed (`allow_unassigned` off).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from models import CompiledProblem
from solvers.bounds.lagrangian import pair_costs
from solvers.shared.subgradient import TargetFollowing, subgradient_ascent

__all__ = [
    "KnapsackDual",
    "knapsack_dual",
    "penalties_at",
    "preload",
    "skip_reason",
    "units_for",
]

#: Evaluations over which a rise of the bound by under a millionth ends the climb
#: (d20200: 12,229.60 after 200 steps, 12,229.62 after 500; d20100 6,175.97, 6,176.05).
PLATEAU = 50
#: Steps a climb takes to pay, about (200-300 to converge on the classic GAPs): when one
#: step costs more than the budget over this, the climb ends after its first steps
#: (d801600: 75 ms a step, where the LP is already within 0.001 % of best-known).
STEPS_TO_PAY = 100
#: Capacity units of a scaled knapsack (fractional usage, or tables too large) at most.
MAX_UNITS = 4_000
#: Cells of the traceback table (tasks x capacity units, one byte each) at most; usage is
#: scaled down to fit. The work per step is far smaller (only tasks with a positive
#: profit enter a table) and the climb's deadline and plateau bound it.
MAX_CELLS = 50_000_000
#: Scaled-down knapsacks lose up to one unit per packed task; with n / m tasks per
#: packing, beyond this share of the smallest capacity the bound says too little (d40400
#: scaled to 250 units, 10 tasks per agent: 1.4 % below best-known, the LP 0.035 %).
MAX_ROUNDING = 0.01
#: Steps between two multiplier vectors of the climb's trail (`knapsack_dual(trail=)`):
#: its best multipliers after every 13th step from the 200th of d40400's climb, each
#: rounded by its penalties and descended, gave plans 0.28-0.52 % above best-known (median
#: 0.41); consecutive vectors give nearly the same rounding.
TRAIL_SPACING = 10


@dataclass
class KnapsackDual:
    """The best bound, the task multipliers u[n] that gave it, steps and method."""

    bound: float
    multipliers: np.ndarray
    iterations: int
    method: str
    #: float64[m, n]: how much the bound rises when task j is forced onto agent i (inf
    #: where it may not go); bound + penalty bounds every plan with that pair. None when
    #: not asked for or the climb was stopped.
    penalties: np.ndarray | None = None
    #: int64[n]: at the best multipliers, the agent whose best packing takes task j when
    #: exactly one does (-1: none or several). None when the climb was stopped.
    packed: np.ndarray | None = None
    #: float64[m]: each agent's best knapsack value at the best multipliers (max over
    #: its packings of the sum of u_j - cost_ij), so bound = sum(u) - sum(agent_values)
    #: up to the safety margin. None when they (with the penalties) were not asked
    #: for or the climb was stopped.
    agent_values: np.ndarray | None = None
    #: float64[n] each: the best multipliers at up to `trail` late new bests of the climb,
    #: TRAIL_SPACING steps apart at least, oldest first (empty when not asked for).
    trail: list[np.ndarray] = field(default_factory=list)


def skip_reason(problem: CompiledProblem) -> str | None:
    """Why the bound does not apply to `problem` (None: it does)."""
    if problem.allow_unassigned:
        return "tasks may stay unassigned: the knapsack bound relaxes 'each task once'"
    if problem.n_dims == 0:
        return "no resource: the agents' knapsacks do not bind"
    if units_for(problem) is None:
        return (
            f"the knapsack tables would need more than {MAX_CELLS:,} cells, and scaled "
            "down to fit they would round too coarsely"
        )
    return None


def knapsack_dual(
    problem: CompiledProblem,
    deadline: float,
    start: np.ndarray | None = None,
    iterations: int = 2_000,
    stop: Callable[[], bool] | None = None,
    penalties: bool = False,
    enough: float = np.inf,
    agent_values: bool = False,
    trail: int = 0,
    rule: TargetFollowing | None = None,
) -> KnapsackDual | None:
    """Subgradient ascent on the task multipliers from `start` (float[n], e.g. each
    task's least reduced cost under capacity prices) until `deadline` (perf_counter) or
    `stop()`; None when the bound does not apply or no evaluation finished in time.
    With `penalties`, also each pair's forced-assignment penalty at the best multipliers.
    The climb ends once the bound exceeds `enough` (e.g. what proves a known plan optimal).
    With `agent_values` (and `penalties`), also each agent's knapsack value there; with
    `trail`, the multipliers of that many of the climb's last new bests (near-optimal
    multipliers whose roundings lead to different plans). `rule`: the step rule, to go on
    with a rule a climb before left (its step keeps the size it had)."""
    from solvers.bounds.knapsack_kernel import forced_penalties, knapsacks

    units = units_for(problem)
    if units is None or problem.allow_unassigned:
        return None
    weight, cap = units
    began = time.perf_counter()
    cost, _ = pair_costs(problem)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    n = problem.n_tasks
    cover = np.zeros(n, dtype=np.int64)
    owner = np.zeros(n, dtype=np.int64)
    keep = np.empty((n, int(cap.max(initial=0)) + 1), dtype=np.bool_)

    best: list[float] = []  # the best value after each evaluation
    clock = [0.0]  # this thread's CPU time when the first evaluation ended (it loads the kernel)
    kept: deque[tuple[int, np.ndarray]] = deque(maxlen=max(trail, 1))  # (step, u)
    budget = deadline - began

    def relaxed(mu: np.ndarray) -> tuple[float, np.ndarray] | None:
        if stop is not None and stop():
            return None
        tolerance = 1e-6 * max(1.0, abs(best[-1])) if best else 0.0
        if len(best) > PLATEAU and best[-1] - best[-PLATEAU] <= tolerance:
            return None  # converged: its core is worth more to whoever runs beside
        if best and best[-1] > enough:
            return None  # high enough for the caller
        # Steps too dear? Their mean since the first step (which loads the kernel), on
        # this thread's CPU clock: the wall clock also counts the waits for the GIL and
        # for a core beside the LNS's LP, which ended c401600's climb after 3 steps in
        # about half of its LNS runs (4 ms a step alone; 264 steps to converge). Checked
        # at every step: on D and E of 1,600 tasks the steps grow dear as the
        # multipliers rise (d801600: 40 ms a step on average over its first 38).
        if len(best) >= 3 and (time.thread_time() - clock[0]) * STEPS_TO_PAY > budget * (
            len(best) - 1
        ):
            return None
        if len(best) == 1:
            clock[0] = time.thread_time()
        u = np.ascontiguousarray(mu[:, 0])
        value = float(u.sum()) - knapsacks(cost, weight, cap, u, cover, owner, keep)
        if (
            trail
            and best
            and value > best[-1]
            and (not kept or len(best) - kept[-1][0] >= TRAIL_SPACING)
        ):
            kept.append((len(best), u.copy()))
        best.append(max(value, best[-1]) if best else value)
        return value, (1 - cover).astype(np.float64)[:, None]

    if start is None:
        finite = np.where(np.isfinite(cost), cost, np.nan)
        start = np.nan_to_num(np.nanmin(finite, axis=0), nan=0.0)
    ascent = subgradient_ascent(
        relaxed,
        (n, 1),
        TargetFollowing() if rule is None else rule,
        iterations=iterations,
        deadline=deadline,
        start=np.asarray(start, dtype=np.float64).reshape(n, 1),
    )
    if not np.isfinite(ascent.bound):
        return None
    # The knapsack values are float64 sums; stay on the safe side of the exact value.
    bound = ascent.bound - 1e-9 * max(1.0, abs(ascent.bound))
    seconds = time.perf_counter() - began
    method = (
        f"Lagrangian dual of the assignment rows (a 0/1 knapsack per agent, "
        f"{len(best)} steps, {seconds:.2f} s)"
    )
    u = np.ascontiguousarray(ascent.multipliers[:, 0])
    table = packed = None
    if not (stop is not None and stop()):
        knapsacks(cost, weight, cap, u, cover, owner, keep)
        packed = np.where(cover == 1, owner, -1)
    values = None
    if penalties and not (stop is not None and stop()):
        table = np.empty(cost.shape)
        forced_penalties(cost, weight, cap, u, table)
    if penalties and agent_values and not (stop is not None and stop()):
        values = np.array(
            [
                knapsacks(cost[i : i + 1], weight[i : i + 1], cap[i : i + 1], u, cover, owner, keep)
                for i in range(problem.n_agents)
            ]
        )
    return KnapsackDual(
        bound, u, len(best), method, table, packed, values, [v for _, v in kept] if trail else []
    )


def penalties_at(problem: CompiledProblem, multipliers: np.ndarray) -> np.ndarray | None:
    """float64[m, n]: each pair's forced-assignment penalty at `multipliers` (float[n]), as
    `KnapsackDual.penalties` (inf where a task may not go); None where the bound does not
    apply."""
    from solvers.bounds.knapsack_kernel import forced_penalties

    units = units_for(problem)
    if units is None:
        return None
    weight, cap = units
    cost = np.ascontiguousarray(pair_costs(problem)[0], dtype=np.float64)
    table = np.empty(cost.shape)
    u = np.ascontiguousarray(multipliers, dtype=np.float64)
    forced_penalties(cost, weight, cap, u, table)
    return table


def units_for(problem: CompiledProblem) -> tuple[np.ndarray, np.ndarray] | None:
    """(weight int64[m, n], capacity int64[m], -1 where no capacity binds) in integer
    units of each agent's tightest resource, or None when the tables would be too large
    or too coarse."""
    if problem.n_dims == 0:
        return None
    usage = problem.usage.astype(np.float64)  # [m, n, d]
    capacity = problem.capacity.astype(np.float64)  # [m, d]
    eligible = problem.eligible
    load = np.where(eligible[:, :, None], usage, 0.0).sum(axis=1)  # [m, d]
    with np.errstate(divide="ignore", invalid="ignore"):
        tightness = np.where(capacity > 0, load / capacity, np.inf)
    agents = np.arange(problem.n_agents)
    dim = tightness.argmax(axis=1)
    a, cap = usage[agents, :, dim], capacity[agents, dim]  # [m, n], [m]
    binding = np.isfinite(cap) & (load[agents, dim] > cap + 1e-9)
    if not binding.any():
        return None
    if (a[binding] < 0).any() or (cap[binding] < 0).any():
        return None  # a negative usage would need rounding up: not worth it
    integral = bool(np.all(a[binding] == np.round(a[binding])))
    room = min(float(MAX_UNITS), MAX_CELLS / problem.n_tasks - 1)  # units a table may have
    if integral and float(cap[binding].max()) <= room:
        # integer usage within the table size: counted as is
        weight, units = np.round(a), np.round(cap)
    else:  # every capacity scaled to as many units as the tables allow
        target = room
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(cap > 0, target / cap, 1.0)
        # Weights rounded down, capacities up: every packing still fits.
        weight = np.floor(a * scale[:, None] * (1 - 1e-12))
        units = np.floor(cap * scale * (1 + 1e-12) + 1e-6)
        positive = binding & (cap > 0)
        per_packing = problem.n_tasks / problem.n_agents
        if positive.any() and per_packing > MAX_ROUNDING * float(units[positive].min()):
            return None
    weight = np.where(eligible, np.maximum(weight, 0), 0)
    cap_units = np.where(binding, units, -1)
    return np.ascontiguousarray(weight.astype(np.int64)), cap_units.astype(np.int64)


def preload() -> None:
    """Load the kernel (from numba's cache; compiled on the first use after an install)."""
    from solvers.bounds.knapsack_kernel import forced_penalties, knapsacks, task_forced

    one = np.ones((1, 1))
    weight, cap, u = np.ones((1, 1), dtype=np.int64), np.ones(1, dtype=np.int64), np.full(1, 2.0)
    index = np.zeros(1, dtype=np.int64)
    knapsacks(one, weight, cap, u, index, index.copy(), np.empty((1, 2), dtype=np.bool_))
    forced_penalties(one, weight, cap, u, np.empty((1, 1)))
    task_forced(one, weight, cap, u, 0, np.empty(1), np.empty(1))


if __name__ == "__main__":  # `python -m solvers.bounds.knapsack_bound`: compile (install)
    preload()
