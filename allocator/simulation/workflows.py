"""Workflow workloads (task graphs) and online HEFT, the baseline the coordinator is read against.

Shapes: fork-join (stages of parallel branches between a fork and a join), layered
random DAGs (each task after 1-3 tasks of the layer before, in the style of Topcuoglu,
Hariri and Wu), and a Montage-like mosaic (project, pairwise diff-fit, one global
fit, background correction per image, then a serial add/shrink/jpeg tail).

All tasks are known at time 0; transfers between agents are not modelled (swarm tasks
carry no data volumes), so a task may start once its predecessors have finished.

`online_heft` is HEFT run online: whenever a task becomes ready (ties: higher upward
rank first) it goes to the agent on which it would finish earliest, given what that
agent was already given; each agent runs its tasks in that order, one at a time.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from allocator.coordinator import AgentSpec, TaskSpec

__all__ = [
    "WORKFLOW_SHAPES",
    "WorkflowLoad",
    "fork_join",
    "layered_dag",
    "montage",
    "online_heft",
    "upward_ranks",
    "workflow_by_name",
]

WORKFLOW_SHAPES: tuple[str, ...] = ("fork-join", "layered", "montage")


@dataclass
class WorkflowLoad:
    """A task graph (ids in topological order) with works and agent speeds."""

    name: str
    ids: list[str]
    work: list[float]
    preds: list[list[int]]  # indices into ids, each smaller than the task's own
    speeds: np.ndarray

    @property
    def n_tasks(self) -> int:
        return len(self.ids)

    def specs(self) -> list[TaskSpec]:
        return [
            TaskSpec(tid, work=w, after=tuple(self.ids[p] for p in ps))
            for tid, w, ps in zip(self.ids, self.work, self.preds, strict=True)
        ]

    def agents(self) -> list[AgentSpec]:
        return [AgentSpec(f"a{i}", speed=float(s)) for i, s in enumerate(self.speeds)]

    def lower_bound_s(self) -> float:
        """max(critical path at the fastest speed, total work / total speed)."""
        fastest = float(self.speeds.max())
        finish = [0.0] * self.n_tasks
        for j in range(self.n_tasks):
            start = max((finish[p] for p in self.preds[j]), default=0.0)
            finish[j] = start + self.work[j] / fastest
        return max(max(finish, default=0.0), sum(self.work) / float(self.speeds.sum()))


def _speeds(n_agents: int, rng: np.random.Generator) -> np.ndarray:
    return np.round(rng.uniform(0.5, 2.0, n_agents), 3)


def fork_join(stages: int, width: int, n_agents: int, seed: int = 0) -> WorkflowLoad:
    """fork -> `width` branches -> join, `stages` times in a row."""
    rng = np.random.default_rng(seed)
    ids: list[str] = ["fork0"]
    work: list[float] = [1.0]
    preds: list[list[int]] = [[]]
    for s in range(stages):
        fork = len(ids) - 1
        branch = []
        for b in range(width):
            ids.append(f"s{s}b{b}")
            work.append(float(rng.uniform(1.0, 10.0)))
            preds.append([fork])
            branch.append(len(ids) - 1)
        ids.append(f"join{s}")
        work.append(1.0)
        preds.append(branch)
    return WorkflowLoad(f"fork-join {stages}x{width}", ids, work, preds, _speeds(n_agents, rng))


def layered_dag(n_tasks: int, layers: int, n_agents: int, seed: int = 0) -> WorkflowLoad:
    """`layers` layers of about n_tasks / layers tasks; each after 1-3 of the layer before."""
    rng = np.random.default_rng(seed)
    size = max(1, n_tasks // layers)
    ids: list[str] = []
    work: list[float] = []
    preds: list[list[int]] = []
    previous: list[int] = []
    for layer in range(layers):
        current = []
        for k in range(size):
            ids.append(f"L{layer}t{k}")
            work.append(float(rng.uniform(1.0, 20.0)))
            n_pred = min(len(previous), int(rng.integers(1, 4)))
            chosen = rng.choice(previous, size=n_pred, replace=False) if n_pred else ()
            preds.append(sorted(int(p) for p in chosen))
            current.append(len(ids) - 1)
        previous = current
    name = f"layered {len(ids)} tasks, {layers} layers"
    return WorkflowLoad(name, ids, work, preds, _speeds(n_agents, rng))


def montage(images: int, n_agents: int, seed: int = 0) -> WorkflowLoad:
    """A Montage-like mosaic of `images` images (4 x images + 6 tasks)."""
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    work: list[float] = []
    preds: list[list[int]] = []

    def add(tid: str, w: float, after: list[int]) -> int:
        ids.append(tid)
        work.append(w)
        preds.append(after)
        return len(ids) - 1

    project = [add(f"mProject{i}", float(rng.uniform(8, 14)), []) for i in range(images)]
    diffs = [
        add(f"mDiffFit{d}_{i}", float(rng.uniform(1, 3)), [project[i], project[(i + d) % images]])
        for d in (1, 2)
        for i in range(images)
        if images > d
    ]
    concat = add("mConcatFit", 2.0 + 0.05 * len(diffs), diffs or project)
    model = add("mBgModel", 4.0 + 0.1 * images, [concat])
    background = [
        add(f"mBackground{i}", float(rng.uniform(1, 2)), [model, project[i]]) for i in range(images)
    ]
    table = add("mImgtbl", 1.0 + 0.02 * images, background)
    mosaic = add("mAdd", 5.0 + 0.2 * images, [table])
    shrink = add("mShrink", 3.0, [mosaic])
    add("mJPEG", 1.0, [shrink])
    return WorkflowLoad(f"montage {images} images", ids, work, preds, _speeds(n_agents, rng))


def workflow_by_name(shape: str, tasks: int, agents: int, seed: int = 0) -> WorkflowLoad:
    """A workload of about `tasks` tasks; ValueError names the shapes for an unknown one."""
    if shape == "fork-join":
        width = max(2, round((tasks / 4) ** 0.5 * 2))
        return fork_join(max(1, tasks // (width + 1)), width, agents, seed)
    if shape == "layered":
        return layered_dag(tasks, max(2, round(tasks**0.5 / 2)), agents, seed)
    if shape == "montage":
        return montage(max(2, (tasks - 6) // 4), agents, seed)
    raise ValueError(f"workflow {shape!r}; choose one of {', '.join(WORKFLOW_SHAPES)}")


def upward_ranks(load: WorkflowLoad) -> list[float]:
    """Work at mean speed plus the longest such chain after each task."""
    mean = float(load.speeds.mean())
    kids: list[list[int]] = [[] for _ in load.ids]
    for j, ps in enumerate(load.preds):
        for p in ps:
            kids[p].append(j)
    rank = [0.0] * load.n_tasks
    for j in reversed(range(load.n_tasks)):
        rank[j] = load.work[j] / mean + max((rank[k] for k in kids[j]), default=0.0)
    return rank


def online_heft(load: WorkflowLoad) -> float:
    """Makespan of online HEFT (earliest finish time when ready, see the module doc)."""
    rank = upward_ranks(load)
    speeds = [float(s) for s in load.speeds]
    free_at = [0.0] * len(speeds)
    missing = [len(ps) for ps in load.preds]
    ready_at = [0.0] * load.n_tasks
    kids: list[list[int]] = [[] for _ in load.ids]
    for j, ps in enumerate(load.preds):
        for p in ps:
            kids[p].append(j)
    heap = [(0.0, -rank[j], j) for j in range(load.n_tasks) if not missing[j]]
    heapq.heapify(heap)
    makespan = 0.0
    while heap:
        at, _r, j = heapq.heappop(heap)
        finish, agent = min(
            (max(free_at[a], at) + load.work[j] / s, a) for a, s in enumerate(speeds)
        )
        free_at[agent] = finish
        makespan = max(makespan, finish)
        for k in kids[j]:
            ready_at[k] = max(ready_at[k], finish)
            missing[k] -= 1
            if not missing[k]:
                heapq.heappush(heap, (ready_at[k], -rank[k], k))
    return makespan
