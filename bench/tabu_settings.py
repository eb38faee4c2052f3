"""Settings of the LNS's penalty tabu kernel compared on CPU time, apart from the portfolio.

`python -m bench.tabu_settings [--burst-s 0.05] [--cpu-s 2] [--seeds 3] [--only ...]
[--variant 'name={"CHAINS": 0}' ...]`: for each GAP instance (../shared/bench)
and seed, each variant (constants of `solvers.lns.tabu` set while its search is built)
runs from the same start plan for `--cpu-s` seconds of this process's CPU time
(`time.process_time`, so the machine's load does not change what a run gets), either
as one walk (`--burst-s 0`) or, as the LNS runs it, in bursts of `--burst-s` from the
best plan so far with the weights and tabu memory kept. The start plan: the best
feasible plan of a fixed 20,000-step walk with the module's settings from every task on
its cheapest agent (same for every variant). By default: the kernel as configured
against the same without two-step ejection chains. Prints each run and the mean gap to
best-known per variant; variants alternate their order by seed.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench.gap import best_known, instance_paths
from models import CompiledProblem, compile_problem, evaluate_plan, gap_to_problem, read_gap_file
from solvers.bounds.lagrangian import pair_costs
from solvers.lns import tabu
from solvers.lns.tabu_kernel import rounds

SIX = ["d10100", "d20100", "d20200", "d40400", "e20100", "e40400"]
START_STEPS = 20_000


def load(name: str) -> tuple[CompiledProblem, np.ndarray]:
    path = next(p for p in instance_paths(name[0].upper()) if p.name == name)
    problem = compile_problem(gap_to_problem(read_gap_file(path)[0]))
    return problem, pair_costs(problem)[0]


def search(
    problem: CompiledProblem, cost: np.ndarray, seed: int, consts: dict[str, object]
) -> tabu.PenaltyTabu:
    saved = {k: getattr(tabu, k) for k in consts}
    for k, v in consts.items():
        setattr(tabu, k, v)
    try:
        return tabu.PenaltyTabu(problem, cost, seed)
    finally:
        for k, v in saved.items():
            setattr(tabu, k, v)


def walk(s: tabu.PenaltyTabu, plan: np.ndarray, best: np.ndarray, best_cost: np.ndarray,
         steps: int | None = None, cpu_s: float = 0.0) -> None:  # fmt: skip
    """Steps of `s`'s kernel from `plan`: `steps` of them, or for `cpu_s` CPU seconds."""
    began = time.process_time()
    while (steps is not None and s.steps < steps) or (
        steps is None and time.process_time() - began < cpu_s
    ):
        rounds(plan, s.cost, s.usage, s.capacity, s.max_tasks, s.cand, s.n_cand, s.alpha,
                 s.tabu, s.first_step + s.steps, 10, s.params, best, best_cost)  # fmt: skip
        s.steps += 10


def start_plan(problem: CompiledProblem, cost: np.ndarray) -> np.ndarray:
    s = search(problem, cost, 99, {})
    plan = np.where(np.isfinite(cost), cost, np.inf).argmin(axis=0).astype(np.int64)
    best, best_cost = plan.copy(), np.array([np.inf])
    walk(s, plan, best, best_cost, steps=START_STEPS)
    return best


def run(
    problem: CompiledProblem,
    cost: np.ndarray,
    start: np.ndarray,
    seed: int,
    consts: dict[str, object],
    cpu_s: float,
    burst_s: float,
) -> tuple[float, int]:
    """(cost of the best feasible plan found, steps taken)."""
    s = search(problem, cost, seed, consts)
    incumbent = start.copy()
    score = np.array([evaluate_plan(problem, start.astype(np.int32)).score])
    rounds(start.copy(), s.cost, s.usage, s.capacity, s.max_tasks, s.cand, s.n_cand,
             s.alpha.copy(), s.tabu.copy(), 1, 1, s.params, start.copy(), score.copy())  # fmt: skip
    began = time.process_time()
    if burst_s <= 0:
        walk(s, start.copy(), incumbent, score, cpu_s=cpu_s)
    while burst_s > 0 and time.process_time() - began < cpu_s:
        walk(s, incumbent.copy(), incumbent, score, cpu_s=burst_s)
    assert evaluate_plan(problem, incumbent.astype(np.int32)).feasible
    return float(score[0]), s.steps


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", default=SIX)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--cpu-s", type=float, default=2.0)
    ap.add_argument("--burst-s", type=float, default=0.05)
    ap.add_argument("--variant", action="append", default=None,
                    help='name=JSON of solvers.lns.tabu constants')  # fmt: skip
    args = ap.parse_args(argv)
    variants = [
        (v.split("=", 1)[0], json.loads(v.split("=", 1)[1]))
        for v in (args.variant or ["chains={}", 'no_chains={"CHAINS": 0}'])
    ]
    tabu.preload()
    known = best_known()
    gaps: dict[str, dict[str, list[float]]] = {name: {} for name, _ in variants}
    for inst in args.only:
        problem, cost = load(inst)
        start = start_plan(problem, cost)
        for seed in range(args.seeds):
            for name, consts in variants if seed % 2 == 0 else variants[::-1]:
                found, steps = run(problem, cost, start, seed, consts, args.cpu_s, args.burst_s)
                gap = 100 * (found - known[inst]) / known[inst]
                gaps[name].setdefault(inst, []).append(gap)
                print(f"{inst} seed {seed} {name:10} gap {gap:.3f} % steps {steps}", flush=True)
    for name, per in gaps.items():
        means = {inst: float(np.mean(g)) for inst, g in per.items()}
        print(f"MEAN {name:10} {np.mean(list(means.values())):.3f} %  "
              + " ".join(f"{i} {m:.3f}" for i, m in means.items()))  # fmt: skip


if __name__ == "__main__":
    main()
