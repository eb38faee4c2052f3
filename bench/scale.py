"""Scale: a 20,000-task x 500-agent attribute-form request through the portfolio.

`python -m bench.scale [--tasks 20000] [--agents 500] [--time-limit 10]` prints the
wall time (generation excluded) and its ratio to the limit (`bench.time_limit` checks
the promise at several sizes), the workers used, the verified objective, the bound and the gap,
which solvers ran or were skipped and why, and the peak memory of this process and
its solver processes.
"""

from __future__ import annotations

import argparse
import resource
import time

from allocator.facade import solve
from models import RunOptions
from models.generators.instances import generate_attribute_problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    problem = generate_attribute_problem(args.tasks, args.agents, seed=args.seed)
    generated = time.perf_counter() - t0
    start = time.perf_counter()
    options = RunOptions(time_limit_s=args.time_limit)  # workers: every core we may use
    report = solve(problem, options)
    wall = time.perf_counter() - start
    self_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.tasks} tasks x {args.agents} agents (generated in {generated:.1f} s)")
    print(
        f"status {report.status}; wall time {wall:.2f} s (limit {args.time_limit:g} s, "
        f"ratio {wall / args.time_limit:.3f}); {options.workers} workers"
    )
    if report.chosen is not None:
        best = report.chosen.objective
        gap = None if report.best_bound is None else (best - report.best_bound) / abs(best)
        gap_text = "-" if gap is None else f"{100 * gap:.2f}%"
        print(
            f"chosen {report.chosen.solver}: objective {best:.6g}, "
            f"bound {report.best_bound}, gap {gap_text}"
        )
    for run in report.solvers:
        why = run.notes[0] if run.notes else ""
        print(f"  {run.name:9} {run.status:12} verified={run.verified} {why[:90]}")
    print(f"peak RSS: parent {self_mib:.0f} MiB, largest solver process {child_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
