"""LP relaxation of the model, solved by HiGHS directly, as a lower bound per mode.

The bound is on the quantity the report compares it with: the weighted score in
weighted mode, the first objective alone in lexicographic mode, and each objective's
minimum (the ideal point) in Pareto mode. The sparse matrix is built with numpy (no
PuLP) so 100k-variable GAPs load in milliseconds. Objectives that are not linear
(completion, tardiness, communication) are non-negative and left out, so the value
stays a valid lower bound.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.shared.quiet_highs import QuietHighs, use_threads
from solvers.shared.timing import timed_solve

__all__ = ["LP_MAX_PAIRS", "LpBoundSolver", "bounded_weights", "lp_relaxation"]

#: Safety limit, not the portfolio's choice: above this many eligible pairs the LP is
#: refused even when asked for by name (HiGHS needed 15 s for 1M pairs on the 2-core
#: machine of BENCHMARKS.md). When the portfolio starts the LP by default is decided by
#: `solvers.portfolio.strategy.SIZE_LIMITS` alone.
LP_MAX_PAIRS = 1_000_000
_SIMPLEX_MAX_COLS = 20_000
_DROPPED = ("weighted_completion", "tardiness", "communication")


class _Rows:
    """Accumulates sparse rows as (row, col, value) triples plus row bounds."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.count = 0

    def add(self, row, col, val, lo, hi) -> None:
        """`row` is local (0..k-1); lo/hi give one bound per local row."""
        lo, hi = np.atleast_1d(lo).astype(np.float64), np.atleast_1d(hi).astype(np.float64)
        self.r.append(np.asarray(row, dtype=np.int64) + self.count)
        self.c.append(np.asarray(col, dtype=np.int64))
        self.v.append(np.asarray(val, dtype=np.float64))
        self.lo.append(lo)
        self.hi.append(hi)
        self.count += len(lo)


def bounded_weights(problem: CompiledProblem) -> dict[str, float]:
    """Weights of the quantity a bound refers to in this mode.

    Weighted: the weighted score; lexicographic: the first objective alone; Pareto: the
    unit-weight sum (LpBoundSolver bounds each objective separately there).
    """
    spec = problem.objectives
    if spec.mode == "lexicographic":
        return {spec.order[0]: 1.0}
    return {name: spec.weight(name) for name in spec.active}


def _build(problem: CompiledProblem, weights: dict[str, float]):
    """Columns: x for eligible pairs, then u (unassigned), y (agent used), L (max load)."""
    m, n = problem.n_agents, problem.n_tasks
    w = {name: v for name, v in weights.items() if name not in _DROPPED}
    pa, pt = (a.astype(np.int64) for a in np.nonzero(problem.eligible))
    p = len(pa)
    cost = np.zeros(p)
    constant = 0.0
    cost += w.get("cost", 0.0) * problem.cost[pa, pt]
    if w.get("migrations", 0.0):
        cost -= w["migrations"] * (problem.current[pt] == pa)
        constant += w["migrations"] * float((problem.current >= 0).sum())
    cols = [cost]
    rows = _Rows()
    next_col = p
    # each task once (at most once, with u_j = 1 when unassigned).
    if problem.allow_unassigned:
        u = np.arange(next_col, next_col + n)
        next_col += n
        cols.append(w.get("unassigned", 0.0) * problem.task_weight * problem.unassigned_penalty)
        rows.add(
            np.r_[pt, np.arange(n)],
            np.r_[np.arange(p), u],
            np.ones(p + n),
            1.0 * np.ones(n),
            np.ones(n),
        )
    else:
        rows.add(pt, np.arange(p), np.ones(p), np.ones(n), np.ones(n))
    # capacity per agent and dimension.
    for k in range(problem.n_dims):
        rows.add(
            pa, np.arange(p), problem.usage[pa, pt, k], np.full(m, -np.inf), problem.capacity[:, k]
        )
    # max_tasks per agent.
    rows.add(pa, np.arange(p), np.ones(p), np.full(m, -np.inf), problem.max_tasks)
    for group in problem.anti_affinity:
        sel = np.isin(pt, group)
        rows.add(
            pa[sel], np.flatnonzero(sel), np.ones(int(sel.sum())), np.full(m, -np.inf), np.ones(m)
        )
    for group in problem.co_location:
        _co_location_rows(rows, problem, pa, pt, group)
    if w.get("consolidation", 0.0):
        next_col = _consolidation(problem, rows, cols, w["consolidation"], pa, pt, next_col)
    if w.get("makespan", 0.0) or w.get("imbalance", 0.0):
        dur = problem.duration[pa, pt].astype(np.float64)
        peak = next_col
        next_col += 1
        cols.append(np.array([w.get("makespan", 0.0) + w.get("imbalance", 0.0)]))
        cols[0] = cols[0] - w.get("imbalance", 0.0) * dur / m
        # load_i - L <= 0 for every agent.
        rows.add(
            np.r_[pa, np.arange(m)],
            np.r_[np.arange(p), np.full(m, peak)],
            np.r_[dur, -np.ones(m)],
            np.full(m, -np.inf),
            np.zeros(m),
        )
    c = np.concatenate(cols)
    matrix = sp.csc_matrix(
        (np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))),
        shape=(rows.count, len(c)),
    )
    return c, matrix, np.concatenate(rows.lo), np.concatenate(rows.hi), constant, (pa, pt)


