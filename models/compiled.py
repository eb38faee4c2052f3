"""Compile a validated `Problem` into the numpy arrays every solver works on.

Matrices are float32/int32 so a 20,000 x 500 request stays well under 1 GiB;
sums over them are taken in float64 by the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.placement_network import PlacementNetwork, build_network
from models.schema import OBJECTIVE_NAMES, PRIORITY_WEIGHT, PriorityClass, Problem
from models.workflow import WorkflowArrays, compile_workflow

__all__ = ["CompiledProblem", "ObjectiveSpec", "compile_problem"]

_PRIORITY_RANK = {
    PriorityClass.critical: 0,
    PriorityClass.high: 1,
    PriorityClass.normal: 2,
    PriorityClass.low: 3,
}
#: Latency used between agents on nodes with no path between them.
UNREACHABLE_LATENCY_MS = 1e6


@dataclass(frozen=True)
class ObjectiveSpec:
    """How objectives combine: mode, weight vector over OBJECTIVE_NAMES, order."""

    mode: str
    weights: np.ndarray  # float64[len(OBJECTIVE_NAMES)]
    order: tuple[str, ...]  # lexicographic order or pareto objectives

    def weight(self, name: str) -> float:
        return float(self.weights[OBJECTIVE_NAMES.index(name)])

    @property
    def active(self) -> tuple[str, ...]:
        if self.mode == "weighted":
            return tuple(n for n, w in zip(OBJECTIVE_NAMES, self.weights, strict=True) if w > 0)
        return self.order


@dataclass
class CompiledProblem:
    """A problem as arrays: m agents, n tasks, d resource dimensions.

    Attributes:
        cost: float32[m, n] cost of running task j on agent i.
        usage: float32[m, n, d] resource use of task j on agent i; a read-only view
            broadcasting each task's demand over the agents when the request gives no
            explicit usage matrix.
        capacity: float32[m, d].
        eligible: bool[m, n] capability, pinning and explicit-usage feasibility.
        duration: float32[m, n] seconds task j takes on agent i.
        max_tasks: int32[m] (a large number when unbounded).
        task_weight: float64[n] priority-class weight times task weight.
        priority_rank: int8[n] 0 = critical ... 3 = low.
        deadline: float64[n], inf when none.
        current: int32[n] current agent index or -1.
        anti_affinity / co_location: lists of int32 task-index arrays.
        comm_pairs: int32[k, 2] task index pairs; comm_volume: float64[k].
        latency: float64[m, m] agent-to-agent path latency (ms) or None without topology.
        workflow: task dependencies and transfer times, None when no task has `after`.
        network: the topology's links for routing communication, None without a topology
            or without communication.
    """

    name: str
    agent_ids: list[str]
    task_ids: list[str]
    resources: list[str]
    cost: np.ndarray
    usage: np.ndarray
    capacity: np.ndarray
    eligible: np.ndarray
    duration: np.ndarray
    max_tasks: np.ndarray
    task_weight: np.ndarray
    priority_rank: np.ndarray
    deadline: np.ndarray
    current: np.ndarray
    anti_affinity: list[np.ndarray]
    co_location: list[np.ndarray]
    comm_pairs: np.ndarray
    comm_volume: np.ndarray
    latency: np.ndarray | None
    objectives: ObjectiveSpec
    allow_unassigned: bool
    unassigned_penalty: float
    notes: list[str] = field(default_factory=list)
    workflow: WorkflowArrays | None = None
    network: PlacementNetwork | None = None

    @property
    def n_agents(self) -> int:
        return len(self.agent_ids)

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)

    @property
    def n_dims(self) -> int:
        return len(self.resources)

    def is_pure_gap(self) -> bool:
        """True when only cost matters and there are no side constraints (classic GAP)."""
        only_cost = self.objectives.mode == "weighted" and self.objectives.active == ("cost",)
        return (
            only_cost
            and not self.anti_affinity
            and not self.co_location
            and not self.allow_unassigned
            and bool(np.all(self.max_tasks >= self.n_tasks))
        )


def compile_problem(problem: Problem) -> CompiledProblem:
    """Turn a validated problem into arrays.

    Cost: O(m * n * d) time; memory O(m * n) (cost, duration, eligible) plus the usage
    matrix only when the request gives one (per-task demand is broadcast, not copied).
    """
    m, n, d = len(problem.agents), len(problem.tasks), len(problem.resources)
    agent_index = {a.id: i for i, a in enumerate(problem.agents)}
    task_index = {t.id: j for j, t in enumerate(problem.tasks)}

    duration, cost = _duration_and_cost(problem, m, n)
    capacity = np.zeros((m, d), dtype=np.float32)
    for i, agent in enumerate(problem.agents):
        for k, dim in enumerate(problem.resources):
            capacity[i, k] = agent.capacity.get(dim, 0.0)

    usage = _usage_array(problem, m, n, d)
    eligible = _eligibility(problem, agent_index, m, n)
    _drop_misfits(eligible, usage, capacity)

    max_tasks = np.array(
        [a.max_tasks if a.max_tasks is not None else n + 1 for a in problem.agents],
        dtype=np.int32,
    )
    task_weight = np.array(
        [PRIORITY_WEIGHT[t.priority] * t.weight for t in problem.tasks], dtype=np.float64
    )
    priority_rank = np.array([_PRIORITY_RANK[t.priority] for t in problem.tasks], dtype=np.int8)
    deadline = np.array(
        [t.deadline if t.deadline is not None else np.inf for t in problem.tasks],
        dtype=np.float64,
    )
    current = np.array(
        [agent_index[t.current_agent] if t.current_agent else -1 for t in problem.tasks],
        dtype=np.int32,
    )
    groups_aa = [
        np.array([task_index[t] for t in g.tasks], dtype=np.int32)
        for g in problem.groups
        if g.kind == "anti_affinity"
    ]
    groups_co = [
        np.array([task_index[t] for t in g.tasks], dtype=np.int32)
        for g in problem.groups
        if g.kind == "co_location"
    ]
    comm_pairs = np.array(
        [(task_index[c.a], task_index[c.b]) for c in problem.communication], dtype=np.int32
    ).reshape(-1, 2)
    comm_volume = np.array([c.volume for c in problem.communication], dtype=np.float64)

    spec = _objective_spec(problem)
    notes: list[str] = []
    latency = _agent_latency(problem)
    if len(comm_pairs) and latency is None:
        notes.append("communication volumes given without a topology: communication counts 0")
    return CompiledProblem(
        name=problem.name,
        agent_ids=[a.id for a in problem.agents],
        task_ids=[t.id for t in problem.tasks],
        resources=list(problem.resources),
        cost=cost,
        usage=usage,
        capacity=capacity,
        eligible=eligible,
        duration=duration,
        max_tasks=max_tasks,
        task_weight=task_weight,
        priority_rank=priority_rank,
        deadline=deadline,
        current=current,
        anti_affinity=groups_aa,
        co_location=groups_co,
        comm_pairs=comm_pairs,
        comm_volume=comm_volume,
        latency=latency,
        objectives=spec,
        allow_unassigned=problem.allow_unassigned,
        unassigned_penalty=problem.unassigned_penalty,
        notes=notes,
        workflow=compile_workflow(problem),
        network=build_network(problem),
    )


def _usage_array(problem: Problem, m: int, n: int, d: int) -> np.ndarray:
    if problem.usage is not None:
        raw = np.asarray(problem.usage, dtype=np.float32)
        if raw.ndim == 2:
            usage = np.zeros((m, n, d), dtype=np.float32)
            usage[:, :, 0] = raw
            return usage
        if raw.shape != (m, n, d):
            raise ValueError(
                f"usage has shape {raw.shape}; use [agent][task] or [agent][task][{d} dims]"
            )
        return raw
    demand = np.zeros((n, d), dtype=np.float32)
    for j, task in enumerate(problem.tasks):
        for k, dim in enumerate(problem.resources):
            demand[j, k] = task.demand.get(dim, 0.0)
    # Every agent sees the same demand: a read-only broadcast view, not m copies of it
    # (1.6 GB and seconds of page faults at 100,000 x 2,000). Solvers only read usage.
    return np.broadcast_to(demand[None, :, :], (m, n, d))


def _duration_and_cost(problem: Problem, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """duration = work / speed and cost = duration x cost_rate, both float32[m, n].

    Each product is taken in float64 and rounded once to float32, as a whole-matrix
    expression would, but a block of agent rows at a time so the float64 temporaries
    stay a few MiB instead of twice the matrix (1.6 GB each at 100,000 x 2,000).
    """
    speed = np.array([a.speed for a in problem.agents], dtype=np.float64)
    work = np.array([t.work for t in problem.tasks], dtype=np.float64)
    rate = np.array([a.cost_rate for a in problem.agents], dtype=np.float64)
    given_cost = problem.cost is not None
    duration = np.empty((m, n), dtype=np.float32)
    cost = np.asarray(problem.cost, dtype=np.float32) if given_cost else np.empty_like(duration)
    rows = _block_rows(n)
    buffer = np.empty((rows, n), dtype=np.float64)
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        block = buffer[: stop - start]
        np.divide(work[None, :], speed[start:stop, None], out=block)
        duration[start:stop] = block
        if not given_cost:
            np.multiply(duration[start:stop], rate[start:stop, None], out=block)
            cost[start:stop] = block
    return duration, cost


def _block_rows(n: int) -> int:
    """Agent rows per block so a float64 block of n columns is about 8 MiB."""
    return max(1, (1 << 20) // max(n, 1))


def _drop_misfits(eligible: np.ndarray, usage: np.ndarray, capacity: np.ndarray) -> None:
    """Clear eligible[i, j] where task j's usage exceeds agent i's whole capacity.

    One 2-D comparison per resource into a reused boolean buffer, the same test as
    `all(usage <= capacity + 1e-9)` over resources without its 3-D temporaries.
    """
    limit = capacity + 1e-9  # same float32 rounding as the whole-array expression
    fits = np.empty(eligible.shape, dtype=bool)
    for k in range(usage.shape[2]):
        np.less_equal(usage[:, :, k], limit[:, k, None], out=fits)
        eligible &= fits


def _eligibility(problem: Problem, agent_index: dict[str, int], m: int, n: int) -> np.ndarray:
    """Capability and pinning eligibility, bool[m, n].

    Tasks are grouped by their set of required capabilities (few distinct sets in
    practice): one agent mask per set, gathered into columns in one step.
    """
    caps = sorted({c for a in problem.agents for c in a.capabilities})
    cap_index = {c: k for k, c in enumerate(caps)}
    has = np.zeros((m, max(len(caps), 1)), dtype=bool)
    for i, agent in enumerate(problem.agents):
        for c in agent.capabilities:
            has[i, cap_index[c]] = True
    set_index: dict[frozenset[str], int] = {}
    task_set = np.array(
        [set_index.setdefault(frozenset(t.requires), len(set_index)) for t in problem.tasks],
        dtype=np.intp,
    )
    masks = np.ones((m, max(len(set_index), 1)), dtype=bool)
    for required, s in set_index.items():
        for c in required:
            if c in cap_index:
                masks[:, s] &= has[:, cap_index[c]]
            else:
                masks[:, s] = False
    eligible = np.take(masks, task_set, axis=1)
    pinned = [
        (j, agent_index[t.pinned_agent])
        for j, t in enumerate(problem.tasks)
        if t.pinned_agent is not None
    ]
    if pinned:
        cols, rows = (np.array(v, dtype=np.intp) for v in zip(*pinned, strict=True))
        kept = eligible[rows, cols]
        eligible[:, cols] = False
        eligible[rows, cols] = kept
    return eligible


def _objective_spec(problem: Problem) -> ObjectiveSpec:
    obj = problem.objectives
    weights = np.zeros(len(OBJECTIVE_NAMES), dtype=np.float64)
    if obj.mode == "weighted":
        for name, w in obj.weights.items():
            weights[OBJECTIVE_NAMES.index(name)] = w
        if problem.allow_unassigned and weights[OBJECTIVE_NAMES.index("unassigned")] == 0:
            # The penalty is already scaled by unassigned_penalty; weight 1 keeps it in play.
            weights[OBJECTIVE_NAMES.index("unassigned")] = 1.0
        order: tuple[str, ...] = ()
    elif obj.mode == "lexicographic":
        order = tuple(obj.order)
        for lex_name in order:
            weights[OBJECTIVE_NAMES.index(lex_name)] = 1.0
    else:
        order = tuple(obj.pareto)
        for pareto_name in order:
            weights[OBJECTIVE_NAMES.index(pareto_name)] = 1.0
    return ObjectiveSpec(mode=obj.mode, weights=weights, order=order)


def _agent_latency(problem: Problem) -> np.ndarray | None:
    topo = problem.topology
    if topo is None:
        return None
    # Imported here: networkx costs ~0.25 s and only requests with a topology need it
    # (the CLI's start counts against its time limit).
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(n.id for n in topo.nodes)
    for link in topo.links:
        graph.add_edge(link.a, link.b, latency_ms=link.latency_ms)
    dist = dict(nx.all_pairs_dijkstra_path_length(graph, weight="latency_ms"))
    m = len(problem.agents)
    latency = np.zeros((m, m), dtype=np.float64)
    nodes = [a.node for a in problem.agents]
    for i in range(m):
        for k in range(m):
            a, b = nodes[i], nodes[k]
            if a is None or b is None or a == b:
                continue
            latency[i, k] = dist.get(a, {}).get(b, UNREACHABLE_LATENCY_MS)
    return latency
