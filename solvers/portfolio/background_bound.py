"""The Lagrangian cost bound, computed in a thread beside the solver processes.

Used when the LP relaxation is not run (large requests). From `SMOOTHED_FROM_PAIRS`
agent-task pairs the multipliers come from the smoothed dual (L-BFGS), below from
subgradient steps; either way the value is an exact L(mu) evaluation, so valid, and
`method` says which produced it. The thread writes its value once, under a lock; the
runner reads it through `value`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from models import RunOptions
from models.compiled import CompiledProblem

# Imported here, not in the thread: the runner forks solver processes while this thread
# runs, and a fork taken while the thread holds a module's import lock leaves the child
# waiting on it for good (a cold CLI process lost its greedy plan that way).
from solvers.bounds.lagrangian import LagrangianResult, lagrangian_dual
from solvers.bounds.smoothed_bound import smoothed_lagrangian_dual
from solvers.shared import smoothed_dual

__all__ = ["BackgroundBound"]

_ITERATIONS = 300
#: Agents x tasks from which the bound is the smoothed dual's rather than the
#: subgradient's. Same budget, load 6-7 (BENCHMARKS.md, issue 12 part 2, background
#: bound): 4,000 x 250 in 0.4 s 17.8k against 15.6k, 20,000 x 500 in 2 s 82.7k against
#: 67.5k; at 2,000 x 40 the two tie (8.3k), the subgradient's exact steps being cheap.
SMOOTHED_FROM_PAIRS = 1_000_000
#: Beside other solvers (not alone with the greedy) the thread takes this share of the
#: limit, at most `_BESIDE_MAX_S` seconds: it shares their cores.
_BESIDE_SHARE = 0.2
_BESIDE_MAX_S = 2.0
#: Deterministic runs: pairs the smoothed dual reads per second, for its evaluation
#: count (a fifth of the rate measured at 20,000 x 500 on a loaded machine, as
#: lp_guided's, so that the count and not the clock ends it).
_DETERMINISTIC_PAIR_RATE = 5e7
#: Solvers that report a bound at least as good (the LP; lp_guided climbs the same
#: smoothed dual, and longer): the thread would only take their core.
_BOUND_ELSEWHERE = frozenset({"lp_bound", "lp_guided"})


class BackgroundBound:
    """A lower bound on the weighted score from the Lagrangian dual of the cost term."""

    def __init__(
        self,
        compiled: CompiledProblem,
        budget_s: float,
        on_bound: Callable[[float], None],
        deterministic: bool = False,
    ):
        self._compiled = compiled
        self._deterministic = deterministic
        self._budget_s = budget_s
        self._on_bound = on_bound
        self._lock = threading.Lock()
        self._value: float | None = None
        self.method: str | None = None  # how the value was obtained, once it exists
        self._thread = threading.Thread(target=self._work, name="lagrangian-bound", daemon=True)
        if self._smoothed:
            smoothed_dual.preload()  # in this thread: see the imports above

    @classmethod
    def start_if_useful(
        cls,
        compiled: CompiledProblem,
        options: RunOptions,
        names: list[str],
        on_bound: Callable[[float], None],
        *,
        wait: bool = False,
        deadline: float = float("inf"),
    ) -> BackgroundBound | None:
        """Start it in weighted mode with a cost weight, when the LP bound is not run and
        every task must be assigned (the relaxation drops "each task exactly once").

        With `wait` (deterministic runs) it is computed before this returns, so whether
        a solver started later sees it does not depend on a race. `deadline`
        (perf_counter) is when the runner stops waiting for it: a request whose
        compilation took much of the limit (100,000 x 2,000) gets a shorter budget.
        """
        spec = compiled.objectives
        if spec.mode != "weighted" or spec.weight("cost") <= 0:
            return None
        if _BOUND_ELSEWHERE & set(names):
            return None
        if compiled.allow_unassigned:
            return None
        # Alone with the heuristic (large requests) the bound has a core to itself.
        alone = set(names) <= {"greedy"}
        limit = options.time_limit_s
        budget = 0.8 * limit if alone else min(_BESIDE_MAX_S, _BESIDE_SHARE * limit)
        budget = max(0.0, min(budget, 0.9 * (deadline - time.perf_counter())))
        bound = cls(compiled, budget, on_bound, deterministic=wait)
        bound._thread.start()
        if wait:
            bound._thread.join()
        return bound

    @property
    def _smoothed(self) -> bool:
        """Whether the multipliers come from the smoothed dual (large requests)."""
        m, n, _ = self._compiled.usage.shape
        return m * n >= SMOOTHED_FROM_PAIRS

    @property
    def budget_s(self) -> float:
        return self._budget_s

    @property
    def value(self) -> float | None:
        with self._lock:
            return self._value

    def join(self, deadline: float) -> None:
        """Wait for the bound until `deadline` at most; a late bound is left out."""
        self._thread.join(timeout=max(0.0, deadline - time.perf_counter()))

    def _work(self) -> None:
        try:
            dual = self._dual()
            # The dual's pair costs carry the weights already (pair_costs); every other
            # objective is >= 0, so the value bounds the weighted score.
            value = float(dual.bound)
        except Exception:  # a failed bound only costs us the gap figure
            return
        if not np.isfinite(value):  # no exact evaluation finished in the budget
            return
        with self._lock:
            self._value, self.method = value, dual.method
        self._on_bound(value)

    def _dual(self) -> LagrangianResult:
        """The smoothed dual on large requests, the subgradient on the others."""
        if self._smoothed:
            m, n, _ = self._compiled.usage.shape
            count = None
            if self._deterministic:
                count = max(8, int(self._budget_s * _DETERMINISTIC_PAIR_RATE / (m * n)))
            deadline = time.perf_counter() + self._budget_s
            return smoothed_lagrangian_dual(self._compiled, deadline, evaluations=count)
        return lagrangian_dual(self._compiled, time_limit_s=self._budget_s, iterations=_ITERATIONS)