def _co_location_rows(rows: _Rows, problem, pa, pt, group) -> None:
    lookup = np.full((problem.n_agents, problem.n_tasks), -1, dtype=np.int64)
    lookup[pa, pt] = np.arange(len(pa))
    for j in group[1:]:
        for i in range(problem.n_agents):
            a, b = lookup[i, group[0]], lookup[i, j]
            if a < 0 and b < 0:
                continue
            col = [c for c in (a, b) if c >= 0]
            val = [v for c, v in ((a, 1.0), (b, -1.0)) if c >= 0]
            rows.add(np.zeros(len(col)), col, val, 0.0, 0.0)


def _consolidation(problem, rows: _Rows, cols, weight, pa, pt, next_col) -> int:
    # sum(y_i) - sum(util_ij x_ij) with x_ij <= y_i (aggregated when pairs are many).
    m, p = problem.n_agents, len(pa)
    cap = problem.capacity.astype(np.float64)
    dims = np.maximum((cap > 0).sum(axis=1), 1)
    safe = np.where(cap > 0, cap, 1.0)
    util = (np.where(cap[pa] > 0, problem.usage[pa, pt] / safe[pa], 0.0)).sum(axis=1) / dims[pa]
    cols[0] = cols[0] - weight * util
    y = next_col + np.arange(m)
    cols.append(np.full(m, weight))
    if p <= 200_000:
        rows.add(
            np.r_[np.arange(p), np.arange(p)],
            np.r_[np.arange(p), y[pa]],
            np.r_[np.ones(p), -np.ones(p)],
            np.full(p, -np.inf),
            np.zeros(p),
        )
    else:
        count = np.bincount(pa, minlength=m).astype(np.float64)
        rows.add(
            np.r_[pa, np.arange(m)],
            np.r_[np.arange(p), y],
            np.r_[np.ones(p), -count],
            np.full(m, -np.inf),
            np.zeros(m),
        )
    return next_col + m


def lp_relaxation(
    problem: CompiledProblem,
    time_limit_s: float,
    threads: int = 1,
    weights: dict[str, float] | None = None,
    vertex: bool = False,
) -> tuple[float | None, np.ndarray | None]:
    """(lower bound, fractional x as float32[m, n]); (None, None) on time-out.

    The bound is on sum(weights[k] * objective k), by default `bounded_weights(problem)`.
    Returns (inf, None) when even the relaxation is infeasible. `vertex`: large LPs too
    get a basic solution (interior point, then crossover), so x splits at most as many
    tasks as there are capacity rows and rounds well; without it x is interior.
    """
    weights = bounded_weights(problem) if weights is None else weights
    c, matrix, row_lo, row_hi, constant, (pa, pt) = _build(problem, weights)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), matrix.shape[0]
    lp.col_cost_ = c
    lp.col_lower_ = np.zeros(len(c))
    upper = np.ones(len(c))
    upper[len(pa) :] = np.inf  # u, y and L are not 0/1 in the relaxation
    lp.col_upper_ = upper
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    highs = QuietHighs()
    highs.setOptionValue("time_limit", max(0.05, float(time_limit_s)))
    use_threads(highs, threads)
    if len(c) > _SIMPLEX_MAX_COLS:
        # Measured on 80 x 1600 GAPs: dual simplex 4-8 s, interior point without
        # crossover under 1 s; the bound is the same to 1e-8 (the margin below covers it).
        highs.setOptionValue("solver", "ipm")
        # Crossover took no measurable time on 80 x 1600 (e801600: 1.2 s either way),
        # but an interior x splits most tasks (d801600: 1,481 of 1,600, rounded and
        # repaired 21.7 % above best-known; the vertex splits 79 and rounds to 2.0 %).
        highs.setOptionValue("run_crossover", "on" if vertex else "off")
    highs.passModel(lp)
    highs.run()
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return float("inf"), None
    if status != highspy.HighsModelStatus.kOptimal:
        return None, None
    value = float(highs.getInfo().objective_function_value) + constant
    x = np.zeros((problem.n_agents, problem.n_tasks), dtype=np.float32)
    x[pa, pt] = np.asarray(highs.getSolution().col_value)[: len(pa)]
    # Simplex tolerances are ~1e-7 relative; stay on the safe side of the true optimum.
    return value - 1e-6 * max(1.0, abs(value)), x


