"""`lp_guided`: capacity prices from the smoothed LP dual, a plan built on priced scores.

For large requests with a linear score (cost, migrations, unassigned), where neither
the LP nor an exact solver fits the budget. A share of the budget climbs the
entropy-smoothed Lagrangian dual of the capacity rows (`solvers.shared.smoothed_dual`):
that gives the report's bound (an exact L(mu) over every eligible pair, valid whatever
the climb did) and prices close to the LP's. A first fit on the priced scores, dearest
units first, builds the plan; shift/swap local search on the true score polishes it.
On the 20,000 x 500 bench.scale instance, `bench.scale --time-limit 20` at load 5-6
(lp_guided had about 6 s of CPU, less than a quiet 10 s run gives it): the bound 83.36k
and a plan of 84.38k (gap 1.21 %), where the subgradient had 80.9k after 7.5 s and the
greedy's plan is 87.0k (figures in BENCHMARKS.md, issue 12 part 2).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.heuristic.ejection import repair_by_ejection
from solvers.heuristic.local_search import local_search
from solvers.heuristic.regret_insertion import regret_insert
from solvers.heuristic.scoring import ScoreModel, build_score_model
from solvers.heuristic.task_units import FIT_TOLERANCE, PlanState, TaskUnits, build_units
from solvers.shared.smoothed_dual import (
    SmoothedDual,
    preload,
    same_on_every_agent,
    smoothed_dual,
)
from solvers.shared.timing import fill_timing

# scipy's optimizer with this module, as before the dual's import of it became lazy: a
# forkserver that preloads the solvers (the service's job runner) then forks it warm.
preload()

__all__ = ["LINEAR_OBJECTIVES", "MAX_PAIRS", "LpGuidedSolver", "lp_guided_skip_reason"]

#: The objectives the dual prices exactly (per-pair linear terms).
LINEAR_OBJECTIVES = frozenset({"cost", "migrations", "unassigned"})
#: Agents x units above which it does not run: each dual evaluation reads every pair
#: (40M pairs: about 0.2 s of CPU), and the method keeps several float32 copies of the
#: pairs (costs, the first fits' transposed scores and usage): 1.2 GiB at 40M.
MAX_PAIRS = 40_000_000
#: Share of the budget the dual climbs before the plan is built (at 20,000 x 500 in a
#: quiet 10 s run about 4.5 s of CPU, some 30 exact evaluations after the sampled
#: stages); the first fits, 0.3 s of CPU each there, and the local search take the rest.
_DUAL_SHARE = 0.6
#: Share of the budget by which the search ends: the rest is for the final evaluation
#: and the result's trip to the portfolio (a solver stopped from outside loses its bound:
#: at load 8 on 2 cores, 0.9 lost it in one of three runs at 20,000 x 500).
_WORK_SHARE = 0.85
#: Deterministic runs: pairs a dual evaluation reads per second (a fifth of the 2.4e8
#: measured at 20,000 x 500 on a loaded machine: the counts must fit the budget under
#: load), and a local-search round's cost in dual evaluations (a shift round there takes
#: about as long as three evaluations, a swap sweep much longer).
_DETERMINISTIC_PAIR_RATE = 5e7
_PAIRS_PER_ROUND = 5
#: A further first fit starts only when this many times the mean fit's time is left: a
#: fit is not cut at the deadline, and a solver stopped at the request's hard stop loses
#: its bound (on a loaded machine one fit took 1.4-2.2 s of wall time); the local search
#: uses whatever is left.
_FIT_MARGIN = 2.0
#: Orders tried after the prices: cost level / size^power (see `_best_first_fit`).
_SIZE_POWERS = (0.25, 0.5)


def lp_guided_skip_reason(problem: CompiledProblem) -> str | None:
    """Why the method does not serve `problem` (None: it does)."""
    spec = problem.objectives
    if spec.mode != "weighted" or not set(spec.active) <= LINEAR_OBJECTIVES:
        return "the dual prices only a weighted score of cost, migrations and unassigned"
    if problem.workflow is not None:
        return "tasks with dependencies: heft schedules them"
    if problem.network is not None and problem.network.may_overload:
        return "link bandwidth is not priced by the dual"
    if problem.n_agents * problem.n_tasks > MAX_PAIRS:
        pairs = problem.n_agents * problem.n_tasks
        return f"{pairs:,} agent-task pairs > {MAX_PAIRS:,}: one dual evaluation would outrun it"
    return None


class LpGuidedSolver:
    """Smoothed-dual prices, a priced first fit, local search; reports its bound."""

    name = "lp_guided"
    exact = False
    multi_objective = False
    anytime = True

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return lp_guided_skip_reason(problem)

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        recorder = TraceRecorder()
        why = lp_guided_skip_reason(problem)
        if why is not None:
            result = SolveResult(
                self.name, SolveStatus.SKIPPED, StopReason.NOT_STARTED, notes=[why]
            )
            return fill_timing(result, recorder)
        limit = options.time_limit_s
        deadline = recorder.start + _WORK_SHARE * limit
        clock = _PhaseClock()
        units = build_units(problem)
        model = build_score_model(problem, units)
        evaluations, rounds = _work_counts(units, options)
        dual_end = deadline if options.deterministic else recorder.start + _DUAL_SHARE * limit
        clock.lap("set-up")
        dual = _dual(problem, units, model, dual_end, evaluations)
        clock.lap("dual")
        rng = np.random.default_rng(options.seed)
        state, tried = _best_first_fit(
            units,
            model,
            dual,
            rng,
            deadline,
            options.deterministic,
            lambda s: _report(problem, units, s, recorder, options),
        )
        clock.lap(f"{tried} priced first fits to {model.total(state):.6g}")
        local_search(state, model, deadline, rng, max_rounds=rounds)
        clock.lap(f"local search to {model.total(state):.6g}")
        phases = clock.text()
        assignment = units.to_assignment(state.assign)
        evaluation = evaluate_plan(problem, assignment)
        notes = [f"bound: {dual.method}; dual prices steered the construction", phases]
        if evaluation.feasible:
            status = SolveStatus.FEASIBLE
            recorder.record(evaluation.score)
            options.report_incumbent(assignment, evaluation.score)
        else:
            status = SolveStatus.NO_SOLUTION
            kinds = sorted({v.kind for v in evaluation.violations})
            notes.append(f"no feasible plan found; best attempt violates: {', '.join(kinds)}")
        result = SolveResult(
            solver=self.name,
            status=status,
            stop_reason=StopReason.TIME_LIMIT,
            assignment=assignment,
            objective=evaluation.score,
            bound=dual.bound if np.isfinite(dual.bound) else None,
            bound_method=dual.method,
            notes=notes,
        )
        return fill_timing(result, recorder)


class _PhaseClock:
    """Wall and CPU seconds of each phase (CPU: this process's, so that figures from a
    loaded machine, where the wall time mostly waits, still say what the work cost)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.laps: list[tuple[str, float, float]] = []

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.laps.append((name, wall - self.wall, cpu - self.cpu))
        self.wall, self.cpu = wall, cpu

    def text(self) -> str:
        return ", ".join(f"{n} {w:.2f} s ({c:.2f} s CPU)" for n, w, c in self.laps)


