"""Workflow makespan-cost fronts: `nsga2` on workflows against HEFT and a weighted-sum sweep.

Instances are the layered DAGs of `bench.workflow` with prices: an agent's cost per
second is its speed squared, so a fast agent costs more per unit of work and the
makespan and the cost pull apart. The objectives are Pareto (makespan, cost).

Compared, per instance:
- HEFT's single point (`bench.workflow.plain_heft`, written out in the bench);
- a weighted-sum sweep of the list scheduler: HEFT's order, each task on the agent
  minimising finish + w x cost, for `SWEEP` weights w (seconds per cost unit, spread
  geometrically around the instance's mean duration over mean cost) and the cheapest
  agent (w -> infinity);
- the `nsga2` solver at the time limit (it hands workflows to the schedule-decoding GA),
  and the same solver stopped at generation 0 (its seeds, among them seven weighted-sum
  list schedules, and their mutants): the difference is what the search adds.
Every plan is checked by `evaluate_plan` with its own start times. Hypervolumes are
normalised by the ideal and nadir of the three sets' merged non-dominated points, so
the three figures of an instance compare (larger is better; 1 would be the ideal point).

`python -m bench.workflow --pareto [--time-limit 10] [--short]`
"""

from __future__ import annotations

import re
import statistics
import time

import numpy as np

from bench.workflow import plain_heft
from models import CompiledProblem, Problem, compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions
from solvers.registry import get_solver
from solvers.shared.pareto import non_dominated, normalised_hypervolume
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import priority_order, upward_ranks
from solvers.workflow.pareto_seeds import cheap_list_schedule
from solvers.workflow.rules import PlacementRules

__all__ = ["priced_workflow", "run_pareto"]

NAMES = ("makespan", "cost")
SIZES = ((50, 4), (100, 8), (200, 8), (300, 16))
SHORT_SIZES = ((50, 4), (100, 8), (300, 16))
CCRS = (1.0, 5.0)
SWEEP = tuple(float(x) for x in np.geomspace(0.01, 100.0, 15))


def priced_workflow(n: int, m: int, ccr: float, seed: int) -> Problem:
    """A layered workflow with cost per second = speed squared, Pareto (makespan, cost)."""
    doc = generate_workflow_problem(n, m, ccr, seed).model_dump()
    for agent in doc["agents"]:
        agent["cost_rate"] = agent["speed"] ** 2
    doc["objectives"] = {"mode": "pareto", "pareto": list(NAMES)}
    doc["name"] = f"{doc['name']}-priced"
    return Problem.model_validate(doc)


def _point(problem: CompiledProblem, agent: np.ndarray, start: np.ndarray) -> list[float]:
    ev = evaluate_plan(problem, agent, start)
    assert ev.feasible, ev.violations[:2]
    return [ev.objectives[n] for n in NAMES]


def _sweep(problem: CompiledProblem) -> tuple[list[list[float]], float]:
    """Points of the weighted-sum list scheduler over SWEEP and the cheapest end; seconds."""
    began = time.perf_counter()
    graph = build_graph(problem)
    order = priority_order(graph, upward_ranks(graph, PlacementRules(problem)))
    scale = float(problem.duration.mean() / max(problem.cost.mean(), 1e-12))
    points = []
    for weight in [*(scale * w for w in SWEEP), None]:
        schedule = cheap_list_schedule(problem, graph, order, weight)
        if schedule is not None:
            agent, start = np.array(schedule.agent), np.array(schedule.start)
            points.append(_point(problem, agent, start))
    return points, time.perf_counter() - began


def _decode_rate(notes: list[str]) -> float:
    match = re.search(r"\((\d+) per second of that work\)", notes[0]) if notes else None
    return float(match.group(1)) if match else float("nan")


