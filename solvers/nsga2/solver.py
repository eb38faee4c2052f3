"""`nsga2`: NSGA-II over an integer encoding (gene = agent index per task).

Everything per generation is whole-population numpy work:
- variation (`nsga2_operators`): parameterised uniform crossover and mutation,
  applied as moves on a copy of one parent whose per-agent loads travel with the
  population, so only the changed genes are checked and re-placed
  (`nsga2_repair.CapacityRepair.move`) instead of recounting and repairing plans;
- evaluation (`population_eval`): every objective and the violation at once;
- survival (`nsga2_select`): DEAP's selNSGA2 rule. For two objectives a numpy
  implementation of that same rule (checked against DEAP: same fronts, same
  crowding distances), because building DEAP individuals and running its generic
  sort cost ~1.4 ms a generation, more than all of the above together; three or
  more objectives call `selNSGA2(..., nd="log")` itself.

Workflows (tasks with dependencies) go to `solvers.workflow.pareto_search`: its
genome adds a task order and is decoded into a schedule (docs/workflows.md).

The population is seeded with one greedy plan per objective alone (the extremes),
the scalarised greedy plan outside Pareto mode, and the caller's hints (e.g. the
CP-SAT plan), so no single seed takes over. Infeasible plans rank behind every
feasible one.
"""

from __future__ import annotations

import dataclasses
import random
import time

import numpy as np

from models import CompiledProblem, Evaluation, ObjectiveSpec, evaluate_plan
from models.schema import OBJECTIVE_NAMES
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.heuristic.solver import quick_plan
from solvers.nsga2.operators import GeneOperators
from solvers.nsga2.population_eval import PopulationEvaluator
from solvers.nsga2.selection import survivors
from solvers.shared.hints import well_formed_hint
from solvers.shared.pareto import non_dominated, normalised_hypervolume
from solvers.shared.timing import fill_timing
from solvers.workflow.pareto_search import solve_workflow_pareto

__all__ = ["Nsga2Solver", "nsga2_objectives"]

_INFEASIBLE = 1e15  # objective value of infeasible plans, plus their violation
_SEED_SHARE = 0.1  # of the time limit at most spent building seed plans
_GENES_PER_S = 2e6  # deterministic runs: plans x tasks bred per second of budget ...
_GENERATION_S = 1.5e-3  # ... plus this fixed cost per generation (numpy call overhead)
_SEED_ROUNDS = 3  # local-search rounds per seed: the GA does the rest
#: Workflows: one list schedule of 5,000 x 100 took 0.7 s on the loaded 2-core machine
#: (measured for `heft`, solvers/workflow/solver.py); the workflow GA starts from ten.
_MAX_WORKFLOW_PAIRS = 500_000


def nsga2_objectives(problem: CompiledProblem) -> tuple[str, ...]:
    """Objectives traded off: Pareto list, lexicographic order, or the weighted ones.

    A single objective gets 'imbalance' (or 'cost') as a second so there is a front.
    """
    spec = problem.objectives
    names = tuple(spec.order) if spec.mode in ("pareto", "lexicographic") else spec.active
    names = names or ("cost",)
    if len(names) == 1:
        names = (*names, "imbalance" if names[0] != "imbalance" else "cost")
    return names


