"""The coordinator's state and the primitive moves that keep it consistent.

Every place a task can be (global queue, an agent's local queue, an agent's leases,
done, dead-letter) is changed only through these primitives, so load figures, the
load index, anti-affinity counts and KPI counters always agree; `validation` checks it.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from allocator.coordinator.breaker import CLOSED, OPEN, CircuitBreaker
from allocator.coordinator.config import CoordinatorConfig
from allocator.coordinator.dependencies import Dependencies
from allocator.coordinator.dispatch import Dispatcher, eligible
from allocator.coordinator.estimates import RuntimeEstimates
from allocator.coordinator.events import BreakerChanged, Command, Migrated
from allocator.coordinator.kpis import KpiCounters
from allocator.coordinator.leases import LeaseTable
from allocator.coordinator.loadindex import LoadIndex, NodeLoadIndex
from allocator.coordinator.queues import PriorityQueue, QueueDiscipline, QueueFactory
from allocator.coordinator.records import LEASED, QUEUED, AgentRecord, AgentSpec, TaskRecord
from allocator.coordinator.tokens import TokenLedger

if TYPE_CHECKING:
    from allocator.coordinator.resolution import PendingResolve

__all__ = ["CoordinatorState"]


class CoordinatorState:
    """Registries, queues and primitives. Public fields are read by policies."""

    def __init__(
        self,
        config: CoordinatorConfig,
        queue_factory: QueueFactory,
        clock: Callable[[], float],
        track_nodes: bool,
        index_floor: int = 2,
    ) -> None:
        self.cfg = config
        self._clock = clock
        self._queue_factory = queue_factory
        self.agents: dict[str, AgentRecord] = {}
        self.agent_list: list[AgentRecord] = []
        self._by_capability: dict[str, list[AgentRecord]] = {}
        self.tasks: dict[str, TaskRecord] = {}  # queued or leased
        self.done: set[str] = set()
        self.dead: dict[str, TaskRecord] = {}
        self.deps = Dependencies()  # waiting and held tasks (`after`)
        self.tokens = TokenLedger()
        self.global_queue = queue_factory()
        self.index = LoadIndex()
        self.index_floor = max(1, index_floor)  # agents with fewer queued are not filed
        self._node_indexes: dict[str, NodeLoadIndex] | None = {} if track_nodes else None
        self.leases = LeaseTable(config.lease_timeout_s, config.heartbeat_timeout_s)
        self.estimates = RuntimeEstimates(config.default_work)
        self.rng = random.Random(config.seed)
        self.kpi = KpiCounters(config.latency_window, clock())
        self.outbox: list[Command] = []
        self.dispatcher = Dispatcher(
            config.placement,
            config.choices,
            self.agents,
            self.agent_list,
            self._by_capability,
            self.rng,
        )
        self.hunters = 0
        # Agents whose pull found nothing, longest waiting first (`home_for_released`).
        self.awaiting: deque[AgentRecord] = deque()
        # With least_loaded placement a released task any agent may run is late-bound
        # (global queue, `dependencies._queue_released`); one with rules goes to an agent
        # in this line when it is as good a home as the dispatcher's pick.
        self.hand_to_awaiting = config.placement == "least_loaded"
        # False only while the global queue has held no constrained task since it was
        # last empty: then a slow agent's pull may be declined in O(1) (`Coordinator._pull_global`).
        self.global_constrained = False
        self.min_est = float("inf")  # smallest est of any task accepted (stealing's bound)
        self.busy_agents = 0
        self.queued_work = 0.0
        self.leased_work = 0.0
        self.total_speed = 0.0
        self.max_speed = 0.0
        self.aging_s: float | None = None  # set by tune(); queues made later age alike
        self.pending_resolve: PendingResolve | None = None
        self.resolve_seq = 0

    # ---- agents -------------------------------------------------------------------

    def _add_agent(self, spec: AgentSpec) -> AgentRecord:
        breaker = CircuitBreaker(self.cfg.breaker)
        agent = AgentRecord(spec, self._new_queue(), breaker, len(self.agent_list))
        agent.last_seen = self._clock()
        agent.max_leases = spec.slots + self.cfg.prefetch
        self.agents[spec.id] = agent
        self.agent_list.append(agent)
        for cap in spec.capabilities:
            self._by_capability.setdefault(cap, []).append(agent)
        # Incremental, so registering n agents is O(n), not O(n^2).
        self.total_speed += agent.speed
        self.max_speed = max(self.max_speed, agent.speed)
        return agent

    def _new_queue(self) -> QueueDiscipline:
        queue = self._queue_factory()
        if self.aging_s is not None and isinstance(queue, PriorityQueue):
            queue.aging_s = self.aging_s
        return queue

    def _drop_agent(self, agent: AgentRecord) -> None:
        agent.removed = True
        del self.agents[agent.id]
        last = self.agent_list.pop()
        if last is not agent:
            self.agent_list[agent.index] = last
            last.index = agent.index
        for cap in agent.capabilities:
            self._by_capability[cap].remove(agent)
        if agent.hunting:
            agent.hunting = False
            self.hunters -= 1
        self._recount_speeds()

    def _recount_speeds(self) -> None:
        """Total and max speed over agents that can take work. O(n); on rare events only."""
        speeds = [a.speed for a in self.agent_list if a.breaker.state is CLOSED]
        self.total_speed = sum(speeds)
        self.max_speed = max(speeds, default=0.0)

    def node_index(self, node: str) -> NodeLoadIndex | None:
        return None if self._node_indexes is None else self._node_indexes.get(node)

    def _reindex(self, agent: AgentRecord) -> None:
        count = agent.queue._n
        if count < self.index_floor:
            # Too short to be a victim: only unfile, so short queues cost no index work.
            if not agent.bcount:
                return
            count = 0
        self.index.update(agent, count)
        if self._node_indexes is not None and agent.node is not None:
            index = self._node_indexes.get(agent.node)
            if index is None:
                index = self._node_indexes[agent.node] = NodeLoadIndex()
            index.update(agent, count)

    # ---- queue primitives ---------------------------------------------------------

    def _file_local(self, task: TaskRecord, agent: AgentRecord, now: float) -> None:
        """Queue `task` (already out of every queue) on `agent`. O(queue push)."""
        task.agent = agent
        task.enqueued_at = now
        queue = agent.queue
        queue.push(task, now)
        agent.load += task.est
        if queue._n >= self.index_floor:
            self._reindex(agent)
        if task.group is not None:
            agent.groups[task.group] = agent.groups.get(task.group, 0) + 1

    def _file_global(self, task: TaskRecord, now: float) -> None:
        task.agent = None
        task.enqueued_at = now
        self.global_queue.push(task, now)
        if task.constrained:
            self.global_constrained = True

    def _place(self, task: TaskRecord, now: float, exclude: AgentRecord | None = None) -> None:
        """File a queued task where the dispatcher says (or globally)."""
        agent = self.dispatcher.place(task, exclude)
        if agent is None:
            self._file_global(task, now)
        else:
            self._file_local(task, agent, now)

    def home_for_released(self, task: TaskRecord) -> AgentRecord | None:
        """Where a task just released by its predecessors goes (None: the global queue);
        under least_loaded placement only asked for tasks with rules (the others are
        late-bound: `dependencies._queue_released`).

        The dispatcher's pick, unless the agent that has waited longest for work would
        finish the task no later (least_loaded placement only; in effect one more
        candidate beside the dispatcher's samples). An agent joins that line
        (`awaiting`) when a pull finds nothing; agents that got work since, left, or
        whose breaker opened leave it here; a head that may not take this task keeps
        its place. O(1) amortised.
        """
        pick = self.dispatcher.place(task)
        line = self.awaiting
        while line:
            head = line[0]
            if head.queue._n or head.leases or head.removed or not head.closed:
                line.popleft()  # it got work, left or failed since it asked
                head.awaiting = False
                continue
            est = task.est
            if (
                pick is not None
                and est * pick.speed > (pick.load + pick.leased_load + est) * head.speed
            ):
                return pick  # a sampled agent finishes it sooner
            if (task.constrained or head.max_tasks is not None) and not eligible(head, task):
                return pick
            line.popleft()
            head.awaiting = False
            return head
        return pick

    def _forget_on(self, agent: AgentRecord, task: TaskRecord) -> None:
        if task.group is not None:
            left = agent.groups[task.group] - 1
            if left:
                agent.groups[task.group] = left
            else:
                del agent.groups[task.group]

    def _unfile(self, task: TaskRecord) -> None:
        """Take a queued task out of its queue (it stays state QUEUED). O(1)."""
        agent = task.agent
        if agent is None:
            self.global_queue.remove(task)
            return
        agent.queue.remove(task)
        agent.load -= task.est
        self._reindex(agent)
        self._forget_on(agent, task)
        task.agent = None

    # ---- stealing host ------------------------------------------------------------

    def refile(self, agent: AgentRecord) -> None:
        """Refile `agent` in the load indexes after its queue length changed. O(1)."""
        self._reindex(agent)

    def count_steal_attempt(self, succeeded: bool, tries: int = 1) -> None:
        self.kpi.steal_attempts += tries
        if succeeded:
            self.kpi.steal_successes += 1

    def detach_stolen(self, victim: AgentRecord, task: TaskRecord) -> None:
        """Finish taking a task `steal_one` returned (its load is already subtracted)."""
        self._reindex(victim)
        if task.group is not None:
            self._forget_on(victim, task)

    def move_stolen(
        self, task: TaskRecord, victim: AgentRecord, thief: AgentRecord, now: float
    ) -> None:
        """`_migrated` for a steal, inlined: a steal is on the pull path."""
        kpi = self.kpi
        kpi.tasks_stolen += 1
        kpi.migrations += 1
        task.prev_agent = victim
        task.moved_at = now
        self._file_local(task, thief, now)
        if self.cfg.emit_commands:
            self.outbox.append(Migrated(task.id, victim.id, thief.id, "steal"))

    def _migrated(
        self, task: TaskRecord, src: AgentRecord | None, dst: AgentRecord, now: float, why: str
    ) -> None:
        task.prev_agent = src
        task.moved_at = now
        self._file_local(task, dst, now)
        if src is not None:
            self.kpi.migrations += 1
            if self.cfg.emit_commands:
                self.outbox.append(Migrated(task.id, src.id, dst.id, why))

    # ---- leases -------------------------------------------------------------------

    def _lease(self, task: TaskRecord, agent: AgentRecord, now: float) -> None:
        """Lease a task just popped from a queue to `agent`. O(1)."""
        if task.agent is not agent:  # from the global queue
            task.agent = agent
            if task.group is not None:
                agent.groups[task.group] = agent.groups.get(task.group, 0) + 1
        task.state = LEASED
        task.leased_at = now
        est = task.est
        leases = agent.leases
        if not leases:
            self.busy_agents += 1
            if not agent.hb_armed:
                self.leases.arm(agent, now)
        leases[task.id] = task
        agent.leased_load += est
        self.queued_work -= est
        self.leased_work += est
        self.leases.grant(task, now)
        if agent.breaker.state is not CLOSED:
            agent.breaker.on_acquire()
        if agent.hunting:
            agent.hunting = False
            self.hunters -= 1
        kpi = self.kpi
        n = kpi.latency_n
        kpi.latency[n & kpi.latency_mask] = now - task.submitted_at
        kpi.latency_n = n + 1

    def _release(self, task: TaskRecord) -> AgentRecord:
        """End a lease (completion, failure or expiry). O(1)."""
        agent = task.agent
        assert agent is not None
        del agent.leases[task.id]
        if not agent.leases:
            self.busy_agents -= 1
        agent.leased_load -= task.est
        self.leased_work -= task.est
        self._forget_on(agent, task)
        task.agent = None
        return agent

    def _requeue(self, task: TaskRecord, now: float, exclude: AgentRecord | None) -> None:
        """A released task goes back to a queue, preferably not on `exclude`."""
        task.state = QUEUED
        self.queued_work += task.est
        self.kpi.requeued += 1
        task.prev_agent = exclude
        self._place(task, now, exclude)

    # ---- breakers -----------------------------------------------------------------

    def _breaker_changed(self, agent: AgentRecord, old: str, new: str, now: float) -> None:
        agent.closed = new is CLOSED
        key = f"{old}->{new}"
        self.kpi.breaker_transitions[key] = self.kpi.breaker_transitions.get(key, 0) + 1
        if self.cfg.emit_commands:
            self.outbox.append(BreakerChanged(agent.id, old, new))
        if new is OPEN:
            # An open agent receives nothing: its queued work goes elsewhere now.
            for task in agent.queue.drain():
                agent.load -= task.est
                self._forget_on(agent, task)
                task.agent = None
                task.prev_agent = agent
                target = self.dispatcher.place(task, agent)
                if target is None:
                    self._file_global(task, now)
                else:
                    self._migrated(task, agent, target, now, "breaker open")
            agent.load = 0.0
            self._reindex(agent)
        self._recount_speeds()
