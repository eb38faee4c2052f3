"""Penalty tabu search over shifts and swaps (kernel: `tabu_kernel.py`), run in bursts.

After Yagiura, Ibaraki & Glover's searches for the GAP: the walk crosses infeasible
plans under an adaptively weighted penalty on capacity excess and keeps the best
feasible plan it sees. A heuristic: it never proves anything. `PenaltyTabu` keeps its
weights and tabu memory between bursts; `TabuBursts` runs bursts from the LNS's
incumbent while the LNS waits for its CP-SAT lanes (the kernel releases the GIL), and
once bursts keep missing one incumbent, from it relinked towards an earlier incumbent
and kicked (after their path relinking).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

import numpy as np

from models import CompiledProblem
from solvers.lns.chains import applies

__all__ = ["PenaltyTabu", "TabuBursts", "preload", "serves"]

#: Agents per task a step considers: its cheapest ones (10 left e40400 at 0.82 % from
#: a 0.82 % start in 3 s, 20 took it to 0.26-0.40 %).
CANDIDATES = 20
#: Weight raise on the most overloaded agent after an infeasible step (others pro rata).
#: With CUT and TENURE, from a fixed-step sweep (3 seeds, the same start plans; mean gap
#: after 10,000 steps on d10100 / d20100 / e20100: 1.07 % with 0.1 / 0.05 / 5, 0.82 %
#: with these; after 4,000 on d20200 / d40400 / e40400: 1.32 % vs 1.14 %): raise slowly,
#: cut fast, the walk then hugs the capacity boundary from the overloaded side.
RAISE = 0.01
#: Weight cut on every agent after a feasible step.
CUT = 0.1
#: Steps a moved task may not return to the agent it left: this plus up to as many again.
TENURE = 2
#: Tasks whose moves one step compares (a window from a random task), at most.
SPAN = 400
#: Swap / chain pairs one step should compare, about: fewer tasks per step when agents
#: hold many tasks (c15900, 60 per agent: 290 steps in 1.9 s with SPAN tasks a step).
PAIRS_PER_STEP = 40_000
#: Tasks per step at least.
MIN_SPAN = 30
#: 1: steps also compare two-step ejection chains (j onto b, one of b's tasks on to a
#: third agent); 0: shifts and swaps only.
CHAINS = 1
#: Seconds one call of the kernel should take (the clock is read between calls).
_CHUNK_S = 0.01
#: Seconds of one burst from the incumbent (the walk restarts from the incumbent after).
BURST_S = 0.05
#: Share of the time limit all bursts together may take: the main thread's bursts take
#: a core from the CP-SAT lanes (at load 6, bursts over all the waiting time took e40400
#: from 0.655 % to 0.379 % but left D no better).
SHARE = 0.3
#: Correlation of pair cost with pair usage above which bursts do not run. The walk
#: through overloads pays where the cheapest assignments are the heaviest (types D, E:
#: about -0.98 and -0.57); on C (independent, about 0) the bursts left c60900 worse in
#: all six A/B rounds (0.086-0.118 % without, 0.097-0.172 % with).
MAX_CORRELATION = -0.3
#: Time limits below which the LNS does not load the kernel (up to ~1 s on a loaded
#: machine, from the cache, in a thread that also takes the GIL).
LOAD_MIN_S = 2.0
#: Eligible pairs above which bursts do not run. On larger instances a burst makes few
#: steps a second and its core is worth more to the CP-SAT lanes (LNS alone, 10 s, seeds
#: 0-1, session 15: e60900 0.264 -> 0.316 % with bursts, e401600 0.044 -> 0.069, e801600
#: 0.231 -> 0.242); up to here they paid (d10100-d20200, e40400; at 27,000 pairs e30900
#: 0.090 -> 0.060 % over seeds 0-3, d30900 0.144 -> 0.140).
MAX_PAIRS = 30_000
#: Bursts in a row that may fail to beat one same incumbent; then waiting is plain
#: waiting until the sub-solves find a better one (on D bursts rarely pay).
PATIENCE = 10
#: After PATIENCE misses on one incumbent, 0 stops the bursts until the incumbent changes;
#: above 0, each further burst starts from the incumbent moved part way towards an
#: earlier incumbent (path relinking) and with this share of its tasks on other agents
#: at least (a kick), while the time share lasts. Portfolio A/B, 4 rounds alternated,
#: load 2.4-4.4, 10 s, d10100 / d20100 / d20200 / d40400 / e20100 / e40400: 0.338 /
#: 0.679 / 0.449 / 0.665 / 0.403 / 0.274 % without, 0.264 / 0.647 / 0.445 / 0.690 /
#: 0.276 / 0.292 % with 0.1 (mean 0.468 -> 0.436 %); 0.05 gave 0.484 % (2 rounds).
KICK = 0.1
#: Earlier incumbents kept for relinking.
ELITES = 6


def serves(problem: CompiledProblem, plan: np.ndarray) -> bool:
    """The kernel's moves keep every rule of `problem`: one resource, per-pair costs,
    every task placed, no group rules."""
    return problem.n_dims == 1 and applies(problem, plan)


class PenaltyTabu:
    """One search's weights, tabu memory and step counter over one problem."""

    def __init__(self, problem: CompiledProblem, cost: np.ndarray, seed: int = 0):
        """`cost`: float[m, n] per-pair score, inf where a task may not go."""
        self.cost = np.ascontiguousarray(cost, dtype=np.float64)
        self.usage = np.ascontiguousarray(problem.usage[:, :, 0], dtype=np.float64)
        self.capacity = np.ascontiguousarray(problem.capacity[:, 0], dtype=np.float64)
        self.max_tasks = problem.max_tasks.astype(np.int64)
        self.cand, self.n_cand = _candidates(self.cost, CANDIDATES)
        self.alpha = np.full(problem.n_agents, _initial_weight(self.cost, self.usage))
        self.tabu = np.zeros(self.cost.shape, dtype=np.int64)
        per_task = max(1.0, self.n_cand.mean() * problem.n_tasks / problem.n_agents)
        span = min(SPAN, max(MIN_SPAN, int(PAIRS_PER_STEP / per_task)))
        self.params = np.array([RAISE, CUT, TENURE, span, CHAINS], dtype=np.float64)
        self.steps = 0  # steps taken so far
        self.first_step = 1 + 1_000_003 * seed  # the kernel seeds each call by its step
        self.chunk = 20  # steps per call, adapted to _CHUNK_S
        self.seconds = 0.0

    def run(
        self, plan: np.ndarray, seconds: float, beat: float = np.inf
    ) -> tuple[np.ndarray | None, float]:
        """(best feasible plan seen cheaper than `beat`, its cost) after `seconds` of
        search from `plan` (every task placed, feasible or not); (None, beat) if none."""
        from solvers.lns.tabu_kernel import rounds

        stop = time.perf_counter() + seconds
        # Every run starts from the plan given: a walk going on from where the last run
        # stood measured worse (BENCHMARKS.md, "GAP small instances (sixth session, helper)").
        current = plan.astype(np.int64)
        best = plan.astype(np.int64)
        best_cost = np.array([beat], dtype=np.float64)
        while (began := time.perf_counter()) < stop:
            args = (self.cost, self.usage, self.capacity, self.max_tasks, self.cand)
            rounds(current, *args, self.n_cand, self.alpha, self.tabu,
                   self.first_step + self.steps, self.chunk, self.params, best,
                   best_cost)  # fmt: skip
            self.steps += self.chunk
            took = time.perf_counter() - began
            self.seconds += took
            # Aim the next call at _CHUNK_S, growing or shrinking by at most 2x.
            self.chunk = max(1, int(self.chunk * min(2.0, max(0.5, _CHUNK_S / max(took, 1e-6)))))
        found = bool(best_cost[0] < beat)
        return (best.astype(np.int32) if found else None), float(best_cost[0])


