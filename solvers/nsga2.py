"""`nsga2`: DEAP NSGA-II over an integer encoding (gene = agent index per task).

Variation, repair and evaluation run on a numpy population; DEAP does the
non-dominated survival (`selNSGA2(..., nd="log")`). The population is seeded with
the greedy plan, one extreme plan per objective and the caller's hints, so no
single seed takes over. Infeasible plans rank behind every feasible one.
"""

from __future__ import annotations

import dataclasses
import random
import time

import numpy as np
from deap import tools

from models import CompiledProblem, ObjectiveSpec, evaluate_plan
from models.schema import OBJECTIVE_NAMES
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.greedy import quick_plan
from solvers.hypervolume import non_dominated, normalised_hypervolume
from solvers.nsga2_operators import GeneOperators
from solvers.population_eval import PopulationEvaluator

__all__ = ["Nsga2Solver", "nsga2_objectives"]

_INFEASIBLE = 1e15  # objective value of infeasible plans, plus their violation
_SEED_SHARE = 0.1  # of the time limit at most spent building seed plans
_SEED_ROUNDS = 3  # local-search rounds per seed: the GA does the rest


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
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
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
        tracker = _Incumbent(problem, names, recorder, options)
        tracker.offer(pop, values, violation)
        select = _deap_selector(len(names))
        rate = min(0.5, 2.0 / max(problem.n_tasks, 1))
        generations = 0
        stop = StopReason.ITERATIONS_DONE
        while options.generations is None or generations < options.generations:
            if time.perf_counter() > deadline:
                stop = StopReason.TIME_LIMIT
                break
            # Survivors come back best-first, so a lower position wins a tournament.
            a = rng.integers(0, size, (2, size // 2)).min(axis=0)
            b = rng.integers(0, size, (2, size // 2)).min(axis=0)
            children = ops.repair(ops.mutate(ops.crossover(pop[a], pop[b]), rate))
            child_values, child_violation = evaluator.evaluate(children)
            pop = np.concatenate([pop, children])
            values = np.concatenate([values, child_values])
            violation = np.concatenate([violation, child_violation])
            keep = select(_ranked_values(values, violation), size)
            pop, values, violation = pop[keep], values[keep], violation[keep]
            tracker.offer(pop, values, violation)
            generations += 1
        return _result(
            self.name, problem, names, pop, values, violation, seeds, tracker, stop, generations
        )


def _seed_plans(
    problem: CompiledProblem, names: tuple[str, ...], options: SolveOptions, start: float
) -> list[np.ndarray]:
    """The greedy plan, one greedy plan per objective alone, and the hints."""
    # quick_plan bounds its work by counts (reproducible); this is only a safety stop.
    per_seed = _SEED_SHARE * options.time_limit_s / (len(names) + 1)
    seeds = [quick_plan(problem, per_seed, options.seed, rounds=_SEED_ROUNDS)]
    for name in names:
        weights = np.zeros(len(OBJECTIVE_NAMES))
        weights[OBJECTIVE_NAMES.index(name)] = 1.0
        alone = dataclasses.replace(
            problem, objectives=ObjectiveSpec(mode="weighted", weights=weights, order=())
        )
        seeds.append(quick_plan(alone, per_seed, options.seed, rounds=_SEED_ROUNDS))
    seeds.extend(
        np.asarray(h, dtype=np.int64) for h in options.hints if np.shape(h) == (problem.n_tasks,)
    )
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


def _deap_selector(k: int):
    """Selection through DEAP's selNSGA2, with a per-call light fitness (no `creator`).

    selNSGA2 reads `fitness.values`/`wvalues` and writes `fitness.crowding_dist`;
    a slotted stand-in avoids building a DEAP Fitness per individual per generation.
    """

    class _Fitness:
        __slots__ = ("crowding_dist", "values", "wvalues")

        def __init__(self, values: tuple[float, ...]):
            self.values = values
            self.wvalues = tuple(-v for v in values)  # minimise every objective
            self.crowding_dist = 0.0

    class _Individual:
        __slots__ = ("fitness", "index")

        def __init__(self, index: int, values: tuple[float, ...]):
            self.index = index
            self.fitness = _Fitness(values)

    def select(values: np.ndarray, size: int) -> np.ndarray:
        # Duplicated plans waste slots and collapse diversity: they go last.
        _, first = np.unique(values, axis=0, return_index=True)
        first = np.sort(first)
        individuals = [_Individual(int(i), tuple(values[i].tolist())) for i in first]
        chosen = [ind.index for ind in tools.selNSGA2(individuals, min(size, len(first)), nd="log")]
        if len(chosen) < size:
            rest = np.setdiff1d(np.arange(len(values)), chosen)
            chosen.extend(rest[: size - len(chosen)].tolist())
        return np.array(chosen, dtype=np.int64)

    del k
    return select


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
        return SolveResult(
            solver=name,
            status=SolveStatus.NO_SOLUTION,
            stop_reason=stop,
            assignment=pop[int(np.argmin(violation))].astype(np.int32),
            trace=tracker.recorder.trace,
            wall_time_s=tracker.recorder.elapsed(),
            notes=[*notes, "no feasible plan in the final population"],
        )
    _, unique = np.unique(pop[feasible], axis=0, return_index=True)
    cand = feasible[np.sort(unique)]
    front = cand[non_dominated(values[cand])]
    evaluations = [evaluate_plan(problem, pop[i]) for i in front]
    members = [(i, e) for i, e in zip(front.tolist(), evaluations, strict=True) if e.feasible]
    chosen = _choose(problem, names, values, members)
    seed_values, _ = PopulationEvaluator(problem, names).evaluate(np.stack(seeds))
    both = np.concatenate([values[front], seed_values])
    hv = normalised_hypervolume(values[front], both.min(axis=0), both.max(axis=0))
    notes.append("hypervolume normalised by the ideal and nadir of the front and the seed plans")
    return SolveResult(
        solver=name,
        status=SolveStatus.FEASIBLE,
        stop_reason=stop,
        assignment=pop[chosen].astype(np.int32),
        front=[pop[i].astype(np.int32) for i, _ in members],
        objective=float(evaluate_plan(problem, pop[chosen]).score),
        trace=tracker.recorder.trace,
        wall_time_s=tracker.recorder.elapsed(),
        time_to_first_s=tracker.recorder.time_to_first_s,
        time_to_best_s=tracker.recorder.time_to_best_s,
        notes=notes,
        hypervolume=hv,
    )


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
