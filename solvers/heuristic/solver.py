"""`greedy`: regret insertion, ejection repair and shift/swap local search, then ILS.

The fast heuristic: the warm start for CP-SAT and LNS, the fallback, and the only
method that must scale to 20,000 tasks x 500 agents. It cannot prove anything, so
a plan it cannot make feasible is reported as NO_SOLUTION, never as infeasible.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.heuristic.capacity_prices import capacity_prices
from solvers.heuristic.ejection import repair_by_ejection
from solvers.heuristic.local_search import local_search
from solvers.heuristic.perturbation import iterated_local_search
from solvers.heuristic.regret_insertion import regret_insert, relaxed_start
from solvers.heuristic.scoring import ScoreModel, build_score_model
from solvers.heuristic.task_units import PlanState, TaskUnits, build_units
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.shared.hints import well_formed_hint
from solvers.shared.proof import checked_known_bound
from solvers.shared.timing import fill_timing

__all__ = ["GreedySolver", "greedy_assignment", "quick_plan"]

#: Construction variants: None = Lagrangian relaxed start, else a multiple of the
#: capacity prices steering regret insertion (0 = raw scores).
_STEERING: tuple[float | None, ...] = (None, 1.0, 1.2)
_PRICED = 2_000_000  # agents x units x dims up to which prices are computed
#: Deterministic runs bound the ILS by kicks, not the clock: about this many kicks per
#: second of limit on a 100-pair plan, fewer in proportion to the plan's pairs (half
#: the rate measured by bench.tiny_requests on the 2-core machine, so that a loaded
#: machine still finishes the count inside the limit).
_DETERMINISTIC_KICK_RATE = 1e5
#: Agents x units up to which the first plan is built whatever the clock says: the
#: service's fast path at its largest.
_FIRST_PLAN_ANYWAY = 2_000
#: With a network, this share of the limit (at most _REPAIR_MAX_S) is kept back from the
#: search for the final plan's bandwidth repair, which may take at least _REPAIR_S.
_REPAIR_SHARE, _REPAIR_MAX_S, _REPAIR_S = 0.25, 3.0, 0.3


class GreedySolver:
    """Regret insertion + local search; anytime (ILS) until the time limit."""

    name = "greedy"
    exact = False
    multi_objective = False
    anytime = True

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        recorder = TraceRecorder()
        with_network = problem.network is not None and problem.network.may_overload
        reserve = min(_REPAIR_SHARE * options.time_limit_s, _REPAIR_MAX_S) if with_network else 0
        deadline = recorder.start + max(0.0, options.time_limit_s - reserve)
        rng = np.random.default_rng(options.seed)
        units = build_units(problem)
        model = build_score_model(problem, units)
        run = _Run(problem, units, model, recorder, options)

        # The clock stops the search, never the first plan of a small request: cut short,
        # a 20 x 5 construction in a loaded service left tasks out ("no solution") where
        # finishing it costs a few milliseconds of CPU.
        small = units.n_agents * units.n_units <= _FIRST_PLAN_ANYWAY
        finish = np.inf if small else deadline
        for state in _starts(problem, units, model, options, rng, deadline, build_deadline=finish):
            run.offer(state)
            if time.perf_counter() > deadline:
                break
        assert run.best is not None
        stop = StopReason.TIME_LIMIT
        kicks = _kick_budget(units, options) if options.deterministic else None
        if time.perf_counter() < deadline:
            linear_only = problem.objectives.mode == "weighted" and set(
                problem.objectives.active
            ) <= {"cost", "migrations", "unassigned"}
            stop = iterated_local_search(
                PlanState(units, run.best),
                model,
                rng,
                deadline,
                run.offer,
                checked_known_bound(problem, options.known_bound, options.hints)
                if linear_only
                else None,
                options.rel_gap,
                max_kicks=kicks,
            )
        assignment = units.to_assignment(run.best)
        if problem.network is not None:  # the search ignores bandwidth; repair its plan
            repair = repair_bandwidth(problem, assignment, time_limit_s=max(reserve, _REPAIR_S))
            assignment = repair.assignment
            run.notes += [repair.note()] if repair.moved else []
        evaluation = evaluate_plan(problem, assignment)
        if evaluation.feasible:
            status = SolveStatus.FEASIBLE
            run.report(assignment, evaluation.score)
        else:
            status = SolveStatus.NO_SOLUTION
            kinds = sorted({v.kind for v in evaluation.violations})
            run.notes.append(
                "no feasible plan found (a heuristic cannot prove infeasibility); "
                f"best attempt violates: {', '.join(kinds)}"
            )
        if options.deterministic and stop == StopReason.TIME_LIMIT:
            run.notes.append(
                "deterministic run cut short by the time limit: the plan may differ "
                "between runs (give it a longer limit)"
            )
        result = SolveResult(
            solver=self.name,
            status=status,
            stop_reason=stop,
            assignment=assignment,
            objective=evaluation.score,
            notes=run.notes,
        )
        return fill_timing(result, recorder)


def _kick_budget(units: TaskUnits, options: SolveOptions) -> int:
    """ILS kicks a deterministic run may make within its limit (see the rate above)."""
    pairs = units.n_agents * units.n_units
    return int(_DETERMINISTIC_KICK_RATE * options.work_s / (pairs + 100))


def greedy_assignment(
    problem: CompiledProblem, time_limit_s: float = 1.0, seed: int = 0
) -> np.ndarray:
    """The greedy plan as int32[n] (agent per task, -1 unassigned), for warm starts."""
    result = GreedySolver().solve(problem, SolveOptions(time_limit_s=time_limit_s, seed=seed))
    assert result.assignment is not None
    return result.assignment


def quick_plan(
    problem: CompiledProblem, time_limit_s: float, seed: int = 0, rounds: int = 200
) -> np.ndarray:
    """One construction plus a bounded local search (no ILS): a fast seed for other methods.

    The work is bounded by counts, not the clock, so the plan is reproducible;
    `time_limit_s` is only a safety stop.
    """
    deadline = time.perf_counter() + time_limit_s
    rng = np.random.default_rng(seed)
    units = build_units(problem)
    model = build_score_model(problem, units)
    last = PlanState(units)
    starts = _starts(
        problem, units, model, SolveOptions(), rng, deadline, variants=1, rounds=rounds
    )
    for last in starts:  # noqa: B007
        pass  # the last yielded state is the polished one
    return units.to_assignment(last.assign)


class _Run:
    """Keeps the best unit assignment; reports each improvement to the trace and caller."""

    def __init__(
        self,
        problem: CompiledProblem,
        units: TaskUnits,
        model: ScoreModel,
        recorder: TraceRecorder,
        options: SolveOptions,
    ):
        self.problem, self.units, self.model = problem, units, model
        self.recorder, self.options = recorder, options
        self.best: np.ndarray | None = None
        self.best_score = np.inf
        self.notes: list[str] = []
        self._last_report = -np.inf

    def offer(self, state: PlanState) -> float:
        """Keep `state` if it beats the best; returns the best heuristic score."""
        score = self.model.total(state)
        if score < self.best_score - 1e-9:
            self.best, self.best_score = state.copy_assign(), score
            now = time.perf_counter()
            # Re-scoring with the evaluator costs O(n log n); rate-limit it in long runs.
            if now - self._last_report > 0.05:
                self._last_report = now
                assignment = self.units.to_assignment(self.best)
                evaluation = evaluate_plan(self.problem, assignment)
                if evaluation.feasible:
                    self.report(assignment, evaluation.score)
        return self.best_score

    def report(self, assignment: np.ndarray, objective: float) -> None:
        self.recorder.record(objective)
        self.options.report_incumbent(assignment, objective)


def _starts(
    problem: CompiledProblem,
    units: TaskUnits,
    model: ScoreModel,
    options: SolveOptions,
    rng: np.random.Generator,
    deadline: float,
    *,
    variants: int = len(_STEERING),
    rounds: int = 10_000,
    build_deadline: float | None = None,
) -> Iterator[PlanState]:
    """Starting plans: the best regret variant (raw, then polished), then the caller's hints.

    The first construction stops at `build_deadline` (default: `deadline`), so a caller
    may have it finished past the clock; everything else stops at `deadline`.
    """
    build = deadline if build_deadline is None else build_deadline
    size = units.usage.size
    prices = None
    if size <= _PRICED:
        # Bounded by its iteration count; the clock (a fifth of what is left) is only a
        # stop for large plans, and deterministic runs keep the clock out of it.
        budget = time.perf_counter() + 0.2 * max(0.0, deadline - time.perf_counter())
        prices, _ = capacity_prices(
            units, model, deadline=deadline if options.deterministic else budget
        )
    choices = _STEERING if prices is not None and np.any(prices > 0) else (0.0,)
    # Constructions are cheap next to local search: build every variant, polish the best.
    best: PlanState | None = None
    for steer in choices[:variants]:
        state = PlanState(units)
        steering = prices * steer if prices is not None and steer else None
        if steer is None and prices is not None:
            steering = prices
            left = relaxed_start(state, model, prices)
        else:
            left = regret_insert(
                state, model, np.arange(units.n_units), prices=steering, deadline=build
            )
        if len(left):
            repair_by_ejection(state, model, left, rng, build, prices=steering)
        if best is None or model.total(state) < model.total(best):
            best = state
        build = deadline  # the later variants are extras
        if time.perf_counter() > deadline:
            break
    assert best is not None
    yield best  # an incumbent before polishing, so a caller has a plan early
    local_search(best, model, deadline, rng, max_rounds=rounds)
    yield best
    for raw in options.hints:
        hint = well_formed_hint(problem, raw)
        if hint is None:
            continue
        state = _state_from_hint(units, model, units.from_assignment(hint), rng, deadline)
        local_search(state, model, deadline, rng, max_rounds=rounds)
        yield state


def _state_from_hint(
    units: TaskUnits,
    model: ScoreModel,
    unit_assign: np.ndarray,
    rng: np.random.Generator,
    deadline: float,
) -> PlanState:
    """Adopt a hint's placements that fit, then insert and repair the rest."""
    state = PlanState(units)
    m = units.n_agents
    for u in np.flatnonzero((unit_assign >= 0) & (unit_assign < m)).tolist():
        i = int(unit_assign[u])
        if state.fits(u, i):
            state.place(u, i)
    out = np.flatnonzero(state.assign < 0)
    if len(out):
        left = regret_insert(state, model, out, deadline=deadline)
        if len(left):
            repair_by_ejection(state, model, left, rng, deadline)
    return state
