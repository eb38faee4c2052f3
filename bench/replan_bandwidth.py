"""Re-planning within link bandwidth and a move budget (issue 15), on tiny brute-forced cases.

The first seeds of `generate_tiny_networked_problem` whose cheapest plan overloads a
link; that plan is the previous plan. For each move budget, brute force says whether
some plan moving at most that many tasks breaks no rule (and its best score); the
re-plan (1 s) runs from the previous plan. Printed per budget: cases, cases where a
fitting plan exists within the budget, re-plans that are feasible (the evaluator's
word), of those at the brute-force best score, and the largest moves used.

`python -m bench.replan_bandwidth --seeds 60`
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from models import CompiledProblem, compile_problem, evaluate_plan
from models.generators.tiny_networked import (
    brute_force_within_bandwidth,
    generate_tiny_networked_problem,
)
from solvers.replan.search import replan_assignment


def _best_by_moves(compiled: CompiledProblem, previous: np.ndarray) -> dict[int, float]:
    """For each number of tasks moved, the best score of a plan breaking no rule."""
    best: dict[int, float] = {}
    for plan in itertools.product(range(compiled.n_agents), repeat=compiled.n_tasks):
        a = np.array(plan)
        ev = evaluate_plan(compiled, a)
        if ev.feasible:
            k = int((a != previous).sum())
            best[k] = min(best.get(k, np.inf), ev.score)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60, help="seeds tried (0..N-1)")
    parser.add_argument("--budgets", type=int, nargs="+", default=[1, 2, 5])
    parser.add_argument("--time-limit", type=float, default=1.0)
    args = parser.parse_args()
    rows = {b: [0, 0, 0, 0, 0] for b in args.budgets}
    for seed in range(args.seeds):
        compiled = compile_problem(generate_tiny_networked_problem(seed))
        truth = brute_force_within_bandwidth(compiled)
        if truth.cheapest is None or truth.cheapest_fits:
            continue
        previous = np.asarray(truth.cheapest, dtype=np.int64)
        best = _best_by_moves(compiled, previous)
        for budget in args.budgets:
            within = [score for k, score in best.items() if k <= budget]
            out = replan_assignment(
                compiled, previous, max_moves=budget, time_limit_s=args.time_limit
            )
            row = rows[budget]
            row[0] += 1
            row[1] += bool(within)
            row[2] += out.evaluation.feasible
            if within and out.evaluation.feasible:
                row[3] += out.evaluation.score <= min(within) + 1e-9
            row[4] = max(row[4], len(out.moved_kept))
    print("budget  cases  fit exists  re-plan feasible  at brute-force best  most moves")
    for budget, (cases, exists, feasible, best_hits, most) in rows.items():
        print(f"{budget:>6}  {cases:>5}  {exists:>10}  {feasible:>16}  {best_hits:>19}  {most:>10}")


if __name__ == "__main__":
    main()