class Nsga2Solver:
    """Multi-objective genetic algorithm; returns the feasible non-dominated front."""

    name = "nsga2"
    exact = False
    multi_objective = True
    anytime = True

    def available(self) -> bool:
        return True  # deap is a core dependency

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        pairs = problem.n_tasks * problem.n_agents
        if problem.workflow is not None and pairs > _MAX_WORKFLOW_PAIRS:
            return (
                f"{pairs:,} (task, agent) pairs > {_MAX_WORKFLOW_PAIRS:,}: a workflow's "
                "seeds alone (ten list schedules) would take the budget"
            )
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        if problem.workflow is not None:
            # Tasks with dependencies: the genome needs a task order and a schedule decoder.
            reason = self.skip_reason(problem, options)
            if reason is not None:
                return SolveResult(
                    self.name, SolveStatus.SKIPPED, StopReason.NOT_STARTED, notes=[reason]
                )
            return solve_workflow_pareto(problem, options, self.name)
        recorder = TraceRecorder()
        deadline = recorder.start + max(0.0, options.time_limit_s)
        # DEAP's operators use the global `random`; seed it here, in the solving process.
        random.seed(options.seed)
        rng = np.random.default_rng(options.seed)
        names = nsga2_objectives(problem)
        evaluator = PopulationEvaluator(problem, names)
        ops = GeneOperators(problem, rng)
        size = max(4, options.population + options.population % 2)
        seeds = _seed_plans(problem, names, options, recorder.start)
        pop = _initial_population(ops, seeds, size, rng)
        values, violation = evaluator.evaluate(pop)
        # Per-plan loads travel with the population, so children start from known ones.
        usage, counts = ops.capacity_repair.loads(pop)
        tracker = _Incumbent(problem, names, recorder, options)
        tracker.offer(pop, values, violation)
        rate = min(0.5, 2.0 / max(problem.n_tasks, 1))
        generations = 0
        stop = StopReason.ITERATIONS_DONE
        cap = options.generations
        if cap is None and options.deterministic:
            cap = _deterministic_generations(problem, size, options.work_s)
        while cap is None or generations < cap:
            if time.perf_counter() > deadline:
                stop = StopReason.TIME_LIMIT
                break
            # Survivors come back best-first, so a lower position wins a tournament.
            a = rng.integers(0, size, (2, size // 2)).min(axis=0)
            b = rng.integers(0, size, (2, size // 2)).min(axis=0)
            children, child_usage, child_counts = ops.offspring(pop, usage, counts, a, b, rate)
            child_values, child_violation = evaluator.evaluate(children)
            pop = np.concatenate([pop, children])
            usage = np.concatenate([usage, child_usage])
            counts = np.concatenate([counts, child_counts])
            values = np.concatenate([values, child_values])
            violation = np.concatenate([violation, child_violation])
            keep = survivors(_ranked_values(values, violation), size)
            pop, values, violation = pop[keep], values[keep], violation[keep]
            usage, counts = usage[keep], counts[keep]
            tracker.offer(pop, values, violation)
            generations += 1
        result = _result(
            self.name, problem, names, pop, values, violation, seeds, tracker, stop, generations
        )
        if options.deterministic and stop == StopReason.TIME_LIMIT:
            result.notes.append(
                "deterministic run cut short by the time limit: the front may differ "
                "between runs (give it a longer limit)"
            )
        return result


def _deterministic_generations(problem: CompiledProblem, size: int, time_limit_s: float) -> int:
    """Generations a deterministic run makes: the clock must not decide how many.

    A generation costs `_GENERATION_S` plus its genes (plans x tasks) at `_GENES_PER_S`:
    about half the speed measured on one loaded core (15 tasks, population 100: some
    800 generations per second), so the count ends before the clock does.
    """
    per_generation_s = _GENERATION_S + size * max(1, problem.n_tasks) / _GENES_PER_S
    return max(1, int(time_limit_s / per_generation_s))


def _seed_plans(
    problem: CompiledProblem, names: tuple[str, ...], options: SolveOptions, start: float
) -> list[np.ndarray]:
    """The greedy plan (not in Pareto mode), one greedy plan per objective alone, the hints."""
    # quick_plan bounds its work by counts (reproducible); this is only a safety stop.
    per_seed = _SEED_SHARE * options.time_limit_s / (len(names) + 1)
    seeds: list[np.ndarray] = []
    if problem.objectives.mode != "pareto":
        # The scalarised plan is the best start for the chosen plan. In Pareto mode
        # there is no scalar objective (a unit-weighted sum of cost and seconds is an
        # arbitrary mid-front point the GA reaches anyway); skipping it saves a
        # quarter of the seeding time.
        seeds.append(quick_plan(problem, per_seed, options.seed, rounds=_SEED_ROUNDS))
    for name in names:
        weights = np.zeros(len(OBJECTIVE_NAMES))
        weights[OBJECTIVE_NAMES.index(name)] = 1.0
        alone = dataclasses.replace(
            problem, objectives=ObjectiveSpec(mode="weighted", weights=weights, order=())
        )
        seeds.append(quick_plan(alone, per_seed, options.seed, rounds=_SEED_ROUNDS))
    well_formed = (well_formed_hint(problem, h) for h in options.hints)
    seeds.extend(h.astype(np.int64) for h in well_formed if h is not None)
    return [s.astype(np.int64) for s in seeds]


def _initial_population(
    ops: GeneOperators, seeds: list[np.ndarray], size: int, rng: np.random.Generator
) -> np.ndarray:
    """Seeds, light mutants of the seeds (a quarter), and repaired random plans."""
    seeds = seeds[: size // 2]
    pop = [np.stack(seeds)] if seeds else []
    n_mutants = size // 4
    if seeds and n_mutants:
        parents = np.stack(seeds)[rng.integers(0, len(seeds), n_mutants)]
        pop.append(ops.repair(ops.mutate(parents.copy(), 0.05)))
    rest = size - sum(len(p) for p in pop)
    pop.append(ops.repair(ops.random_population(rest)))
    return np.concatenate(pop)


def _ranked_values(values: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """Objective rows for selection: infeasible plans rank by violation, behind all others."""
    penalised = _INFEASIBLE * (1.0 + violation)[:, None]
    return np.where((violation > 0)[:, None], penalised, values)


class _Incumbent:
    """Tracks the best feasible plan by the problem's scalar score for the trace."""

    def __init__(
        self,
        problem: CompiledProblem,
        names: tuple[str, ...],
        recorder: TraceRecorder,
        options: SolveOptions,
    ):
        self.problem, self.names, self.recorder, self.options = problem, names, recorder, options
        self.weights = np.array([problem.objectives.weight(n) for n in OBJECTIVE_NAMES])
        self.best = np.inf
        self.evaluator = PopulationEvaluator(
            problem, tuple(n for n, w in zip(OBJECTIVE_NAMES, self.weights, strict=True) if w)
        )

    def offer(self, pop: np.ndarray, values: np.ndarray, violation: np.ndarray) -> None:
        feasible = np.flatnonzero(violation == 0)
        if not len(feasible) or not self.evaluator.names:
            return
        w = np.array([self.problem.objectives.weight(n) for n in self.evaluator.names])
        if self.evaluator.names == self.names:
            scored = values[feasible]  # the population's own objectives already are these
        else:
            scored, _ = self.evaluator.evaluate(pop[feasible])
        score = scored @ w
        k = int(np.argmin(score))
        if score[k] < self.best - 1e-9:
            self.best = float(score[k])
            self.recorder.record(self.best)
            self.options.report_incumbent(pop[feasible[k]].astype(np.int32), self.best)


def _result(
    name: str,
    problem: CompiledProblem,
    names: tuple[str, ...],
    pop: np.ndarray,
    values: np.ndarray,
    violation: np.ndarray,
    seeds: list[np.ndarray],
    tracker: _Incumbent,
    stop: StopReason,
    generations: int,
) -> SolveResult:
    feasible = np.flatnonzero(violation == 0)
    notes = [f"{generations} generations; objectives traded off: {', '.join(names)}"]
    if not len(feasible):
        result = SolveResult(
            solver=name,
            status=SolveStatus.NO_SOLUTION,
            stop_reason=stop,
            assignment=pop[int(np.argmin(violation))].astype(np.int32),
            notes=[*notes, "no feasible plan in the final population"],
        )
        return fill_timing(result, tracker.recorder)
    _, unique = np.unique(pop[feasible], axis=0, return_index=True)
    cand = feasible[np.sort(unique)]
    front = cand[non_dominated(values[cand])]
    if problem.objectives.mode == "pareto":
        # Choosing needs only the objective rows. Feasibility is violation == 0 from
        # the population evaluator, which the tests hold to evaluate_plan, and the
        # portfolio re-checks every front member with evaluate_plan anyway.
        members: list[tuple[int, Evaluation | None]] = [(i, None) for i in front.tolist()]
    else:
        evaluations = [evaluate_plan(problem, pop[i]) for i in front]
        members = [(i, e) for i, e in zip(front.tolist(), evaluations, strict=True) if e.feasible]
    chosen = _choose(problem, names, values, members)
    seed_values, _ = PopulationEvaluator(problem, names).evaluate(np.stack(seeds))
    both = np.concatenate([values[front], seed_values])
    # Its own normalisation (front and seeds), for the GA benchmark; reports compute one
    # hypervolume over the merged front of every solver instead.
    hv = normalised_hypervolume(values[front], both.min(axis=0), both.max(axis=0))
    result = SolveResult(
        solver=name,
        status=SolveStatus.FEASIBLE,
        stop_reason=stop,
        assignment=pop[chosen].astype(np.int32),
        front=[pop[i].astype(np.int32) for i, _ in members],
        objective=float(evaluate_plan(problem, pop[chosen]).score),
        notes=notes,
        hypervolume=hv,
    )
    return fill_timing(result, tracker.recorder)


def _choose(
    problem: CompiledProblem, names: tuple[str, ...], values: np.ndarray, members: list
) -> int:
    """Weighted: best score; lexicographic: best by order; Pareto: nearest the ideal."""
    spec = problem.objectives
    if spec.mode == "weighted":
        return min(members, key=lambda m: m[1].score)[0]
    if spec.mode == "lexicographic":
        return min(members, key=lambda m: m[1].lex_key(spec.order))[0]
    rows = values[[i for i, _ in members]]
    lo, hi = rows.min(axis=0), rows.max(axis=0)
    scaled = (rows - lo) / np.where(hi > lo, hi - lo, 1.0)
    return members[int(np.argmin(np.linalg.norm(scaled, axis=1)))][0]