def _work_counts(units: TaskUnits, options: SolveOptions) -> tuple[int | None, int]:
    """Dual evaluations and local-search rounds: a deterministic run sizes them from its
    work seconds (at half the measured rate, so a loaded machine still finishes them);
    otherwise the clock decides (None evaluations, unbounded rounds)."""
    if not options.deterministic:
        return None, 10_000
    pairs_per_s = _DETERMINISTIC_PAIR_RATE * options.work_s
    pairs = max(1, units.n_agents * units.n_units)
    evaluations = max(8, int(_DUAL_SHARE * pairs_per_s / pairs))
    rounds = max(1, int((1 - _DUAL_SHARE) * pairs_per_s / (pairs * _PAIRS_PER_ROUND)))
    return evaluations, rounds


def _dual(
    problem: CompiledProblem,
    units: TaskUnits,
    model: ScoreModel,
    deadline: float,
    evaluations: int | None,
) -> SmoothedDual:
    """The smoothed dual over the units' linear scores (inf where a unit may not go).

    Anti-affinity and max-tasks rows are left out of the relaxation: fewer constraints
    only lower the minimum, so the bound stays valid.
    """
    cost = np.where(units.eligible, model.linear, np.float32(np.inf)).astype(np.float32)
    left_out = model.unassigned if problem.allow_unassigned else None
    return smoothed_dual(
        cost, units.usage, units.capacity, deadline, left_out=left_out, evaluations=evaluations
    )


def _best_first_fit(
    units: TaskUnits,
    model: ScoreModel,
    dual: SmoothedDual,
    rng: np.random.Generator,
    deadline: float,
    deterministic: bool,
    report: Callable[[PlanState], None],
) -> tuple[PlanState, int]:
    """The best of several first fits and how many were built, while the time allows
    (all in a deterministic run): one per set of prices (the coldest stage's first, then
    the earlier stages' and the best bound's), then the best prices with small units
    moved earlier.

    Each is cheap, and the plan changes by about a percent between neighbouring near-LP
    prices and between orders, with no set or order best on every instance: at two sets
    of prices on 20,000 x 500, ordering by cost level / size^0.5 gave 84,841 and 85,311
    where the cost level alone gave 85,124 and 84,116. Prices with 1-3 % noise were
    worse than the prices themselves every time (12 of 12).
    """
    first = (*(dual.stage_prices[::-1] or [dual.prices]), dual.multipliers)
    tries: list[tuple[np.ndarray | None, float]] = [(p, 0.0) for p in first]
    tries += [(None, power) for power in _SIZE_POWERS]  # None: the best prices so far
    start = time.perf_counter()
    tables = _UnitTables(units, model)
    best: PlanState | None = None
    best_prices = first[0]
    done = 0
    for prices, power in tries:
        if done and not deterministic:
            took = (time.perf_counter() - start) / done
            if time.perf_counter() + _FIT_MARGIN * took > deadline:
                break
        done += 1
        use = best_prices if prices is None else prices
        state = _priced_plan(units, model, use, rng, deadline, power, tables)
        if best is None or model.total(state) < model.total(best):
            best, best_prices = state, use
            report(best)
    assert best is not None
    return best, done