def run_pareto(n: int, m: int, ccr: float, seed: int, time_limit: float) -> dict[str, float]:
    """Hypervolumes of HEFT, the sweep and the GA on one priced instance."""
    problem = compile_problem(priced_workflow(n, m, ccr, seed))
    h_agent, h_start, _ = plain_heft(problem)
    heft = [_point(problem, h_agent, h_start)]
    sweep, sweep_s = _sweep(problem)
    began = time.perf_counter()
    options = SolveOptions(time_limit_s=time_limit, seed=seed)
    result = get_solver("nsga2").solve(problem, options)
    wall = time.perf_counter() - began
    ga = [_point(problem, a, s) for a, s in zip(result.front, result.front_start, strict=True)]
    assert ga, result.notes
    # Generation 0 (the seeds and their mutants): what the search itself adds.
    start_options = SolveOptions(time_limit_s=time_limit, seed=seed, generations=0)
    zero = get_solver("nsga2").solve(problem, start_options)
    gen0 = [_point(problem, a, s) for a, s in zip(zero.front, zero.front_start, strict=True)]
    merged = np.array(heft + sweep + ga + gen0)
    top = merged[non_dominated(merged)]
    ideal, nadir = top.min(axis=0), top.max(axis=0)

    def hv(points: list[list[float]]) -> float:
        return normalised_hypervolume(np.array(points), ideal, nadir)

    ga_arr = np.array(ga)
    h = np.array(heft[0])
    # HEFT dominates the front when no member is better somewhere or equal to it.
    spared = np.any(ga_arr < h - 1e-9, axis=1) | np.all(np.isclose(ga_arr, h), axis=1)
    heft_dominates_all = not bool(spared.any())
    return {
        "n": n,
        "m": m,
        "ccr": ccr,
        "hv_heft": hv(heft),
        "hv_sweep": hv(sweep),
        "hv_ga": hv(ga),
        "hv_gen0": hv(gen0),
        "ga_points": len(ga),
        "sweep_points": len(non_dominated(np.array(sweep))),
        "ga_share_of_merged": float(np.mean([any(np.allclose(t, g) for g in ga) for t in top])),
        "heft_dominates_front": heft_dominates_all,
        "decodes_per_s": _decode_rate(result.notes),
        "sweep_s": sweep_s,
        "wall_s": wall,
    }


def main(time_limit: float, short: bool) -> None:
    sizes = SHORT_SIZES if short else SIZES
    print(
        f"{'tasks':>5} {'agents':>6} {'CCR':>4} {'HV HEFT':>8} {'HV sweep':>8} {'HV gen0':>7} "
        f"{'HV GA':>7} "
        f"{'GA pts':>6} {'GA share':>8} {'dec/s':>7} {'sweep s':>7} {'wall s':>6}"
    )
    rows = []
    for n, m in sizes:
        for ccr in CCRS:
            row = run_pareto(n, m, ccr, 0, time_limit)
            rows.append(row)
            print(
                f"{n:>5} {m:>6} {ccr:>4g} {row['hv_heft']:>8.3f} {row['hv_sweep']:>8.3f} "
                f"{row['hv_gen0']:>7.3f} {row['hv_ga']:>7.3f} {row['ga_points']:>6} "
                f"{row['ga_share_of_merged']:>8.2f} "
                f"{row['decodes_per_s']:>7.0f} {row['sweep_s']:>7.2f} {row['wall_s']:>6.1f}",
                flush=True,
            )
    print(f"instances {len(rows)}, time limit {time_limit:g} s each")
    for key in ("hv_heft", "hv_sweep", "hv_gen0", "hv_ga"):
        print(f"mean {key}: {statistics.mean(r[key] for r in rows):.3f}")
    better = sum(r["hv_ga"] > r["hv_sweep"] + 1e-9 for r in rows)
    print(f"GA hypervolume above the sweep's on {better} of {len(rows)}")
    print(f"HEFT dominates the whole GA front on {sum(r['heft_dominates_front'] for r in rows)}")
