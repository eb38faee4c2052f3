"""NSGA-II over workflow schedules: the makespan-cost front (and the request's objectives).

Each individual is a genome (`pareto_genome`: agent per task and a topological task
order) decoded by the list-scheduling decoder (`decode.decode`: tasks in the order,
each in its agent's earliest idle gap after its inputs arrive) into a full schedule.
Survival is DEAP's `selNSGA2`; parents are drawn by binary tournament on the survivors'
rank (they come back best front first). Seeds: HEFT, PEFT, HEFT improved by the local
search, CP-SAT on small workflows, the cheapest list schedule, a few weighted-sum list
schedules and the caller's hints (`pareto_seeds`). Every non-dominated schedule met is
kept in an archive, so a seed is on the returned front or dominated by a member of it;
each member is re-checked by `evaluate_plan` with its own start times as it enters the
archive (so a slow moment at the deadline costs no members), and only accepted members
are returned.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import numpy as np
from deap import base, tools

from models import CompiledProblem, Evaluation, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.shared.pareto import non_dominated, normalised_hypervolume
from solvers.shared.timing import fill_timing
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import Schedule
from solvers.workflow.pareto_bandwidth import repaired_member
from solvers.workflow.pareto_clock import SearchClock
from solvers.workflow.pareto_genome import Genome, GenomeOps
from solvers.workflow.pareto_objectives import ScheduleScorer, workflow_objectives
from solvers.workflow.pareto_seeds import seed_schedules

__all__ = ["solve_workflow_pareto"]

_SEED_SHARE = 0.4  # of the budget at most for the seeds (local search, CP-SAT)
_INFEASIBLE = 1e300  # objective value of a genome that fits no agent or never finishes
#: Deterministic runs: tasks decoded per second of budget, about half the speed measured
#: on one loaded core (300-400k task placements per second), so the count ends first.
_TASKS_PER_S = 1.5e5
_ARCHIVE_MAX = 100  # front members kept (the report reads at most 200 per solver)


@dataclass
class Individual:
    """A genome, its decoded schedule and its objective vector (DEAP reads `fitness`)."""

    agent: list[int]
    order: list[int]
    schedule: Schedule | None
    values: np.ndarray
    fitness: base.Fitness = field(repr=False)
    #: evaluate_plan's verdict on this schedule, made when it entered the archive.
    check: Evaluation | None = field(default=None, repr=False)


@dataclass
class SearchStats:
    decoded: int = 0
    decode_s: float = 0.0
    generations: int = 0
    check_s: float = 0.0  # one evaluate_plan check, as the clock last measured it


class _Breeder:
    """Decodes genomes into scored individuals."""

    def __init__(self, problem: CompiledProblem, names: tuple[str, ...], ops: GenomeOps):
        self.problem, self.names, self.ops = problem, names, ops
        self.graph = ops.graph
        self.scorer = ScheduleScorer(problem, names)
        self.fitness_class = type(
            "WorkflowFitness", (base.Fitness,), {"weights": (-1.0,) * len(names)}
        )
        self.stats = SearchStats()

    def individual(self, genome: Genome | None, fallback: Genome) -> Individual:
        began = time.perf_counter()
        repaired = None if genome is None else self.ops.repair(genome)
        schedule = None
        if repaired is not None:
            schedule = decode(self.graph, repaired[1], repaired[0])
            if not np.isfinite(schedule.makespan):
                schedule = None  # some input can never arrive (no network path)
        agent, order = repaired if repaired is not None else fallback
        return self.scored(agent, order, schedule, began)

    def scored(
        self, agent: list[int], order: list[int], schedule: Schedule | None, began: float
    ) -> Individual:
        values = (
            np.full(len(self.names), _INFEASIBLE)
            if schedule is None
            else self.scorer.values(schedule)
        )
        fitness = self.fitness_class(tuple(values.tolist()))
        self.stats.decoded += 1
        self.stats.decode_s += time.perf_counter() - began
        return Individual(agent, order, schedule, values, fitness)


def solve_workflow_pareto(
    problem: CompiledProblem, options: SolveOptions, solver_name: str
) -> SolveResult:
    """The front of verified schedules; the plan nearest the ideal (or best score) chosen."""
    recorder = TraceRecorder()
    deadline = recorder.start + max(0.0, options.time_limit_s)
    random.seed(options.seed)  # DEAP's selection breaks ties with the global `random`
    rng = np.random.default_rng(options.seed)
    graph = build_graph(problem)
    ops = GenomeOps(problem, graph, rng)
    names = workflow_objectives(problem)
    breeder = _Breeder(problem, names, ops)
    # A deterministic run sizes its work from work_s; the clock is only its safety stop.
    nominal = options.work_s if options.deterministic else options.time_limit_s
    seed_stop = recorder.start + _SEED_SHARE * max(0.0, min(nominal, options.time_limit_s))
    seeds = seed_schedules(problem, graph, ops, options, seed_stop, names)
    if not seeds:
        return SolveResult(
            solver_name,
            SolveStatus.NO_SOLUTION,
            StopReason.ITERATIONS_DONE,
            wall_time_s=recorder.elapsed(),
            notes=["list scheduling found no agent for some task under the constraints"],
        )
    seeded = [breeder.scored(s.schedule.agent, s.schedule.order, s.schedule, 0.0) for s in seeds]
    clock = SearchClock.starting(problem, deadline, options.time_limit_s, seeds)
    breeder.stats = SearchStats()  # seeds are not counted as decodes of the search
    size = max(4, options.population + options.population % 2)
    pop = _initial_population(breeder, seeded, size, rng)
    archive = _Archive()
    archive.offer(pop)
    archive.check_newcomers(problem)
    _record(problem, names, archive, recorder, options)
    cap = options.generations
    if cap is None and options.deterministic:
        cap = max(1, int(options.work_s * _TASKS_PER_S / (size * max(1, graph.n))))
    stop = StopReason.ITERATIONS_DONE
    rate = min(0.5, 2.0 / max(graph.n, 1))
    while cap is None or breeder.stats.generations < cap:
        stop_at = clock.stop_at(min(_ARCHIVE_MAX, size // 4))
        if time.perf_counter() > stop_at:
            stop = StopReason.TIME_LIMIT
            break
        children = _offspring(breeder, pop, size, rate, rng, stop_at)
        pop = tools.selNSGA2(pop + children, size, nd="log")
        archive.offer(children)
        archive.check_newcomers(problem)
        breeder.stats.generations += 1
        _record(problem, names, archive, recorder, options)
        clock.after_generation(breeder.stats.generations, problem, archive.members)
    stats = breeder.stats
    stats.check_s = clock.check_s
    return _result(
        solver_name, problem, names, archive, seeds, stats, stop, recorder, clock.checks_end()
    )


def _initial_population(
    breeder: _Breeder, seeded: list[Individual], size: int, rng: np.random.Generator
) -> list[Individual]:
    """The seeds, then mutants of them at rising strength, so the front starts spread."""
    pop = list(seeded[:size])
    k = 0
    while len(pop) < size:
        parent = seeded[k % len(seeded)]
        strength = min(0.5, 0.02 * (1 + k // len(seeded)))
        genome = breeder.ops.mutate((parent.agent, parent.order), strength)
        pop.append(breeder.individual(genome, (parent.agent, parent.order)))
        k += 1
    return tools.selNSGA2(pop, size, nd="log")


def _offspring(
    breeder: _Breeder,
    pop: list[Individual],
    size: int,
    rate: float,
    rng: np.random.Generator,
    deadline: float,
) -> list[Individual]:
    """`size` children by tournament, crossover and mutation (fewer at the deadline)."""
    children: list[Individual] = []
    for _ in range(size):
        if time.perf_counter() > deadline and children:
            break
        # selNSGA2 returns survivors best front first, so a lower index wins a tournament.
        a = pop[int(rng.integers(0, len(pop), 2).min())]
        b = pop[int(rng.integers(0, len(pop), 2).min())]
        genome = breeder.ops.crossover((a.agent, a.order), (b.agent, b.order))
        genome = breeder.ops.mutate(genome, rate)
        children.append(breeder.individual(genome, (a.agent, a.order)))
    return children


class _Archive:
    """Every non-dominated feasible individual met (duplicates of a point kept once)."""

    def __init__(self) -> None:
        self.members: list[Individual] = []

    def offer(self, individuals: list[Individual]) -> None:
        fresh = [x for x in individuals if x.schedule is not None]
        if not fresh:
            return
        pool = self.members + fresh
        keep = non_dominated(np.array([x.values for x in pool]))
        self.members = [pool[k] for k in keep.tolist()]
        if len(self.members) > _ARCHIVE_MAX:
            # Crowding truncation keeps each objective's extreme points.
            self.members = tools.selNSGA2(self.members, _ARCHIVE_MAX, nd="log")

    def check_newcomers(self, problem: CompiledProblem) -> None:
        """Re-check each new member with evaluate_plan now (about 0.2 ms on 30 tasks, some
        3 % of a run), not all at the end: a slow moment near the deadline (a CI run's
        full suite had 99 of 100 members unchecked at the end) then costs no members."""
        for member in self.members:
            if member.check is None and member.schedule is not None:
                agent = np.array(member.agent, dtype=np.int32)
                member.check = evaluate_plan(problem, agent, np.array(member.schedule.start))


def _record(
    problem: CompiledProblem,
    names: tuple[str, ...],
    archive: _Archive,
    recorder: TraceRecorder,
    options: SolveOptions,
) -> None:
    """Trace the archive's best scalar score (the first objective when nothing is weighted)."""
    if not archive.members:
        return
    weights = np.array([problem.objectives.weight(n) for n in names])
    if not np.any(weights):
        weights = np.eye(len(names))[0]
    scores = [float(x.values @ weights) for x in archive.members]
    k = int(np.argmin(scores))
    best = recorder.trace[-1][1] if recorder.trace else np.inf
    if scores[k] < best - 1e-9:
        recorder.record(scores[k])
        options.report_incumbent(np.array(archive.members[k].agent, dtype=np.int32), scores[k])