class LpBoundSolver:
    """A lower bound only: assignment is None; status NO_SOLUTION, stop ITERATIONS_DONE.

    "What we have" is no plan, and the bound is complete rather than cut short, so
    the pair (NO_SOLUTION, ITERATIONS_DONE) plus a note says "bound only" without
    pretending a plan exists.
    """

    name = "lp_bound"
    exact = True
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True  # highspy is a core dependency

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        pairs = int(problem.eligible.sum())
        if pairs > LP_MAX_PAIRS:
            return f"{pairs:,} variables: the LP would outrun the budget; use the Lagrangian bound"
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        return timed_solve(self.name, lambda _recorder: self._solve(problem, options))

    def _solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        notes = ["bound only: the LP relaxation gives no plan"]
        spec = problem.objectives
        if spec.mode == "pareto":
            return self._ideal_point(problem, options, notes)
        weights = bounded_weights(problem)
        dropped = [n for n in weights if n in _DROPPED]
        if spec.mode == "lexicographic":
            notes.append(f"lexicographic mode: the bound is on {spec.order[0]} alone")
            if dropped:
                notes.append(f"{spec.order[0]} is not linear: the LP gives no bound on it")
                return SolveResult(
                    self.name, SolveStatus.NO_SOLUTION, StopReason.ITERATIONS_DONE, notes=notes
                )
        elif dropped:
            notes.append(f"left out of the LP (non-negative, so the bound stays valid): {dropped}")
        bound, _ = lp_relaxation(problem, options.time_limit_s, options.workers, weights)
        return self._bound_result(bound, notes)

    def _bound_result(self, bound: float | None, notes: list[str]) -> SolveResult:
        if bound is None:
            status, stop = SolveStatus.NO_SOLUTION, StopReason.TIME_LIMIT
        elif bound == float("inf"):
            status, stop, bound = SolveStatus.INFEASIBLE, StopReason.INFEASIBLE_PROVEN, None
            notes.append("the LP relaxation is infeasible, so no plan exists")
        else:
            status, stop = SolveStatus.NO_SOLUTION, StopReason.ITERATIONS_DONE
        return SolveResult(self.name, status, stop, bound=bound, notes=notes)

    def _ideal_point(
        self, problem: CompiledProblem, options: SolveOptions, notes: list[str]
    ) -> SolveResult:
        """Pareto mode: one LP per linear objective gives a proven ideal-point coordinate."""
        linear = [n for n in problem.objectives.order if n not in _DROPPED]
        ideal: dict[str, float] = {}
        for name in linear:
            value, _ = lp_relaxation(
                problem, options.time_limit_s / len(linear), options.workers, {name: 1.0}
            )
            if value == float("inf"):
                return self._bound_result(value, notes)
            if value is not None:
                ideal[name] = value
        notes.append(
            "Pareto mode: ideal point per linear objective: "
            + (", ".join(f"{n} >= {v:.6g}" for n, v in ideal.items()) or "none proven")
        )
        result = self._bound_result(None, notes)
        result.stop_reason = StopReason.ITERATIONS_DONE
        result.ideal = ideal or None
        return result
