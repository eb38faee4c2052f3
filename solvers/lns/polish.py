"""When and for how long the LNS runs its shift / swap / chain descent (`chains.py`).

After each new incumbent, one descent (with a tabu walk past the local optimum on
plans up to `TABU_MAX_TASKS` tasks) followed by one over cyclic and path exchanges
(`cyclic_exchange.py`; when those gain, the plain descent once more), and one from each
of the LNS's starting plans before they are compared (`descend_start`), within budgets
that leave the sub-solves most of the time: on a loaded 2-core machine a round at 1,600
tasks took 0.25-1 s and a descent without limits left the LNS 6 sub-solves in 10 s
instead of 46.
"""

from __future__ import annotations

import time

import numpy as np

from models import CompiledProblem
from solvers.lns.chains import applies, descend
from solvers.lns.cyclic_exchange import exchange_descent

__all__ = ["Polisher"]

#: Share of the time left one descent may take at most.
SHARE = 0.25
#: Seconds one descent may take at most, per second of the time limit.
MAX_S = 0.05
#: Seconds all descents of one kind (shift / swap / chain, exchanges) together may take,
#: per second of the time limit.
TOTAL = 0.3
#: Rounds without a better plan after which the tabu walk past a local optimum stops.
PATIENCE = 100
#: Tasks above which a round costs ~0.1 s or more (900 tasks, loaded machine): descent
#: only, no tabu walk.
TABU_MAX_TASKS = 500


class Polisher:
    """Descends from each new incumbent of one LNS run and keeps count."""

    def __init__(
        self,
        problem: CompiledProblem,
        cost: np.ndarray,
        time_limit_s: float,
        rng: np.random.Generator,
    ):
        """`cost`: float[m, n] per-pair score, inf where a task may not go."""
        self.problem, self.time_limit_s, self.rng = problem, time_limit_s, rng
        self.cost = cost.astype(np.float64)
        self.moves = 0
        self.exchanges = 0
        self.seconds = 0.0  # spent in shift / swap / chain descents so far
        self.exchange_seconds = 0.0  # ... and in exchange descents
        self.last_score = np.inf  # no descent until the incumbent is better than this

    def polish(self, plan: np.ndarray | None, score: float, left_s: float) -> np.ndarray | None:
        """A plan no worse than `plan` (None when no descent is due or allowed)."""
        if plan is None or score >= self.last_score - 1e-9 or not applies(self.problem, plan):
            return None
        patience = PATIENCE if self.problem.n_tasks <= TABU_MAX_TASKS else 0
        better = self._descend(plan, left_s, patience)
        if better is None:
            return None
        self.last_score = score
        return better

    def descend_start(self, plan: np.ndarray, left_s: float) -> np.ndarray:
        """A candidate starting plan after one descent (no better-than-last gate): the
        LNS compares its starts after their descents, not before (e801600: the greedy's
        plan 0.84 % above best-known stays at 0.84 %, the LP's rounding at 1.06 % goes to
        0.48 % in 0.5 s)."""
        if not applies(self.problem, plan):
            return plan
        better = self._descend(plan, left_s, 0)
        return plan if better is None else better

    def _descend(self, plan: np.ndarray, left_s: float, patience: int) -> np.ndarray | None:
        """One descent, then one over exchanges, each within its own budgets; None when
        they leave no time."""
        chains_s = self._budget(left_s, self.seconds)
        exchanges_s = self._budget(left_s, self.exchange_seconds)
        if chains_s <= 0 and exchanges_s <= 0:
            return None
        better = plan
        if chains_s > 0:
            began = time.perf_counter()
            better, moves = descend(
                self.problem, plan, self.cost, began + chains_s, patience, self.rng
            )
            self.seconds += time.perf_counter() - began
            self.moves += moves
        if exchanges_s > 0:
            began = time.perf_counter()
            deadline = began + exchanges_s
            better, made = exchange_descent(self.problem, better, self.cost, deadline)
            if made:  # the exchanges may open shifts, swaps and chains again
                better, moves = descend(self.problem, better, self.cost, deadline, 0, self.rng)
                self.moves += moves
            self.exchange_seconds += time.perf_counter() - began
            self.exchanges += made
        return better

    def _budget(self, left_s: float, spent_s: float) -> float:
        """Seconds one descent of a kind may take, after `spent_s` on that kind so far."""
        return min(
            SHARE * left_s,
            MAX_S * self.time_limit_s,
            TOTAL * self.time_limit_s - spent_s,  # the sub-solves keep the most time
        )

    def note(self) -> str | None:
        if not self.moves and not self.exchanges:
            return None
        return (
            f"{self.moves} shift / swap / chain moves ({self.seconds:.2f} s) and "
            f"{self.exchanges} cyclic / path exchanges ({self.exchange_seconds:.2f} s) "
            "between sub-solves"
        )
