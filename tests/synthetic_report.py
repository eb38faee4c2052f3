"""Seeded, realistic-looking comparison reports for tests, benchmarks and page demos.

They exercise every part of the HTML page without running a solver.
"""

from __future__ import annotations

import numpy as np

from models import Plan
from models.report import (
    AgentLoad,
    ChosenPlan,
    ComparisonReport,
    ParetoPoint,
    ProblemSummary,
    RunSettings,
    SolverRun,
)

__all__ = ["synthetic_report"]

_OBJECTIVES = ("cost", "makespan", "imbalance", "tardiness")


def _trace(
    rng: np.random.Generator, start_s: float, end_s: float, first: float, best: float, n: int
) -> list[tuple[float, float]]:
    """Improvements that shrink geometrically from `first` towards `best`."""
    times = np.sort(rng.uniform(start_s, end_s, n))
    times[0] = start_s
    values = best + (first - best) * np.exp(-np.linspace(0, 6, n))
    return [(round(float(t), 4), round(float(v), 3)) for t, v in zip(times, values, strict=True)]


def synthetic_report(
    n_tasks: int = 200,
    n_agents: int = 12,
    *,
    solvers: tuple[str, ...] = ("greedy", "cpsat", "milp", "nsga2"),
    n_objectives: int = 2,
    n_unassigned: int = 5,
    trace_points: int = 500,
    front_size: int = 40,
    seed: int = 0,
) -> ComparisonReport:
    """A solved report: long traces, a Pareto front (if n_objectives >= 2), loads, unassigned.

    Cost: O(n_tasks + solvers x trace_points + front_size x n_tasks) (front plans are
    included, as the portfolio includes them, so size tests see the worst case).
    """
    rng = np.random.default_rng(seed)
    objectives = list(_OBJECTIVES[: max(1, n_objectives)])
    resources = ["cpu", "memory"]
    limit_s = 10.0
    best = 1000.0 + rng.uniform(0, 100)
    runs = []
    for k, name in enumerate(solvers):
        final = best * (1 + 0.02 * k) if name != "greedy" else best * 1.15
        first_s = 0.002 if name == "greedy" else 0.05 + 0.3 * k
        end_s = 0.01 if name == "greedy" else limit_s * 0.95
        trace = _trace(
            rng, first_s, end_s, final * 1.6, final, 1 if name == "greedy" else trace_points
        )
        runs.append(
            SolverRun(
                name=name,
                status="optimal" if k == 1 else "feasible",
                stop_reason="optimal_proven"
                if k == 1
                else ("finished" if name == "greedy" else "time_limit"),
                objective=final,
                objectives={o: final * (1 + 0.1 * i) for i, o in enumerate(objectives)},
                bound=best * 0.995 if name in ("cpsat", "milp") else None,
                gap=(final - best * 0.995) / final,
                verified=True,
                wall_time_s=end_s,
                time_to_first_s=first_s,
                time_to_best_s=trace[-1][0],
                trace=trace,
                front_size=front_size if name == "nsga2" else 0,
                notes=["seeded from cpsat's best plan"] if name == "nsga2" else [],
            )
        )
    task_ids = [f"task{j:05d}" for j in range(n_tasks)]
    agent_ids = [f"agent{i:03d}" for i in range(n_agents)]
    owner = rng.integers(0, n_agents, n_tasks)
    unassigned = task_ids[:n_unassigned]
    plan = Plan(
        assignments={t: agent_ids[owner[j]] for j, t in enumerate(task_ids) if t not in unassigned},
        unassigned=unassigned,
    )
    capacity = rng.uniform(50, 150, (n_agents, len(resources)))
    usage = capacity * rng.uniform(0.4, 1.02, (n_agents, len(resources)))
    agents = [
        AgentLoad(
            agent=agent_ids[i],
            n_tasks=int((owner == i).sum()),
            load_s=float(rng.uniform(20, 60)),
            utilisation=float((usage[i] / capacity[i]).max()),
            usage={r: float(usage[i, d]) for d, r in enumerate(resources)},
            capacity={r: float(capacity[i, d]) for d, r in enumerate(resources)},
        )
        for i in range(n_agents)
    ]
    reasons = ("no eligible agent has capability 'gpu'", "demand exceeds every agent's free memory")
    front: list[ParetoPoint] = []
    if n_objectives >= 2:
        for q in range(front_size):
            u = q / max(front_size - 1, 1)
            values = {objectives[0]: best * (1 + u), objectives[1]: 500 * (1 - u) ** 2 + 50}
            for extra in objectives[2:]:
                values[extra] = float(rng.uniform(10, 100))
            front.append(
                ParetoPoint(
                    solver=solvers[-1] if q % 3 else solvers[1 % len(solvers)],
                    objectives=values,
                    knee=q == front_size // 3,
                    plan=plan,
                )
            )
    chosen = ChosenPlan(
        solver=solvers[1 % len(solvers)],
        reason="lowest verified objective",
        objective=runs[1 % len(runs)].objective or best,
        objectives=runs[1 % len(runs)].objectives or {},
        plan=plan,
        agents=agents,
        jain_fairness=0.93,
        load_variance=41.5,
        unassigned_reasons={t: reasons[j % 2] for j, t in enumerate(unassigned)},
    )
    return ComparisonReport(
        status="solved",
        problem=ProblemSummary(
            name=f"synthetic-{n_tasks}x{n_agents}",
            n_agents=n_agents,
            n_tasks=n_tasks,
            n_resources=len(resources),
            resources=resources,
            mode="pareto" if n_objectives >= 2 else "weighted",
            objectives=objectives,
            allow_unassigned=n_unassigned > 0,
        ),
        settings=RunSettings(solvers=list(solvers), time_limit_s=limit_s, seed=seed, workers=2),
        solvers=runs,
        chosen=chosen,
        best_bound=best * 0.995,
        pareto_front=front,
        wall_time_s=limit_s,
    )
