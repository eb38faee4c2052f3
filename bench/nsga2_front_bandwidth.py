"""The allocation NSGA-II's front on networked problems with tight links (issue 15).

The engine searches without the network, so front members may overload a link. For the
same raw front (fixed generations, so the same on every run) this prints what the report
keeps when such members are dropped (before) and when they are repaired first (after,
`report_front.verified_front`): verified members, points of the non-dominated front,
and both fronts' hypervolume under one normalisation (ideal and nadir of their union),
so the two compare; plus the repairs' seconds and the busiest link of any kept member.

`python -m bench.nsga2_front_bandwidth --bandwidth 6 10 15 --seeds 0 1 2 3`
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from models import CompiledProblem, compile_problem, evaluate_plan
from models.generators.networked import generate_networked_problem, with_bandwidth
from models.schema import Objectives
from solvers.base import SolveOptions, SolveResult
from solvers.portfolio.plan_choice import Candidate
from solvers.portfolio.report_front import verified_front
from solvers.registry import get_solver
from solvers.shared.pareto import non_dominated, normalised_hypervolume

_OBJECTIVES = ("cost", "communication")


def _as_is(compiled: CompiledProblem, result: SolveResult) -> list[Candidate]:
    """The members that fit without repair: what the report kept before."""
    out = []
    for member in result.front:
        ev = evaluate_plan(compiled, member)
        if ev.feasible:
            out.append(Candidate("nsga2", np.asarray(member), ev))
    return out


def _front(cands: list[Candidate]) -> np.ndarray:
    points = np.array([[c.evaluation.objectives[n] for n in _OBJECTIVES] for c in cands])
    return points[non_dominated(points)] if len(points) else np.zeros((0, len(_OBJECTIVES)))


def run(n_tasks: int, bandwidth: float, seed: int) -> str:
    problem = generate_networked_problem(n_tasks, 8, 5, seed)
    pareto = Objectives(mode="pareto", pareto=["cost", "communication"])
    compiled = compile_problem(
        with_bandwidth(problem.model_copy(update={"objectives": pareto}), bandwidth)
    )
    options = SolveOptions(time_limit_s=60.0, seed=0, generations=60, population=40)
    result = get_solver("nsga2").solve(replace(compiled, network=None), options)
    before = _as_is(compiled, result)
    clock = time.perf_counter()
    after = verified_front(compiled, "nsga2", result)
    repair_s = time.perf_counter() - clock
    fb, fa = _front(before), _front(after)
    both = np.concatenate([fb, fa])
    lo, hi = both.min(axis=0), both.max(axis=0)
    busiest = max(
        (c.evaluation.link_use.max_utilisation for c in after if c.evaluation.link_use),
        default=0.0,
    )
    return (
        f"bw={bandwidth:g} seed={seed} raw={len(result.front)} verified {len(before)}->"
        f"{len(after)} front {len(fb)}->{len(fa)} hv(common) "
        f"{normalised_hypervolume(fb, lo, hi):.3f}->{normalised_hypervolume(fa, lo, hi):.3f} "
        f"repair_s={repair_s:.2f} busiest_link={busiest:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--bandwidth", type=float, nargs="+", default=[6.0, 10.0, 15.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    args = parser.parse_args()
    for bandwidth in args.bandwidth:
        for seed in args.seeds:
            print(run(args.tasks, bandwidth, seed), flush=True)


if __name__ == "__main__":
    main()
