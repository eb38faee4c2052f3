"""NSGA-II benchmark: our numpy NSGA-II (DEAP's selection rule) against pymoo's, side by side.

Same generated problem (200 tasks x 20 agents, 2 resource dimensions; objectives
cost and imbalance), population 100, 20,000 evaluations, 5 repeats; prints median
wall time and hypervolume under one normalisation (ideal and nadir over every
front both solvers found). `python -m bench.nsga2 [--repeats 5]`
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from models import CompiledProblem, Objectives, compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.base import SolveOptions
from solvers.nsga2.population_eval import PopulationEvaluator
from solvers.nsga2.solver import Nsga2Solver
from solvers.shared.pareto import non_dominated, normalised_hypervolume

OBJECTIVES = ("cost", "imbalance")
POPULATION = 100
EVALUATIONS = 20_000


def bench_problem() -> CompiledProblem:
    problem = generate_attribute_problem(
        200,
        20,
        seed=7,
        n_dims=2,
        objectives=Objectives(mode="pareto", pareto=["cost", "imbalance"]),
    )
    return compile_problem(problem)


def run_ours(problem: CompiledProblem, seed: int) -> tuple[float, np.ndarray]:
    # The initial population counts: 100 + 199 * 100 offspring = 20,000 evaluations.
    generations = EVALUATIONS // POPULATION - 1
    options = SolveOptions(
        time_limit_s=60.0, seed=seed, generations=generations, population=POPULATION
    )
    start = time.perf_counter()
    result = Nsga2Solver().solve(problem, options)
    elapsed = time.perf_counter() - start
    values, _ = PopulationEvaluator(problem, OBJECTIVES).evaluate(np.stack(result.front))
    return elapsed, values


def run_pymoo(problem: CompiledProblem, seed: int) -> tuple[float, np.ndarray] | None:
    try:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.repair.rounding import RoundingRepair
        from pymoo.operators.sampling.rnd import IntegerRandomSampling
        from pymoo.optimize import minimize
    except ImportError:
        return None
    evaluator = PopulationEvaluator(problem, OBJECTIVES)

    class Allocation(Problem):
        def __init__(self) -> None:
            super().__init__(
                n_var=problem.n_tasks,
                n_obj=2,
                n_ieq_constr=1,
                xl=0,
                xu=problem.n_agents - 1,
                vtype=int,
            )

        def _evaluate(self, x: np.ndarray, out: dict, *args: object, **kwargs: object) -> None:
            values, violation = evaluator.evaluate(np.asarray(x, dtype=np.int64))
            out["F"] = values
            out["G"] = violation[:, None]

    algorithm = NSGA2(
        pop_size=POPULATION,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    start = time.perf_counter()
    res = minimize(Allocation(), algorithm, ("n_eval", EVALUATIONS), seed=seed, verbose=False)
    elapsed = time.perf_counter() - start
    if res.F is None:
        return elapsed, np.zeros((0, 2))
    values = np.atleast_2d(res.F)
    return elapsed, values[non_dominated(values)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    problem = bench_problem()
    ours = [run_ours(problem, seed) for seed in range(args.repeats)]
    theirs_raw = [run_pymoo(problem, seed) for seed in range(args.repeats)]
    theirs = [r for r in theirs_raw if r is not None]
    fronts = [v for _, v in ours + theirs if len(v)]
    union = np.concatenate(fronts)
    ideal, nadir = union.min(axis=0), union.max(axis=0)

    def summary(runs: list[tuple[float, np.ndarray]]) -> tuple[float, float]:
        times = [t for t, _ in runs]
        hvs = [normalised_hypervolume(v, ideal, nadir) if len(v) else 0.0 for _, v in runs]
        return statistics.median(times), statistics.median(hvs)

    def spread(runs: list[tuple[float, np.ndarray]]) -> str:
        times = [t for t, _ in runs]
        return f"(runs {min(times):.3f}-{max(times):.3f} s)"

    print(
        f"problem: {problem.n_tasks} tasks x {problem.n_agents} agents, objectives "
        f"{', '.join(OBJECTIVES)}; population {POPULATION}, {EVALUATIONS} evaluations, "
        f"median of {args.repeats}"
    )
    print(
        f"normalisation: ideal {np.round(ideal, 3).tolist()}, nadir {np.round(nadir, 3).tolist()}"
        " (over all fronts found), reference 1.1"
    )
    t_ours, hv_ours = summary(ours)
    # The machine is shared: the load says how far to trust absolute times.
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min) at the end: {load}")
    print(
        f"ours  (numpy NSGA-II)        : {t_ours:.3f} s  hypervolume {hv_ours:.3f} {spread(ours)}"
    )
    if not theirs:
        print("pymoo: not installed, skipped (pip install '.[bench]' to compare)")
        return
    t_pymoo, hv_pymoo = summary(theirs)
    print(
        f"pymoo NSGA2                  : {t_pymoo:.3f} s  hypervolume {hv_pymoo:.3f} "
        f"{spread(theirs)}"
    )
    print(
        f"ratio ours/pymoo: time {t_ours / t_pymoo:.2f}x, hypervolume "
        f"{hv_ours / hv_pymoo if hv_pymoo else float('inf'):.2f}x"
    )


if __name__ == "__main__":
    main()
