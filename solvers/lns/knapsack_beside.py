"""The knapsack Lagrangian bound (`solvers.bounds.knapsack_bound`), climbed in a thread
from the LNS's start.

The LNS's own bounds (LP, capacity-row Lagrangian) can never beat the LP; this one can,
and on the small tight GAPs it closes most of the LP's gap (d20100: 0.69 % -> 0.15 %
below best-known). Its kernel loads from numba's cache (about a second in a fresh
process) and releases the GIL, so the LP runs meanwhile: `on_bound` gets the bound once
the climb ends (the LNS raises its target, which may prove its incumbent optimal), and
`take_penalties` hands out, once, the forced-pair penalties at the best multipliers,
which rank each task's agents for the LNS's starts and cuts; `take_packing`, once, which
agent alone packs each task at those multipliers (the LP rules may follow it). With the
penalties, the thread then searches exactly over the same relaxation (`knapsack_search`)
below the LNS's incumbent: each level it finishes raises the bound, and a plan it finds waits in
`take_plan` (e20100, e10100, c40400: proven optimal within about a second). Before the
search, the climb goes on for as long again from its best multipliers, and TRAIL of the
multipliers at both climbs' last new bests are rounded by their penalties, each task on
its agent of least penalty (`take_roundings`): the LNS repairs and descends them and
keeps the cheaper as its incumbent, other basins than its own start's (d40400, LNS alone,
10 s, seeds 0-3: 0.466 -> 0.288 % above best-known). `stop` ends the climb or the search
early, with the best bound so far.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.bounds.knapsack_bound import KnapsackDual, knapsack_dual, penalties_at, skip_reason
from solvers.bounds.knapsack_search import SearchOutcome, search_levels
from solvers.lns.tabu import MAX_CORRELATION
from solvers.shared.subgradient import TargetFollowing

__all__ = ["KnapsackBeside"]

#: Share of the time limit the climb may take, and at most this many seconds: its
#: steps share the lanes' cores (d20100, d20200: about 0.15-0.7 s to converge).
SHARE = 0.15
MAX_S = 3.0
#: Time limits below which it is not started (a short run has no core to spare).
MIN_LIMIT_S = 2.0
#: Eligible pairs up to which the penalties are computed and handed out. Above, they
#: ranked the LNS's moves worse than the capacity dual's reduced costs (bench.gap, 10 s:
#: d801600 0.337 % against 0.187-0.211 %, e801600 0.326 against 0.221-0.238, e401600
#: 0.122 against 0.051-0.066), and the bound is climbed for the report alone.
PENALTY_MAX_PAIRS = 20_000
#: Eligible pairs up to which they are handed out where pair costs do not fall as usage
#: grows (correlation above the tabu gate's `MAX_CORRELATION`, type C). LNS alone, 10 s, seeds
#: 0-3 (session 15): c30900 (27,000 pairs) 0.105 -> 0.028 %, where e30900 went 0.061 ->
#: 0.081 and d30900 0.152 -> 0.157; c201600 (32,000) 0.027 either way; above (c60900,
#: c401600, c801600 at 54,000-128,000 pairs) worse: 0.055 -> 0.065 % over the three.
PENALTY_MAX_PAIRS_INDEPENDENT = 30_000
#: Multiplier vectors of the climb's trail (`knapsack_dual(trail=)`) rounded into plans
#: for the LNS (`take_roundings`) where the penalties are handed out: each task on the
#: agent its penalties there rank first.
TRAIL = 12


class KnapsackBeside:
    """Starts the climb if it applies; `result` holds the bound once it is done."""

    def __init__(
        self,
        problem: CompiledProblem,
        limit_s: float,
        on_bound: Callable[[float, str], None],
        incumbent: Callable[[], float] = lambda: np.inf,
        correlation: float = -1.0,
    ):
        """`correlation`: of pair cost with pair usage (`TabuBursts.correlation`)."""
        self.problem, self.incumbent = problem, incumbent
        self.deadline = time.perf_counter() + limit_s  # the search's
        self.result: KnapsackDual | None = None
        self.search: SearchOutcome | None = None
        self.skipped: str | None = None
        self._found: tuple[float, np.ndarray] | None = None  # the search's best plan
        self._lock = threading.Lock()
        if limit_s < MIN_LIMIT_S:
            self.skipped = f"time limit under {MIN_LIMIT_S:g} s"
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._taken = False  # the penalties were handed out
        self._packing_taken = False
        self._roundings: list[tuple[np.ndarray, np.ndarray]] = []  # (plan, penalties)
        pairs = int(problem.eligible.sum())
        self.ranks = pairs <= PENALTY_MAX_PAIRS or (  # penalties wanted
            pairs <= PENALTY_MAX_PAIRS_INDEPENDENT and correlation > MAX_CORRELATION
        )
        if self.skipped is None:
            budget = min(SHARE * limit_s, MAX_S)
            self._thread = threading.Thread(
                target=self._climb,
                args=(problem, budget, on_bound),
                name="knapsack-bound",
                daemon=True,
            )
            self._thread.start()

    def _climb(
        self, problem: CompiledProblem, budget_s: float, on_bound: Callable[[float, str], None]
    ) -> None:
        """In the thread: whether the bound applies is decided here too (its unit tables
        read every pair), so the caller's thread goes on at once."""
        rule = TargetFollowing()
        try:
            dual = knapsack_dual(
                problem,
                time.perf_counter() + budget_s,
                stop=self._stop.is_set,
                penalties=self.ranks,
                agent_values=self.ranks,  # the LNS's duality-gap agent rule
                trail=TRAIL if self.ranks else 0,
                rule=rule,
            )
        except Exception as exc:  # no numba or no compiler here: the LNS keeps its bounds
            self.skipped = f"{type(exc).__name__}: {exc}"
            return
        if dual is None:
            self.skipped = skip_reason(problem) or "no evaluation finished in its budget"
            return
        self.result = dual
        on_bound(dual.bound, dual.method)
        if dual.penalties is not None:
            self._climb_on(dual, budget_s, rule, on_bound)
            self.search = search_levels(
                problem,
                dual,
                self.incumbent,
                self._offer,
                lambda outcome: on_bound(outcome.bound, outcome.method()),
                self._stop.is_set,
                self.deadline,
            )

    def _climb_on(
        self,
        dual: KnapsackDual,
        budget_s: float,
        rule: TargetFollowing,
        on_bound: Callable[[float, str], None],
    ) -> None:
        """In the thread, once the penalties are out: climb on from the best multipliers
        (with the step the climb ended on) for as long again, then round TRAIL of the
        multipliers of both climbs' trails, newest first, each rounding different from the
        ones before and from the best multipliers' (the LNS's start)."""
        if not TRAIL:
            return
        more = knapsack_dual(
            self.problem,
            time.perf_counter() + budget_s,
            start=dual.multipliers,
            stop=self._stop.is_set,
            trail=TRAIL,
            rule=rule,
        )
        trail = dual.trail
        if more is not None:
            if more.bound > dual.bound:
                on_bound(more.bound, more.method)
            trail = trail + more.trail
        assert dual.penalties is not None
        seen = [dual.penalties.argmin(axis=0)]
        for u in reversed(trail[-TRAIL:]):
            if self._stop.is_set():
                return
            table = penalties_at(self.problem, u)
            if table is None:
                return
            plan = table.argmin(axis=0)
            if any(np.array_equal(plan, other) for other in seen):
                continue
            seen.append(plan)
            with self._lock:
                self._roundings.append((plan, table))

    def take_roundings(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(plan, penalties) of each trail rounding made since the last call: each task
        on its agent of least penalty, so a plan that may overload agents."""
        with self._lock:
            out, self._roundings = self._roundings, []
        return out

    def _offer(self, plan: np.ndarray) -> float | None:
        """A leaf of the search: its score when it is a plan of the whole problem."""
        ev = evaluate_plan(self.problem, plan)
        if not ev.feasible:
            return None
        with self._lock:
            if self._found is None or ev.score < self._found[0]:
                self._found = (ev.score, plan)
        return ev.score

    def take_plan(self) -> np.ndarray | None:
        """The best plan the search found since the last call, if any."""
        with self._lock:
            found, self._found = self._found, None
        return None if found is None else found[1]

    def take_penalties(self) -> np.ndarray | None:
        """The forced-pair penalties (each task's agents ranked by how much the bound rises
        when the task goes there), once: None before they exist and after."""
        if self.result is None or self.result.penalties is None or self._taken:
            return None
        self._taken = True
        return self.result.penalties

    def take_packing(self) -> np.ndarray | None:
        """The relaxation's packing at the best multipliers (`KnapsackDual.packed`),
        once: None before the climb ends and after."""
        if self.result is None or self.result.packed is None or self._packing_taken:
            return None
        self._packing_taken = True
        return self.result.packed

    def wait(self, timeout_s: float) -> None:
        """Wait for the climb to end, `timeout_s` at most (not at all when no penalties
        will come: the bound alone is not worth a wait)."""
        if self._thread is not None and self.ranks and timeout_s > 0:
            self._thread.join(timeout=timeout_s)

    def stop(self, wait_s: float = 0.1) -> None:
        """End the climb (its best bound so far still counts) and wait for it a little."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(0.0, wait_s))

    def note(self) -> str:
        if self.search is not None:
            why = f"; gave up: {self.search.gave_up}" if self.search.gave_up else ""
            return f"knapsack bound {self.search.bound:.6g}: {self.search.method()}{why}"
        if self.result is not None:
            return f"knapsack bound {self.result.bound:.6g}: {self.result.method}"
        if self.skipped is not None:
            return f"knapsack bound not run: {self.skipped}"
        return "knapsack bound not ready by the end"
