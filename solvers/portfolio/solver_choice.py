"""Which solvers a request gets: the ones asked for (or all), minus those a size limit,
the objective mode or a workflow rules out, each skipped one with its reason, and the
greedy alone when the time limit is too short for the portfolio (`greedy_alone_below`).
The size limits themselves are in `strategy.py`."""

from __future__ import annotations

from dataclasses import dataclass

from models import CompiledProblem
from solvers.portfolio.strategy import CLOCK_DRIVEN, PER_CORE, SizeLimits

__all__ = ["SolverChoice", "choose_solvers", "greedy_alone_below"]

#: Below `greedy_alone_below(pairs)` seconds the greedy alone finds better plans than the
#: portfolio, which gives it a share of the limit and splits the cores: `python -m
#: bench.tiny_budget_choice` (library, warm process, 2 shared cores, load 3-4, 3-6 seeds)
#: had the automatic choice worse than the greedy alone at 20 x 5 up to 0.5 s (never at
#: 0.75 s), 200 x 20 up to 0.75 s (never at 1 s), 500 x 40 up to 1.5 s. Not applied
#: above `_GREEDY_ALONE_MAX_PAIRS`: at 2,000 x 100 the greedy alone was better from 0.5
#: to 2 s but worse at 0.3 s (its plan inside the portfolio beat its plan alone, 3 of 3).
_GREEDY_ALONE_FIXED_S = 0.7
_GREEDY_ALONE_PER_PAIR_S = 5e-5
_GREEDY_ALONE_MAX_PAIRS = 20_000


def greedy_alone_below(pairs: int) -> float:
    """Time limit (s) under which a request of `pairs` eligible pairs runs the greedy alone
    (0 above the sizes measured)."""
    if pairs > _GREEDY_ALONE_MAX_PAIRS:
        return 0.0
    return _GREEDY_ALONE_FIXED_S + _GREEDY_ALONE_PER_PAIR_S * pairs


@dataclass(frozen=True)
class SolverChoice:
    """Solvers to run, and the ones skipped with their reason."""

    run: list[str]
    skipped: dict[str, str]


def choose_solvers(
    problem: CompiledProblem,
    requested: list[str] | None,
    available: list[str],
    cores: int = 2,
    *,
    deterministic: bool = False,
    time_limit_s: float | None = None,
) -> SolverChoice:
    """Pick by size and mode when `requested` is None; otherwise honour the request.

    `cores` is the request's workers: the size limits scale with it (`for_cores`).
    A deterministic run leaves out the solvers whose work follows the clock
    (`CLOCK_DRIVEN`), and whole-model CP-SAT then serves classic GAPs too. A
    `time_limit_s` below `greedy_alone_below` runs the greedy alone (not for
    workflows or Pareto fronts, which need heft or a front).
    """
    if requested is not None:
        run = [n for n in requested if n in available]
        missing = {n: "backend not available on this machine" for n in requested if n not in run}
        return SolverChoice(run=run, skipped=missing)
    limits = PER_CORE.for_cores(cores)
    run, skipped = _by_size_and_mode(problem, limits)
    if time_limit_s is not None and "greedy" in available:
        _greedy_alone_if_short(problem, time_limit_s, run, skipped)
    if deterministic:
        for name, why in CLOCK_DRIVEN.items():
            if name in run:
                run.remove(name)
                skipped[name] = f"deterministic run: {why}"
    elif problem.is_pure_gap() and "lns" in run and "lns" in available:
        _lns_covers_pure_gap(run, skipped, problem, limits)
    for name in list(run):
        if name not in available:
            run.remove(name)
            skipped[name] = "backend not available on this machine"
    return SolverChoice(run=run, skipped=skipped)


def _greedy_alone_if_short(
    problem: CompiledProblem, limit_s: float, run: list[str], skipped: dict[str, str]
) -> None:
    """Leave the greedy alone in `run` when `limit_s` is below `greedy_alone_below`."""
    if problem.workflow is not None or problem.objectives.mode == "pareto":
        return
    below = greedy_alone_below(int(problem.eligible.sum()))
    if limit_s >= below:
        return
    for name in [n for n in run if n != "greedy"]:
        run.remove(name)
        skipped[name] = (
            f"time limit {limit_s:g} s < {below:.2f} s: at this size the greedy alone "
            "finds better plans in it than the portfolio"
        )


