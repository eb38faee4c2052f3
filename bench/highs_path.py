"""Does the `milp` solver's HiGHS follow a plain highspy model's path? (issue 12)

For each GAP instance, runs HiGHS on the plain model `bench.gap.plain_highs` writes
(columns agent by agent, "each task once" rows, then capacity rows) and on the `milp`
solver's array model, with the same time limit and threads, and prints the objective
of every improving solution each found, in order. The same sequence means the same
search path: the portfolio's HiGHS can then only be behind the plain model by time.
`python -m bench.highs_path [--time-limit 10] [--threads 2] NAME...` (../shared data).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from bench.gap import SHARED, instance_paths, plain_highs_model
from models import compile_problem, gap_to_problem, read_gap_file
from models.gap_reader import GapInstance
from solvers.milp.backends import BackendSettings
from solvers.milp.highs import run_highs
from solvers.milp.model import build_model
from solvers.milp.stages import objective_names, stage_objective


def plain_path(inst: GapInstance, limit: float, threads: int) -> list[float]:
    """Improving objectives of the plain model (bench.gap's, the same build)."""
    h = plain_highs_model(inst, limit, threads)
    found: list[float] = []

    def improved(event: Any) -> None:
        found.append(float(event.data_out.objective_function_value))

    h.cbMipImprovingSolution.subscribe(improved)
    h.run()
    return found


def milp_path(inst: GapInstance, limit: float, threads: int) -> list[float]:
    """Improving objectives of the `milp` solver's model through its HiGHS runner."""
    problem = compile_problem(gap_to_problem(inst))
    names = objective_names(problem)
    model = build_model(problem, names)
    objective, constant = stage_objective(model, problem, names)
    found: list[float] = []

    def improved(values: np.ndarray) -> None:
        found.append(float(objective @ values) + constant)

    run_highs(model, objective, BackendSettings(limit, 1e-4, threads, 0), hook=improved)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if not SHARED.exists():
        print(f"skipped: {SHARED} is absent (benchmark data is not part of the repo)")
        return 0
    paths = {p.name: p for kind in "CDE" for p in instance_paths(kind)}
    for name in args.names:
        inst = read_gap_file(paths[name])[0]
        began = time.perf_counter()
        plain = plain_path(inst, args.time_limit, args.threads)
        ours = milp_path(inst, args.time_limit, args.threads)
        shared = min(len(plain), len(ours))
        # Objectives are sums of float products: equal up to rounding.
        same = bool(np.allclose(plain[:shared], ours[:shared], rtol=1e-9, atol=1e-6))
        print(f"{name}: plain {[round(v, 6) for v in plain]}")
        print(f"{name}: milp  {[round(v, 6) for v in ours]}")
        print(
            f"{name}: {'same path' if same else 'different paths'} over the first {shared} "
            f"improvements ({time.perf_counter() - began:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
