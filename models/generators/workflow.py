"""Seeded random layered workflows in the style of Topcuoglu, Hariri and Wu (2002).

`n_tasks` tasks in about sqrt(n)/shape layers; each task after the first layer has one
predecessor in the layer above and up to `out_degree - 1` more from earlier layers.
Agents differ in speed (durations are work / speed); edge data volumes are drawn so the
mean transfer time (at `default_bandwidth` 1) is `ccr` times the mean task duration.
"""

from __future__ import annotations

import numpy as np

from models.schema import Agent, Objectives, Predecessor, Problem, Task

__all__ = ["generate_workflow_problem"]


def generate_workflow_problem(
    n_tasks: int,
    n_agents: int,
    ccr: float,
    seed: int,
    *,
    shape: float = 1.0,
    out_degree: int = 3,
    speed_range: tuple[float, float] = (0.5, 2.0),
    mean_work: float = 20.0,
) -> Problem:
    """A random layered DAG scheduled for makespan over agents of different speeds."""
    rng = np.random.default_rng(seed)
    layers = _layers(n_tasks, shape, rng)
    speeds = rng.uniform(*speed_range, size=n_agents)
    work = rng.uniform(0.0, 2.0 * mean_work, size=n_tasks)
    mean_duration = float(np.mean(work[:, None] / speeds[None, :]))
    preds = _edges(layers, out_degree, rng)
    n_edges = sum(len(p) for p in preds)
    data = iter(rng.uniform(0.0, 2.0 * ccr * mean_duration, size=max(n_edges, 1)).tolist())
    tasks = [
        Task(
            id=f"t{j}",
            work=float(work[j]),
            after=[Predecessor(task=f"t{p}", data=next(data)) for p in preds[j]],
        )
        for j in range(n_tasks)
    ]
    agents = [Agent(id=f"a{i}", speed=float(speeds[i])) for i in range(n_agents)]
    return Problem(
        name=f"workflow-{n_tasks}x{n_agents}-ccr{ccr:g}-s{seed}",
        agents=agents,
        tasks=tasks,
        objectives=Objectives(weights={"makespan": 1.0}),
    )


def _layers(n_tasks: int, shape: float, rng: np.random.Generator) -> list[list[int]]:
    height = max(1, min(n_tasks, round(np.sqrt(n_tasks) / shape)))
    # Every layer gets one task, the rest fall at random, so widths vary around the mean.
    sizes = np.ones(height, dtype=np.int64)
    sizes += np.bincount(rng.integers(0, height, size=n_tasks - height), minlength=height)
    out, first = [], 0
    for size in sizes.tolist():
        out.append(list(range(first, first + size)))
        first += size
    return out


def _edges(layers: list[list[int]], out_degree: int, rng: np.random.Generator) -> list[list[int]]:
    n = sum(len(layer) for layer in layers)
    preds: list[list[int]] = [[] for _ in range(n)]
    for depth in range(1, len(layers)):
        earlier = [j for layer in layers[:depth] for j in layer]
        for j in layers[depth]:
            chosen = {int(rng.choice(layers[depth - 1]))}
            extra = int(rng.integers(0, out_degree))
            for p in rng.choice(earlier, size=min(extra, len(earlier)), replace=False).tolist():
                chosen.add(int(p))
            preds[j] = sorted(chosen)
    return preds
