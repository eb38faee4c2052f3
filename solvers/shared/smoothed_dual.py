"""LP-quality capacity prices fast: L-BFGS on the entropy-smoothed Lagrangian dual.

Relaxing the capacity rows with multipliers mu >= 0 gives, for ANY mu, the valid bound
L(mu) = sum_j min_i (c_ij + mu_i . a_ij) - mu . capacity (max over mu: the LP bound).
L is piecewise linear, so subgradient steps crawl (20,000 x 500: 2.5 % short of the LP
after 8 s). Replacing each task's min by a soft-min at temperature eps,
-eps log sum_i exp(-(c_ij + mu_i . a_ij) / eps), makes the dual smooth (its gradient is
the expected usage minus capacity), so L-BFGS-B (bounds mu >= 0) climbs it in tens of
evaluations; eps shrinks in stages towards the unsmoothed dual. Every evaluation also
reads the exact min per task from the same reduced costs, so each one yields L(mu),
and the bound is the best of those: valid whatever the smoothing did.
Measured on 20,000 x 500 (bench.scale instance, load 7): 41 evaluations gave L = 81.5k,
83 gave 82.7k, where the subgradient had 80.9k after 211 steps.
An evaluation reads every pair once, in cache-sized blocks of tasks: O(m n d) float32 work
(20,000 x 500: about 0.04 s of CPU; 0.2 s before the blocks and the exponent floor).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SmoothedDual", "preload", "same_on_every_agent", "smoothed_dual"]

#: Temperatures of the stages, as shares of the mean eligible pair cost. The warm ones
#: run on a random quarter of the tasks (capacities scaled to match) when that leaves
#: at least `_SAMPLE_PER_AGENT` tasks per agent; the cold ones read every pair. On
#: 20,000 x 500 at the same CPU time (4.6-4.9 s) the sampled start ended at 83.3k
#: with a plan of 84.4k, all stages on every pair at 83.0k and 85.1k. Colder stages on
#: each task's 32 best agents (an exact pass every 30 list steps) ended lower (82.3k)
#: and their prices built a plan 11 % worse: the lists steer the prices astray.
_WARM_STAGES = (0.05, 0.02, 0.01)
_COLD_STAGES = (0.005, 0.0025)
_SAMPLE = 0.25
_SAMPLE_PER_AGENT = 10
#: Share of the time the sampled stages take (an evaluation there costs about a quarter).
_SAMPLE_TIME = 0.5
#: L-BFGS memory (pairs of vectors kept).
_MEMORY = 20
#: Soft-min exponents are floored here (see `_Evaluator._soft`).
_LEAST_EXPONENT = np.float32(-80.0)
#: Pairs per block of an evaluation's pass (float32: 512 KiB per buffer; see `_Evaluator`).
_BLOCK_ELEMENTS = 1 << 17


@dataclass
class SmoothedDual:
    """The best exact L(mu) seen, its multipliers, and what it took."""

    bound: float
    multipliers: np.ndarray  # float64[m, d]
    evaluations: int
    seconds: float
    #: The last stage's best smoothed point and its temperature: the soft-min's
    #: probabilities there are a fractional plan close to the LP's (see `fractional`).
    prices: np.ndarray  # float64[m, d]
    temperature: float

    sampled: bool = False  # warm stages on a sample of the tasks
    #: Each stage's best smoothed point from the coldest warm stage on, coldest last: a
    #: plan built from near-LP prices changes by a percent between such neighbours.
    stage_prices: list[np.ndarray] = field(default_factory=list)

    @property
    def method(self) -> str:
        start = ", warm start on a quarter of the tasks" if self.sampled else ""
        return (
            f"Lagrangian dual of the capacity rows (L-BFGS on the entropy-smoothed dual"
            f"{start}, {self.evaluations} exact evaluations over every pair, "
            f"{self.seconds:.2f} s)"
        )


def same_on_every_agent(usage: np.ndarray) -> bool:
    """Whether usage[m, n, d] is the same on every agent (attribute form); a broadcast
    view (stride 0 over agents) says so without the m x n x d comparison."""
    return usage.strides[0] == 0 or bool(np.all(usage == usage[:1]))


class _Evaluator:
    """mu -> (-smoothed dual, -gradient) for L-BFGS; records the exact L(mu) of each call.

    One pass reads the pairs in blocks of tasks small enough to stay in cache while the
    reduced costs, their minimum, the soft-min and its usage are taken from them: over
    the whole m x n array at once each of those steps went out to memory again (20,000 x
    500: 0.09 s of CPU per evaluation against 0.04 s in blocks).
    """

    def __init__(self, cost, usage, capacity, left_out, deadline):
        self.cost = cost  # float32[m, n], inf where not eligible
        m, n, d = usage.shape
        self.shape = (m, d)
        # Attribute form (usage the same on every agent): the gradient is one product.
        # A broadcast view (stride 0 over agents) is shared without the m x n x d compare.
        self.shared_usage = same_on_every_agent(usage)
        self.usage = usage[0] if self.shared_usage else usage
        self.capacity = capacity.astype(np.float64)
        self.left_out = left_out
        self.deadline = deadline
        self.block = max(1, min(n, _BLOCK_ELEMENTS // max(m, 1)))
        self.work = np.empty((m, self.block), dtype=np.float32)
        self.spare = np.empty((m, self.block), dtype=np.float32)
        self.best, self.best_mu, self.calls = -np.inf, np.zeros((m, d)), 0
        self.eps = 1.0
        self.stage_best, self.stage_x = -np.inf, np.zeros(m * d)  # smoothed value at eps

    def new_stage(self, eps: float, x: np.ndarray) -> None:
        self.eps, self.stage_best, self.stage_x = eps, -np.inf, x.copy()

    def _reduced(self, mu32: np.ndarray, a: int, b: int) -> np.ndarray:
        """c_ij + mu_i . a_ij for the tasks a..b-1, in the work buffer."""
        red, spare = self.work[:, : b - a], self.spare[:, : b - a]
        np.copyto(red, self.cost[:, a:b])
        for k in range(self.shape[1]):
            if not np.any(mu32[:, k]):
                continue
            if self.shared_usage:
                np.multiply(mu32[:, k, None], self.usage[None, a:b, k], out=spare)
            else:
                np.multiply(mu32[:, k, None], self.usage[:, a:b, k], out=spare)
            red += spare
        return red

    def _soft(self, red: np.ndarray, low: np.ndarray, a: int, b: int):
        """Each task's soft-min at eps and its usage expected under the soft-min's
        probabilities, from the block's reduced costs (overwritten)."""
        red -= low.astype(np.float32)[None, :]
        red *= np.float32(-1.0 / self.eps)
        # Floor the exponents where exp stays a normal float32 (exp(-87.3) is the least):
        # subnormal terms made the exp and the usage product 2-8x slower (most of the
        # pairs at the cold stages), and the floor moves each term by under 1e-34.
        np.maximum(red, _LEAST_EXPONENT, out=red)
        np.exp(red, out=red)
        total = red.sum(axis=0, dtype=np.float64)
        if self.left_out is not None:
            total += np.exp(-(self.left_out[a:b] - low) / self.eps)
        soft = low - self.eps * np.log(total)
        weight = (1.0 / total).astype(np.float32)  # each task's probabilities sum to one
        if self.shared_usage:
            used = red @ (self.usage[a:b] * weight[:, None])
        else:
            used = np.stack(
                [(red * self.usage[:, a:b, k]) @ weight for k in range(self.shape[1])], axis=1
            )
        return soft, used

    def evaluate(self, mu: np.ndarray, smooth: bool) -> tuple[float, np.ndarray | None]:
        """One pass over every pair: records the exact L(mu); with `smooth`, returns the
        smoothed dual at eps and its gradient (else nan, None)."""
        self.calls += 1
        mu32 = mu.astype(np.float32)
        n = self.cost.shape[1]
        low = np.empty(n)
        soft = np.empty(n) if smooth else None
        used = np.zeros(self.shape)
        for a in range(0, n, self.block):
            b = min(n, a + self.block)
            red = self._reduced(mu32, a, b)
            low[a:b] = red.min(axis=0)
            if self.left_out is not None:
                low[a:b] = np.minimum(low[a:b], self.left_out[a:b])
            if soft is not None:
                soft[a:b], block_used = self._soft(red, low[a:b], a, b)
                used += block_used
        priced = float((mu * self.capacity).sum())
        exact = float(low.sum()) - priced
        # float32 reduced costs are exact to ~1e-7 relative per term.
        exact -= 1e-6 * (float(np.abs(low).sum()) + abs(priced) + 1.0)
        if exact > self.best:
            self.best, self.best_mu = exact, mu.copy()
        if soft is None:
            return np.nan, None
        return float(soft.sum()) - priced, used - self.capacity

    def exact(self, mu: np.ndarray) -> None:
        """Record L(mu) (one pass, no smoothing)."""
        self.evaluate(mu, smooth=False)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        if time.perf_counter() > self.deadline:
            raise _OutOfTime
        value, gradient = self.evaluate(np.maximum(x.reshape(self.shape), 0.0), smooth=True)
        assert gradient is not None
        if value > self.stage_best:
            self.stage_best, self.stage_x = value, x.copy()
        return -value, -gradient.ravel()


