"""Scale: a 20,000-task x 500-agent attribute-form request through the portfolio.

`python -m bench.scale [--size 20k|100k] [--tasks N] [--agents M] [--time-limit S]
[--solvers greedy ...]`
prints the wall time (generation excluded) and its ratio to the limit (`bench.time_limit`
checks the promise at several sizes), the workers used, the verified objective, the
bound, how it was obtained (method, steps, time) and the gap, which solvers ran (when each
started, how long it ran; lp_guided's phases in wall and CPU seconds) or were skipped and
why, and the peak memory of this process and its solver processes.
`--size 20k` is 20,000 x 500 in 10 s (issue 12: gap at most 2%), `--size 100k` is
100,000 x 2,000 in 60 s (a verified plan under 8 GiB, gap stated); --tasks, --agents
and --time-limit override the preset. --solvers names the solvers (default: the
portfolio's choice); `--solvers greedy` is the schedule before lp_guided (the greedy
and the background Lagrangian bound), a baseline for the same run.
"""

from __future__ import annotations

import argparse
import resource
import time

from allocator.facade import solve
from models import RunOptions
from models.generators.instances import generate_attribute_problem

#: Named sizes: (tasks, agents, time limit in seconds).
_SIZES = {"20k": (20_000, 500, 10.0), "100k": (100_000, 2_000, 60.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(_SIZES), default="20k")
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--agents", type=int, default=None)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--solvers", nargs="+", default=None, help="default: automatic")
    args = parser.parse_args(argv)
    preset = _SIZES[args.size]
    args.tasks = preset[0] if args.tasks is None else args.tasks
    args.agents = preset[1] if args.agents is None else args.agents
    args.time_limit = preset[2] if args.time_limit is None else args.time_limit
    t0 = time.perf_counter()
    problem = generate_attribute_problem(args.tasks, args.agents, seed=args.seed)
    generated = time.perf_counter() - t0
    start = time.perf_counter()
    # workers: every core we may use
    options = RunOptions(time_limit_s=args.time_limit, solvers=args.solvers)
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
    print(f"bound by {report.best_bound_by}: {report.best_bound_method or '-'}")
    for run in report.solvers:
        why = run.notes[0] if run.notes else ""
        ran = (
            ""
            if run.started_at_s is None
            else f"started {run.started_at_s:.2f} s, ran {run.wall_time_s:.2f} s; "
        )
        print(f"  {run.name:9} {run.status:12} verified={run.verified} {ran}{why[:70]}")
        phases = [note for note in run.notes if note.startswith("set-up ")]
        if phases:  # lp_guided's own account of where its time went
            print(f"  {'':9} {phases[0]}")
    print(f"peak RSS: parent {self_mib:.0f} MiB, largest solver process {child_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