def _priced_plan(
    units: TaskUnits,
    model: ScoreModel,
    prices: np.ndarray,
    rng: np.random.Generator,
    deadline: float,
    size_power: float,
    tables: _UnitTables,
) -> PlanState:
    """Each unit on its agent of least priced score that has room, the dearest units
    first; what is left by regret insertion, then ejection repair.

    At near-LP prices almost every unit has several agents within a hair of its best
    (20,000 x 500: all but 500 within 0.01), so regret (second best minus best) is
    about zero everywhere and orders nothing. The units' cost level orders them
    instead: a dear unit loses most when its priced best is full (measured at the same
    prices: 85.1k in 0.6 s against regret insertion's 85.4k in 3.6 s; larger demand
    first, as in bin packing, 91.6k).
    """
    state = PlanState(units)
    level = np.where(units.eligible, model.linear, 0.0).sum(axis=0)
    level /= np.maximum(units.eligible.sum(axis=0), 1)
    if size_power:  # level / size^power: small units move earlier
        size = (units.usage.mean(axis=0) / np.maximum(units.capacity.sum(axis=0), 1e-12)).sum(1)
        level = level / np.maximum(size, 1e-12) ** size_power
    order = np.argsort(-level, kind="stable")
    placed = _first_fit(state, model, tables, prices, order)
    left = regret_insert(state, model, order[~placed], prices=prices, deadline=deadline)
    if len(left):
        repair_by_ejection(state, model, left, rng, deadline, prices=prices)
    return state


class _UnitTables:
    """Scores and usage laid out one unit's agents side by side, built once for all the
    first fits (the transposes cost 0.25 s of a 0.65 s fit at 20,000 x 500)."""

    def __init__(self, units: TaskUnits, model: ScoreModel) -> None:
        linear = np.where(units.eligible, model.linear, np.float32(np.inf))
        self.cost = np.ascontiguousarray(linear.T, dtype=np.float32)  # [U, m]
        self.usage = np.ascontiguousarray(units.usage.transpose(1, 0, 2))  # [U, m, d]
        # Attribute form (a unit uses the same on every agent): the prices' term is one
        # product of [U, d] and [d, m] instead of d strided passes over [U, m, d].
        self.shared = self.usage[:, 0, :] if same_on_every_agent(units.usage) else None

    def priced(self, prices: np.ndarray) -> np.ndarray:
        """c_ij + mu_i . a_ij as [U, m] float32."""
        mu = prices.astype(np.float32)
        if self.shared is not None:
            return self.cost + self.shared @ mu.T
        out = self.cost.copy()
        for k in range(prices.shape[1]):
            out += mu[None, :, k] * self.usage[:, :, k]
        return out


def _first_fit(
    state: PlanState,
    model: ScoreModel,
    tables: _UnitTables,
    prices: np.ndarray,
    order: np.ndarray,
) -> np.ndarray:
    """Place units in `order`, each on its least priced agent with room now; returns
    which were placed (bool, in `order`'s positions). With tasks allowed out, a unit
    whose true score there is no better than leaving it out waits for regret insertion.
    """
    un = state.units
    by_unit = tables.priced(prices)
    usage = tables.usage
    cap = un.capacity + FIT_TOLERANCE
    in_groups = np.diff(un.aa_indptr) > 0
    placed = np.zeros(len(order), dtype=bool)
    for pos, u in enumerate(order.tolist()):
        ok = state.count + un.size[u] <= un.max_tasks
        for k in range(cap.shape[1]):  # not np.all(axis=1): its reduce over d took 60 %
            ok &= state.used[:, k] + usage[u, :, k] <= cap[:, k]
        if in_groups[u]:
            groups = un.groups_of(u)
            ok &= state.group_count[groups].sum(axis=0) == 0
        column = np.where(ok, by_unit[u], np.inf)
        i = int(column.argmin())
        if column[i] == np.inf:
            continue
        if model.allow_unassigned and model.linear[i, u] >= model.unassigned[u]:
            continue
        state.place(u, i)
        placed[pos] = True
    return placed


def _report(
    problem: CompiledProblem,
    units: TaskUnits,
    state: PlanState,
    recorder: TraceRecorder,
    options: SolveOptions,
) -> None:
    """Stream the constructed plan, so a portfolio keeps it if the search is cut short."""
    assignment = units.to_assignment(state.assign)
    evaluation = evaluate_plan(problem, assignment)
    if evaluation.feasible:
        recorder.record(evaluation.score)
        options.report_incumbent(assignment, evaluation.score)