class _OutOfTime(Exception):
    """Raised inside an evaluation past the deadline: L-BFGS stops there."""


def smoothed_dual(
    cost: np.ndarray,
    usage: np.ndarray,
    capacity: np.ndarray,
    deadline: float,
    *,
    left_out: np.ndarray | None = None,
    start: np.ndarray | None = None,
    evaluations: int | None = None,
    scale: float | None = None,
) -> SmoothedDual:
    """Climb the smoothed dual until `deadline` (perf_counter) or about `evaluations` calls.

    cost: float32[m, n] (inf where a task may not go); usage: float32[m, n, d] >= 0;
    capacity: float[m, d]; left_out: float64[n] cost of leaving a task out, or None when
    every task must be placed. With `evaluations` each stage gets a quarter of them
    (sampled stages three times that); otherwise the clock splits the stages. `scale`
    is the mean |eligible cost| when the caller has it (the temperatures are shares of
    it); None computes it here, with a copy of every eligible cost.
    """
    t0 = time.perf_counter()
    m, n, d = usage.shape
    cost = np.asarray(cost, dtype=np.float32)
    if scale is None:
        finite = cost[np.isfinite(cost)]
        scale = float(np.abs(finite).mean()) if finite.size else 1.0
    x = np.zeros(m * d) if start is None else np.maximum(start, 0.0).ravel().astype(np.float64)
    calls = None if evaluations is None else max(2, evaluations // 5)
    sampled = _SAMPLE * n >= _SAMPLE_PER_AGENT * m
    stages: list[tuple[float, bool]] = [(e, sampled) for e in _WARM_STAGES]
    stages += [(e, False) for e in _COLD_STAGES]
    ends = _stage_ends(t0, deadline, [on_sample for _, on_sample in stages])
    full = _Evaluator(cost, usage, capacity, left_out, deadline)
    part = _sample_evaluator(cost, usage, capacity, left_out, deadline) if sampled else None
    kept: list[np.ndarray] = []
    for (share, on_sample), end in zip(stages, ends, strict=True):
        evaluator = part if on_sample and part is not None else full
        evaluator.new_stage(max(share * scale, 1e-9), x)
        if evaluations is None:
            evaluator.deadline = min(deadline, end)
        # A sampled evaluation costs about a quarter: three times the calls.
        _climb(evaluator, x, None if calls is None else calls * (3 if on_sample else 1))
        x = evaluator.stage_x  # the stage's best smoothed point (scipy keeps none on a stop)
        if share <= _WARM_STAGES[-1]:
            kept.append(x.reshape(m, d).copy())
        if time.perf_counter() > deadline:
            break
    if full.calls == 0 and time.perf_counter() < deadline:
        full.exact(np.maximum(x.reshape(m, d), 0.0))  # a bound needs one pass over all
    return SmoothedDual(
        full.best,
        full.best_mu,
        full.calls,
        time.perf_counter() - t0,
        x.reshape(m, d),
        full.eps,
        sampled,
        kept,
    )


def _sample_evaluator(cost, usage, capacity, left_out, deadline) -> _Evaluator:
    """The dual of a random `_SAMPLE` of the tasks with capacities scaled alike: its
    prices approximate the whole problem's; its values bound nothing."""
    n = usage.shape[1]
    tasks = np.sort(np.random.default_rng(0).choice(n, int(_SAMPLE * n), replace=False))
    # A broadcast usage stays one (a copy is m x n / 4 x d: 400 MB at 100,000 x 2,000).
    if usage.strides[0] == 0:
        sampled_usage = np.broadcast_to(
            usage[0, tasks][None], (usage.shape[0], len(tasks), usage.shape[2])
        )
    else:
        sampled_usage = np.ascontiguousarray(usage[:, tasks])
    return _Evaluator(
        np.ascontiguousarray(cost[:, tasks]),
        sampled_usage,
        np.asarray(capacity, dtype=np.float64) * (len(tasks) / n),
        None if left_out is None else left_out[tasks],
        deadline,
    )


def _stage_ends(t0: float, deadline: float, on_sample: list[bool]) -> list[float]:
    """perf_counter at which each stage ends: the sampled stages share `_SAMPLE_TIME` of
    the time (when there are any), the others the rest."""
    span = deadline - t0 if np.isfinite(deadline) else 0.0
    sampled = sum(on_sample)
    shares = [
        (_SAMPLE_TIME / sampled if s else (1 - _SAMPLE_TIME) / (len(on_sample) - sampled))
        if sampled
        else 1 / len(on_sample)
        for s in on_sample
    ]
    ends, at = [], t0
    for share in shares:
        at += share * span
        ends.append(at if np.isfinite(deadline) else np.inf)
    return ends


def preload() -> None:
    """Import scipy's optimizer now. Call it from the thread that forks, before a thread
    climbs: a fork taken while another thread holds an import lock leaves the child
    waiting on it for good."""
    import scipy.optimize  # noqa: F401


def _climb(fun, x: np.ndarray, calls: int | None) -> None:
    """L-BFGS-B on mu >= 0 from x for `calls` evaluations (None: until the clock stops it);
    the evaluator keeps the best point itself."""
    # Imported here, not at the top: the CLI's start must not load scipy (a third of a
    # 0.5 s limit), and only large requests climb.
    from scipy.optimize import minimize

    with contextlib.suppress(_OutOfTime):  # the clock ended the climb
        minimize(
            fun,
            x,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * len(x),
            options={
                "maxiter": 10**6,
                "maxfun": calls or 10**6,
                "maxcor": _MEMORY,
                "ftol": 0.0,
                "gtol": 0.0,
            },
        )