class TabuBursts:
    """Runs tabu bursts from the LNS's incumbent while its lanes are busy.

    The kernel is loaded (from numba's on-disk cache, or compiled once) in a thread of
    its own; until it is ready, waiting is plain waiting.
    """

    def __init__(self, problem: CompiledProblem, cost: np.ndarray, seed: int, limit_s: float):
        self.problem, self.cost, self.seed = problem, cost, seed
        self.allowed_s = SHARE * limit_s
        self.search: PenaltyTabu | None = None
        self.found = 0  # bursts that improved the incumbent
        self.failed_on, self.failures = np.inf, 0  # incumbent score the last bursts missed
        self.elites: list[tuple[float, np.ndarray]] = []  # earlier incumbents, newest last
        self.rng = np.random.default_rng(seed)
        self.ready = threading.Event()
        self.unavailable: str | None = None
        self.correlation = _cost_usage_correlation(problem, cost)
        pairs = int(np.isfinite(cost).sum())
        if pairs > MAX_PAIRS:
            self.unavailable = (
                f"penalty tabu search not run: {pairs:,} eligible pairs > {MAX_PAIRS:,} "
                "(its core serves the sub-solves better there)"
            )
        elif self.correlation > MAX_CORRELATION:
            self.unavailable = (
                f"penalty tabu search not run: pair costs do not fall as usage grows "
                f"(correlation {self.correlation:.2f} > {MAX_CORRELATION})"
            )
        elif limit_s >= LOAD_MIN_S:
            threading.Thread(target=self._load, daemon=True).start()

    def _load(self) -> None:
        try:
            preload()
        except Exception as exc:  # no numba, or no compiler here: the LNS runs without
            self.unavailable = f"penalty tabu search not run: {type(exc).__name__}: {exc}"
            return
        self.ready.set()

    def wait(
        self,
        running: dict[Future[Any], Any],
        incumbent: Callable[[], tuple[np.ndarray | None, float]],
        offer: Callable[[np.ndarray], bool],
        left: Callable[[], float],
    ) -> set[Future[Any]]:
        """The lanes that finished, searching from the incumbent until one does (plain
        waiting while the kernel loads, past the time share, with under a burst left,
        after PATIENCE misses on one incumbent, or when the kernel does not serve)."""
        while True:
            plan, score = incumbent()
            usable = (
                plan is not None
                and self.ready.is_set()
                and left() > BURST_S
                and self._spent() < self.allowed_s
                and (score != self.failed_on or self.failures < PATIENCE or KICK > 0)
                and serves(self.problem, plan)
            )
            done, _ = wait(running, timeout=0 if usable else None, return_when=FIRST_COMPLETED)
            if done or not usable:
                return done
            assert plan is not None
            self._burst(plan, score, BURST_S, offer)

    def _burst(
        self, plan: np.ndarray, score: float, seconds: float, offer: Callable[[np.ndarray], bool]
    ) -> None:
        if self.search is None:
            self.search = PenaltyTabu(self.problem, self.cost, self.seed)
        if not self.elites or self.elites[-1][0] != score:
            self.elites = [*self.elites[-ELITES + 1 :], (score, plan.copy())]
        stuck = score == self.failed_on and self.failures >= PATIENCE
        start = self._kicked(plan) if stuck else plan
        better, _ = self.search.run(start, seconds, beat=score)
        if better is not None and offer(better):
            self.found += 1
            return
        self.failures = self.failures + 1 if score == self.failed_on else 1
        self.failed_on = score

    def _kicked(self, plan: np.ndarray) -> np.ndarray:
        """`plan` with a random half of the tasks it places otherwise than an earlier
        incumbent placed as there, then random tasks on random candidate agents until
        KICK of its tasks moved."""
        assert self.search is not None
        out = plan.copy()
        earlier = [e for _, e in self.elites[:-1]]
        if earlier:
            other = earlier[int(self.rng.integers(len(earlier)))]
            differ = np.flatnonzero(other != plan)
            half = self.rng.permutation(differ)[: (len(differ) + 1) // 2]
            out[half] = other[half]
        n = len(plan)
        for j in self.rng.permutation(n)[: max(0, int(KICK * n) - int((out != plan).sum()))]:
            out[j] = self.search.cand[j, int(self.rng.integers(self.search.n_cand[j]))]
        return out

    def _spent(self) -> float:
        return self.search.seconds if self.search is not None else 0.0

    def note(self) -> str | None:
        if self.search is None:
            return self.unavailable
        return (
            f"penalty tabu search: {self.search.steps} steps in "
            f"{self.search.seconds:.2f} s between sub-solves, {self.found} better plan(s)"
        )


def _cost_usage_correlation(problem: CompiledProblem, cost: np.ndarray) -> float:
    """Pearson correlation of cost and first-resource usage over the eligible pairs (0 when
    either is constant or there is no resource)."""
    if problem.n_dims == 0:
        return 0.0
    eligible = np.isfinite(cost)
    c, u = cost[eligible].astype(np.float64), problem.usage[:, :, 0][eligible].astype(np.float64)
    if len(c) < 2 or c.std() == 0 or u.std() == 0:
        return 0.0
    return float(np.corrcoef(c, u)[0, 1])


def _candidates(cost: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each task's up to `k` cheapest eligible agents (int64[n, k]) and how many."""
    order = np.argsort(cost, axis=0, kind="stable")[:k].T
    finite = np.isfinite(np.take_along_axis(cost.T, order, axis=1))
    return np.ascontiguousarray(order.astype(np.int64)), finite.sum(axis=1).astype(np.int64)


def _initial_weight(cost: np.ndarray, usage: np.ndarray) -> float:
    """Cost per unit of usage at which an overload starts to cost like a bad assignment."""
    finite = np.where(np.isfinite(cost), cost, np.nan)
    spread = float(np.nanmedian(np.nanmax(finite, axis=0) - np.nanmin(finite, axis=0)))
    typical = float(np.median(usage[usage > 0])) if (usage > 0).any() else 1.0
    return max(spread, 1.0) / max(typical, 1e-9)


def preload() -> None:
    """Load the kernel (from numba's cache; compiled on the first use after an install)."""
    from solvers.lns.tabu_kernel import rounds

    plan = np.zeros(2, dtype=np.int64)
    ints = np.ones(1, dtype=np.int64)
    params = np.array([RAISE, CUT, TENURE, SPAN, CHAINS], dtype=np.float64)
    matrix, cand, tabu = (
        np.ones((1, 2)),
        np.zeros((2, 1), dtype=np.int64),
        np.zeros((1, 2), dtype=np.int64),
    )
    rounds(plan, matrix, matrix.copy(), np.ones(1), ints * 2, cand, ints.repeat(2), np.ones(1),
           tabu, 1, 1, params, plan.copy(), np.array([np.inf]))  # fmt: skip


if __name__ == "__main__":  # `python -m solvers.lns.tabu`: compile into the cache (install)
    preload()
