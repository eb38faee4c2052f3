"""Batch comparison on a 2-worker Dask LocalCluster vs one local worker: time and objectives.

40 generated GAP instances (type C), solvers greedy + MILP (HiGHS) on one core each
with a fixed seed: greedy is deterministic and the MILP proves these optimal, so the
verified objectives must match between the two runs. Prints both wall times.
`python -m bench.dask_batch [--instances 40 --agents 6 --tasks 30 --time-limit 5]`
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from allocator.executors import LocalExecutor, SolveExecutor
from allocator.executors.batch import run_batch_on
from allocator.reports.batch import BatchReport
from models import RunOptions, gap_to_problem
from models.generators.gap import generate_gap


def _write_instances(folder: Path, n: int, agents: int, tasks: int) -> None:
    for seed in range(n):
        problem = gap_to_problem(generate_gap("c", agents, tasks, seed=seed))
        (folder / f"c{agents}x{tasks}-{seed:02d}.json").write_text(
            problem.model_dump_json(exclude_defaults=True)
        )


def _timed(executor: SolveExecutor, folder: Path, options: RunOptions) -> tuple[float, BatchReport]:
    started = time.perf_counter()
    batch = run_batch_on(executor, folder, options)
    return time.perf_counter() - started, batch


def _objectives(batch: BatchReport) -> dict[tuple[str, str], tuple[float | None, str]]:
    return {
        (i.instance, o.solver): (o.objective, o.status) for i in batch.instances for o in i.outcomes
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=40)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    from allocator.executors.dask_executor import DaskExecutor

    options = RunOptions(
        solvers=["greedy", "milp"], time_limit_s=args.time_limit, seed=7, workers=1
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_instances(folder, args.instances, args.agents, args.tasks)
        local = LocalExecutor(1)
        try:
            local_s, local_batch = _timed(local, folder, options)
        finally:
            local.close()
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            dask_s, dask_batch = _timed(DaskExecutor(client=client), folder, options)
    expected, got = _objectives(local_batch), _objectives(dask_batch)
    compared = mismatched = 0
    for key, (objective, status) in got.items():
        if key[1] == "greedy" or status == expected[key][1] == "optimal":
            compared += 1
            mismatched += objective != expected[key][0]
    print(f"{args.instances} instances ({args.agents} agents x {args.tasks} tasks), greedy + milp")
    print(f"one local worker:          {local_s:7.2f} s")
    print(f"2-worker Dask LocalCluster: {dask_s:7.2f} s  (speed-up {local_s / dask_s:.2f}x)")
    errors = [i.error for b in (local_batch, dask_batch) for i in b.instances if i.error]
    print(
        f"objectives compared: {compared} (greedy + proven optima), mismatches: {mismatched}, "
        f"errors: {len(errors)}"
    )
    print("objectives match" if mismatched == 0 and not errors else "OBJECTIVES DIFFER")
    sys.exit(0 if mismatched == 0 and not errors and dask_s < local_s else 1)


if __name__ == "__main__":
    main()