def _result(
    solver_name: str,
    problem: CompiledProblem,
    names: tuple[str, ...],
    archive: _Archive,
    seeds: list,
    stats: SearchStats,
    stop: StopReason,
    recorder: TraceRecorder,
    deadline: float,
) -> SolveResult:
    """Collect the archive members evaluate_plan accepted (checked as they entered it; any
    left are checked, and bandwidth breaches repaired, until the deadline; at least one);
    choose; hypervolume against the seeds."""
    verified: list[tuple[np.ndarray, np.ndarray, np.ndarray, Evaluation]] = []
    scorer = ScheduleScorer(problem, names)
    repaired = failed = unchecked = 0
    first_violation = ""
    checks_began = time.perf_counter()
    for member in _spread(archive.members):
        late = bool(verified or failed) and time.perf_counter() > deadline
        if member.check is None and late:
            unchecked += 1  # members checked during the search still count
            continue
        assert member.schedule is not None
        agent = np.array(member.agent, dtype=np.int32)
        start = np.array(member.schedule.start, dtype=np.float64)
        ev = member.check or evaluate_plan(problem, agent, start)
        values = member.values
        if not ev.feasible and not late:  # over a link's bandwidth only: repaired
            left = max(0.05, min(0.5, deadline - time.perf_counter()))
            fixed = repaired_member(problem, scorer, member.schedule, ev, time_limit_s=left)
            if fixed is not None:
                agent, start, values, ev = fixed
                repaired += 1
        if ev.feasible:
            verified.append((values, agent, start, ev))
        else:
            failed += 1
            first_violation = first_violation or ev.violations[0].message
    checks_s = time.perf_counter() - checks_began
    checked = len(verified)
    if repaired:
        # A repaired member may now be dominated by (or equal to) another one.
        keep = non_dominated(np.array([v[0] for v in verified]))
        verified = [verified[k] for k in keep.tolist()]
    rate = stats.decoded / stats.decode_s if stats.decode_s > 0 else 0.0
    notes = [
        f"{stats.generations} generations, {stats.decoded} genomes repaired, decoded and "
        f"scored ({rate:.0f} per second of that work); objectives traded off: "
        f"{', '.join(names)}",
        f"seeds: {', '.join(s.label for s in seeds)}",
    ]
    if repaired:
        notes.append(
            f"{repaired} front member(s) overloaded a link and were repaired (tasks moved, "
            f"re-timed on the routed paths); {checked - len(verified)} member(s) were then "
            "dominated or repeated a point, and left out"
        )
    if failed:
        notes.append(
            f"{failed} front member(s) failed evaluate_plan and were dropped (first: "
            f"{first_violation})"
        )
    if unchecked:
        notes.append(
            f"{unchecked} front member(s) were not checked by the deadline and were dropped "
            f"(the search stopped {deadline - checks_began:.3f} s before the checks had to "
            f"end; the checks and repairs left took {checks_s:.3f} s, one check was measured "
            f"at {stats.check_s * 1e3:.2f} ms)"
        )
    if not verified:
        return fill_timing(
            SolveResult(solver_name, SolveStatus.NO_SOLUTION, stop, notes=notes), recorder
        )
    verified.sort(key=lambda v: tuple(v[0].tolist()))
    values = np.array([v[0] for v in verified])
    chosen = verified[_choose(problem, values, [v[3] for v in verified])]
    seed_values = np.array([scorer.values(s.schedule) for s in seeds])
    both = np.concatenate([values, seed_values])
    result = SolveResult(
        solver=solver_name,
        status=SolveStatus.FEASIBLE,
        stop_reason=stop,
        assignment=chosen[1],
        start=chosen[2],
        front=[v[1] for v in verified],
        front_start=[v[2] for v in verified],
        objective=float(chosen[3].score),
        notes=notes,
        # Normalised by the front and the seeds (as the allocation NSGA-II does); reports
        # compute one hypervolume over every solver's merged front instead.
        hypervolume=normalised_hypervolume(values, both.min(axis=0), both.max(axis=0)),
    )
    return fill_timing(result, recorder)


def _spread(members: list[Individual]) -> list[Individual]:
    """Members by first objective, in the order extremes, middle, quarters, ...: checks cut
    short by the deadline then leave an even front, not a gap at one end."""
    ranked = sorted(members, key=lambda x: tuple(x.values.tolist()))
    picked: dict[int, None] = {}
    level = 1
    while len(picked) < len(ranked):
        for k in np.linspace(0, len(ranked) - 1, level + 1).round().astype(int).tolist():
            picked.setdefault(k)
        level *= 2
    return [ranked[k] for k in picked]


def _choose(problem: CompiledProblem, values: np.ndarray, evaluations: list) -> int:
    """Weighted: best score; lexicographic: best by order; Pareto: nearest the ideal."""
    spec = problem.objectives
    if spec.mode == "weighted":
        return int(np.argmin([e.score for e in evaluations]))
    if spec.mode == "lexicographic":
        keys = [e.lex_key(spec.order) for e in evaluations]
        return min(range(len(keys)), key=keys.__getitem__)
    lo, hi = values.min(axis=0), values.max(axis=0)
    scaled = (values - lo) / np.where(hi > lo, hi - lo, 1.0)
    return int(np.argmin(np.linalg.norm(scaled, axis=1)))
