"""Lagrangian dual of the capacity rows at scale: subgradient steps on candidate lists,
exact passes over every pair for the bound.

Relaxing the capacity rows with multipliers mu >= 0 gives, for ANY mu, the valid bound
L(mu) = sum_j min_i (c_ij + mu_i . a_ij) - mu . capacity. An exact evaluation reads all
m x n pairs (20,000 x 500: 60-150 ms), so the steps work on each task's K agents of
least reduced cost at the last exact pass (a step then costs O(K n d)). Every
`_STEPS_PER_PASS` steps an exact pass (in blocks of tasks, float32, so 100,000 x 2,000
needs tens of MiB of temporaries) gives L(mu), the bound, and fresh lists: steps on
stale lists aim at the wrong problem (measured on 20,000 x 500: a pass every 10 steps
reached 80.7k in 200 steps, every 30 steps 71.4k; the LP bound is about 83.0k).
Steps: Polyak towards a target a shrinking margin above the best exact value, never
above a known plan's value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from solvers.shared.subgradient import subgradient_ascent

__all__ = ["DualProblem", "DualResult", "candidate_dual", "exact_pass"]

#: Agents per task in the lists.
CANDIDATES = 16
#: Steps on the lists between exact passes (fewer: better steps, more time per step).
_STEPS_PER_PASS = 10
#: Weight of each new step in the running average of the multipliers.
_AVERAGE_WEIGHT = 0.05
#: Elements per block of an exact pass (float32: 16 MiB per temporary).
_BLOCK_ELEMENTS = 4_000_000


@dataclass
class DualProblem:
    """The relaxation's data: per-pair cost (inf where ineligible), usage, capacity.

    cost: float32[m, n] (inf: not eligible); usage: float32[m, n, d] >= 0;
    capacity: float[m, d]; left_out: float64[n] cost of leaving a task out, or None
    when every task must be placed. With `eligible` (bool[m, n]) the cost is
    `scale * cost` where eligible and inf elsewhere, applied block by block, so that a
    100,000 x 2,000 problem needs no second full matrix.
    """

    cost: np.ndarray
    usage: np.ndarray
    capacity: np.ndarray
    left_out: np.ndarray | None = None
    eligible: np.ndarray | None = None
    scale: float = 1.0

    @property
    def shape(self) -> tuple[int, int, int]:
        m, n, d = self.usage.shape
        return m, n, d

    def blocks(self) -> list[slice]:
        m, n, _ = self.shape
        step = max(1, _BLOCK_ELEMENTS // max(m, 1))
        return [slice(s, min(n, s + step)) for s in range(0, n, step)]

    def reduced(self, cols: slice, mu: np.ndarray) -> np.ndarray:
        """Reduced costs float32[m, B] of the tasks in `cols`."""
        if self.eligible is None:
            red = np.array(self.cost[:, cols], dtype=np.float32)
        else:
            red = np.where(self.eligible[:, cols], self.cost[:, cols], np.float32(np.inf))
            red = red.astype(np.float32, copy=False)
            if self.scale != 1.0:
                red *= np.float32(self.scale)
        spare = np.empty_like(red)
        for k in range(self.shape[2]):
            if np.any(mu[:, k]):
                np.multiply(self.usage[:, cols, k], mu[:, k, None].astype(np.float32), out=spare)
                red += spare
        return red

    def value(self, mins: np.ndarray, mu: np.ndarray) -> float:
        """sum_j min(mins_j, left_out_j) - mu . capacity, moved down by a float32 margin."""
        if self.left_out is not None:
            mins = np.minimum(mins, self.left_out)
        priced = float((mu * self.capacity).sum())
        total = float(mins.sum()) - priced
        # float32 reduced costs are exact to ~1e-7 relative per term.
        return total - 1e-6 * (float(np.abs(mins).sum()) + abs(priced) + 1.0)


@dataclass
class DualResult:
    """A valid bound, the multipliers giving it, and what it took."""

    bound: float
    multipliers: np.ndarray  # float64[m, d]
    iterations: int
    full_passes: int
    seconds: float

    @property
    def method(self) -> str:
        return (
            f"Lagrangian dual of the capacity rows (subgradient on candidate lists, "
            f"{self.iterations} steps, {self.full_passes} exact passes, {self.seconds:.2f} s)"
        )


def exact_pass(problem: DualProblem, mu: np.ndarray, k: int = 1) -> tuple[float, np.ndarray]:
    """L(mu) from every pair (a valid lower bound for any mu >= 0) and each task's k
    least reduced-cost agents, int64[k, n]."""
    m, n, _ = problem.shape
    k = min(k, m)
    mins = np.empty(n)
    agent = np.empty((k, n), dtype=np.int64)
    for cols in problem.blocks():
        red = problem.reduced(cols, mu).T  # [B, m]: one task's agents side by side
        top = np.argpartition(red, k - 1, axis=1)[:, :k] if k < m else np.argsort(red, axis=1)
        agent[:, cols] = top.T
        mins[cols] = np.take_along_axis(red, top, axis=1).min(axis=1)
    return problem.value(mins, mu), agent


class _Lists:
    """The candidate pairs: agents int64[K, n], their costs and per-dimension usage."""

    def __init__(self, problem: DualProblem, agent: np.ndarray):
        tasks = np.arange(agent.shape[1])
        self.agent = agent
        self.cost = problem.cost[agent, tasks].astype(np.float64)
        if problem.eligible is not None:
            self.cost *= problem.scale
            self.cost[~problem.eligible[agent, tasks]] = np.inf
        self.usage = [
            problem.usage[:, :, k][agent, tasks].astype(np.float64) for k in range(problem.shape[2])
        ]


class _Restricted:
    """The relaxation on the lists (step values and subgradients); every
    `_STEPS_PER_PASS` steps an exact pass for the bound and new list entries."""

    def __init__(self, problem: DualProblem, candidates: int, deadline: float):
        self.problem, self.candidates, self.deadline = problem, candidates, deadline
        self.best_exact, self.best_mu = -np.inf, np.zeros(problem.shape[::2])
        self.passes, self.pass_s, self.steps = 0, 0.0, 0
        self.average: np.ndarray | None = (
            None  # of the steps' multipliers, recent ones weighing most
        )

    def exact(self, mu: np.ndarray) -> None:
        tick = time.perf_counter()
        value, agent = exact_pass(self.problem, mu, self.candidates)
        self.pass_s = max(self.pass_s, time.perf_counter() - tick)
        self.passes += 1
        if value > self.best_exact:
            self.best_exact, self.best_mu = value, mu.copy()
        self.lists = _Lists(self.problem, agent)

    def __call__(self, mu: np.ndarray) -> tuple[float, np.ndarray] | None:
        now = time.perf_counter()
        if now + self.pass_s > self.deadline:
            return None
        self.steps += 1
        if self.average is None:
            self.average = mu.copy()
        else:
            self.average += _AVERAGE_WEIGHT * (mu - self.average)
        if self.steps % _STEPS_PER_PASS == 0 and now + 2 * self.pass_s < self.deadline:
            self.exact(mu)
        li, p = self.lists, self.problem
        m, n, d = p.shape
        red = li.cost.copy()
        for k in range(d):
            red += mu[:, k][li.agent] * li.usage[k]
        pick = red.argmin(axis=0)
        tasks = np.arange(n)
        low = red[pick, tasks]
        chosen = li.agent[pick, tasks]
        placed = np.ones(n, dtype=bool)
        if p.left_out is not None:
            placed = low <= p.left_out
            low = np.minimum(low, p.left_out)
        used = np.zeros((m, d))
        for k in range(d):
            use = li.usage[k][pick, tasks]
            used[:, k] = np.bincount(chosen[placed], weights=use[placed], minlength=m)
        return float(low.sum() - (mu * p.capacity).sum()), used - p.capacity


class _MovingTarget:
    """Polyak steps towards a target above the best exact value: a share `margin` of it,
    halved after `patience` steps without a better step value, floored at `floor`;
    never above a known plan's value (`ceiling`)."""

    def __init__(self, restricted: _Restricted, ceiling: float | None):
        self.restricted, self.ceiling = restricted, ceiling
        self.margin, self.floor, self.patience = 0.3, 0.002, 10
        self.since = 0

    def adapt(self, value: float, improved: bool, stalled: bool) -> None:
        self.since = 0 if improved else self.since + 1
        if self.since >= self.patience:
            self.margin, self.since = max(self.floor, self.margin / 2), 0

    def step(self, best: float, value: float) -> float:
        exact = self.restricted.best_exact
        anchor = exact if np.isfinite(exact) else value
        target = anchor + self.margin * max(1.0, abs(anchor))
        if self.ceiling is not None:
            target = min(target, self.ceiling)
        return max(target - value, 1e-9 * max(1.0, abs(target)))

    def exhausted(self, best: float) -> bool:
        return False


