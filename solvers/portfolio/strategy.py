"""Decide per request which solvers are worth starting, and say why one is skipped.

Thresholds come from measurements on this 2-core machine (see BENCHMARKS.md): at
1M variables CP-SAT found no plan in 60 s and HiGHS's LP alone took 15 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import CompiledProblem

__all__ = ["SolverChoice", "choose_solvers"]

# Eligible (agent, task) pairs above which a method is not started by default.
CPSAT_MAX_PAIRS = 200_000
MILP_MAX_PAIRS = 200_000
LNS_MAX_PAIRS = 2_000_000
LP_MAX_PAIRS = 300_000
NSGA2_MAX_TASKS = 5_000
#: Classic GAPs up to this many pairs run HiGHS beside the LNS (one core each).
HIGHS_BESIDE_LNS_PAIRS = 20_000


@dataclass(frozen=True)
class SolverChoice:
    """Solvers to run, and the ones skipped with their reason."""

    run: list[str]
    skipped: dict[str, str]


def choose_solvers(
    problem: CompiledProblem, requested: list[str] | None, available: list[str]
) -> SolverChoice:
    """Pick by size and mode when `requested` is None; otherwise honour the request."""
    skipped: dict[str, str] = {}
    if requested is not None:
        run = []
        for name in requested:
            if name in available:
                run.append(name)
            else:
                skipped[name] = "backend not available on this machine"
        return SolverChoice(run=run, skipped=skipped)

    pairs = int(problem.eligible.sum())
    mode = problem.objectives.mode
    multi = mode == "pareto" or len(problem.objectives.active) > 1
    run = ["greedy"]
    if pairs <= CPSAT_MAX_PAIRS:
        run.append("cpsat")
    else:
        skipped["cpsat"] = (
            f"{pairs:,} variables > {CPSAT_MAX_PAIRS:,}: CP-SAT rarely finds a first "
            "plan in the budget at this size; the heuristic and LNS carry it"
        )
    if pairs <= MILP_MAX_PAIRS and mode != "pareto":
        run.append("milp")
    elif mode == "pareto":
        skipped["milp"] = "Pareto mode: CP-SAT's epsilon-constraint and NSGA-II give the front"
    else:
        skipped["milp"] = f"{pairs:,} variables > {MILP_MAX_PAIRS:,}: HiGHS's MIP is too slow"
    if mode != "pareto" and pairs <= LNS_MAX_PAIRS:
        run.append("lns")
    elif mode != "pareto":
        skipped["lns"] = f"{pairs:,} variables > {LNS_MAX_PAIRS:,}"
    if multi and problem.n_tasks <= NSGA2_MAX_TASKS:
        run.append("nsga2")
    elif not multi:
        skipped["nsga2"] = "single objective: the exact solvers and LNS serve it better"
    else:
        skipped["nsga2"] = f"{problem.n_tasks:,} tasks > {NSGA2_MAX_TASKS:,}"
    if mode == "weighted" and pairs <= LP_MAX_PAIRS:
        run.append("lp_bound")
    elif mode == "weighted":
        skipped["lp_bound"] = (
            f"{pairs:,} variables > {LP_MAX_PAIRS:,}: the Lagrangian bound is used instead"
        )
    if problem.is_pure_gap() and "lns" in run and "lns" in available:
        _lns_covers_pure_gap(run, skipped, pairs)
    for name in list(run):
        if name not in available:
            run.remove(name)
            skipped[name] = "backend not available on this machine"
    return SolverChoice(run=run, skipped=skipped)


def _lns_covers_pure_gap(run: list[str], skipped: dict[str, str], pairs: int) -> None:
    """On a classic GAP the LNS (CP-SAT on neighbourhoods, LP bound inside) gets the cores.

    On 2 cores, whole-model CP-SAT and HiGHS beside it left each process a fraction of
    a core and starved the LNS's sub-solves (issue 2; figures in BENCHMARKS.md). HiGHS
    stays beside it on smaller GAPs, where it proved C instances optimal in 1-5 s that
    the LNS only approached. `compare` names every solver and still runs them.
    """
    why = {
        "cpsat": "classic GAP: the LNS runs CP-SAT on neighbourhoods of the incumbent "
        "and gets the cores; whole-model CP-SAT beside it would starve it",
        "lp_bound": "classic GAP: the LNS solves the LP relaxation itself and reports "
        "its bound (rounded up, costs are integers)",
    }
    if pairs > HIGHS_BESIDE_LNS_PAIRS:
        why["milp"] = (
            f"classic GAP with {pairs:,} variables > {HIGHS_BESIDE_LNS_PAIRS:,}: HiGHS "
            "rarely improves on the LNS at this size and would take a core from it"
        )
    for name, reason in why.items():
        if name in run:
            run.remove(name)
            skipped[name] = reason