def _by_size_and_mode(
    problem: CompiledProblem, limits: SizeLimits
) -> tuple[list[str], dict[str, str]]:
    """Default solver set: every method whose size limit and mode fit the request."""
    if problem.workflow is not None:
        return _for_workflow(problem.objectives.mode == "pareto")
    skipped: dict[str, str] = {}
    pairs = int(problem.eligible.sum())
    mode = problem.objectives.mode
    multi = mode == "pareto" or len(problem.objectives.active) > 1
    run = ["greedy"]
    if pairs <= limits.cpsat_max_pairs:
        run.append("cpsat")
    else:
        skipped["cpsat"] = (
            f"{pairs:,} variables > {limits.cpsat_max_pairs:,}: CP-SAT rarely finds a first "
            "plan in the budget at this size; the heuristic and LNS carry it"
        )
    if mode == "pareto":
        skipped["milp"] = "Pareto mode: CP-SAT's epsilon-constraint and NSGA-II give the front"
    elif pairs <= limits.milp_max_pairs:
        run.append("milp")
    else:
        skipped["milp"] = (
            f"{pairs:,} variables > {limits.milp_max_pairs:,}: HiGHS's MIP is too slow"
        )
    if mode != "pareto" and pairs <= limits.lns_max_pairs:
        run.append("lns")
    elif mode != "pareto":
        skipped["lns"] = f"{pairs:,} variables > {limits.lns_max_pairs:,}"
    if multi and problem.n_tasks <= limits.nsga2_max_tasks:
        run.append("nsga2")
    elif not multi:
        skipped["nsga2"] = "single objective: the exact solvers and LNS serve it better"
    else:
        skipped["nsga2"] = f"{problem.n_tasks:,} tasks > {limits.nsga2_max_tasks:,}"
    if mode == "weighted" and pairs <= limits.lp_max_pairs:
        run.append("lp_bound")
    elif mode == "weighted":
        skipped["lp_bound"] = (
            f"{pairs:,} variables > {limits.lp_max_pairs:,}: the Lagrangian bound is used instead"
        )
    _add_lp_guided(problem, limits, pairs, run, skipped)
    return run, skipped


def _add_lp_guided(
    problem: CompiledProblem,
    limits: SizeLimits,
    pairs: int,
    run: list[str],
    skipped: dict[str, str],
) -> None:
    """lp_guided joins the greedy where the LNS is too large and the score is linear."""
    spec = problem.objectives
    linear = spec.mode == "weighted" and set(spec.active) <= {"cost", "migrations", "unassigned"}
    overloads = problem.network is not None and problem.network.may_overload
    size = problem.n_agents * problem.n_tasks
    if pairs <= limits.lns_max_pairs:
        return  # the LNS (or an exact solver) serves it; no entry keeps the report short
    if not linear or overloads:
        skipped["lp_guided"] = "the dual prices only a linear weighted score without bandwidth"
    elif size > limits.lp_guided_max_pairs:
        skipped["lp_guided"] = (
            f"{size:,} agent-task pairs > {limits.lp_guided_max_pairs:,}: "
            "a dual evaluation reads every pair"
        )
    else:
        run.append("lp_guided")


def _for_workflow(pareto: bool) -> tuple[list[str], dict[str, str]]:
    """Tasks with dependencies: heft schedules them (and, in Pareto mode, nsga2's workflow
    GA gives the makespan-cost front beside it); the assignment-only engines would only be
    scored on a schedule derived from their assignment (`compare` still runs them)."""
    why = "tasks with dependencies: this engine assigns but does not schedule; heft does"
    run = ["greedy", "heft", "nsga2"] if pareto else ["greedy", "heft"]
    skipped = {n: why for n in ("cpsat", "milp", "lns", "nsga2", "lp_bound") if n not in run}
    if not pareto:
        skipped["nsga2"] = "not Pareto mode: heft gives the one plan the score asks for"
    return run, skipped


def _lns_covers_pure_gap(
    run: list[str], skipped: dict[str, str], problem: CompiledProblem, limits: SizeLimits
) -> None:
    """On a classic GAP the LNS (CP-SAT on neighbourhoods, LP bound inside) gets the cores.

    On 2 cores, whole-model CP-SAT and HiGHS beside it left each process a fraction of
    a core and starved the LNS's sub-solves (issue 2; figures in BENCHMARKS.md). HiGHS
    runs beside it on smaller GAPs whose agents hold many tasks each, where it proved C
    instances optimal in 1-5 s that the LNS only approached. `compare` names every
    solver and still runs them.
    """
    why = {
        "cpsat": "classic GAP: the LNS runs CP-SAT on neighbourhoods of the incumbent "
        "and gets the cores; whole-model CP-SAT beside it would starve it",
        "lp_bound": "classic GAP: the LNS solves the LP relaxation itself and reports "
        "its bound (rounded up, costs are integers)",
    }
    pairs = int(problem.eligible.sum())
    per_agent = problem.n_tasks / max(problem.n_agents, 1)
    few_per_agent = (
        problem.n_tasks >= limits.highs_beside_rule_from_tasks
        and per_agent < limits.highs_beside_min_tasks_per_agent
    )
    if pairs > limits.highs_beside_lns_pairs:
        why["milp"] = (
            f"classic GAP with {pairs:,} variables > {limits.highs_beside_lns_pairs:,}: "
            "HiGHS rarely improves on the LNS at this size and would take a core from it"
        )
    elif few_per_agent:
        why["milp"] = (
            f"classic GAP with {per_agent:.3g} tasks per agent < "
            f"{limits.highs_beside_min_tasks_per_agent:g}: the LP is loose there, HiGHS "
            "rarely proves what the LNS's knapsack search does not prove sooner, and "
            "its core serves the LNS better"
        )
    for name, reason in why.items():
        if name in run:
            run.remove(name)
            skipped[name] = reason