def candidate_dual(
    problem: DualProblem,
    deadline: float,
    *,
    start: np.ndarray | None = None,
    target: float | None = None,
    candidates: int = CANDIDATES,
    max_iterations: int = 1_000_000,
) -> DualResult:
    """Ascend from `start` (default 0) until `deadline`; the bound is an exact L(mu).

    `target`: a plan's value (an upper bound) that caps the Polyak target.
    """
    t0 = time.perf_counter()
    m, _, d = problem.shape
    mu = np.zeros((m, d)) if start is None else np.maximum(start, 0.0).astype(np.float64)
    restricted = _Restricted(problem, candidates, deadline)
    restricted.exact(mu)
    ascent = subgradient_ascent(
        restricted,
        (m, d),
        _MovingTarget(restricted, target),
        iterations=max_iterations,
        deadline=deadline,
        start=mu,
    )
    if time.perf_counter() + restricted.pass_s < deadline:
        restricted.exact(ascent.multipliers)  # the best step's multipliers
    if restricted.average is not None and time.perf_counter() + restricted.pass_s < deadline:
        restricted.exact(restricted.average)
    return DualResult(
        restricted.best_exact,
        restricted.best_mu,
        ascent.iterations,
        restricted.passes,
        time.perf_counter() - t0,
    )
