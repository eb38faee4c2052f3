"""The sans-I/O coordinator: `handle(event) -> commands`, with an injected clock.

Hot paths (`submit`, `next_for`, `complete`) are also callable directly; they touch
O(1) state (O(log n) for heap disciplines) and allocate no command objects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from allocator.coordinator import admission as edf
from allocator.coordinator import dependencies, durable, handling, validation
from allocator.coordinator.breaker import CLOSED
from allocator.coordinator.config import CoordinatorConfig
from allocator.coordinator.dispatch import pull_global
from allocator.coordinator.errors import AdmissionError, UnknownAgentError
from allocator.coordinator.events import Command, DeadLettered, Event
from allocator.coordinator.operations import CoordinatorOperations
from allocator.coordinator.queues import QueueFactory, make_queue_factory
from allocator.coordinator.records import (
    DEAD,
    DONE,
    LEASED,
    AgentRecord,
    AgentSpec,
    TaskRecord,
    TaskSpec,
    agent_spec_from_model,
)
from allocator.coordinator.stealing import StealPolicy, make_steal_policy
from models import Agent

__all__ = ["Coordinator"]


class Coordinator(CoordinatorOperations):
    """Applies plans online: queues, pull dispatch, stealing, breakers, leases, KPIs.

    Args:
        config: knobs (placement, prefetch, timeouts, breaker thresholds, seed).
        queue: a discipline name ("fifo", "priority", "edf", "cfs", "wfq") or a factory.
        steal: a `StealPolicy`, a policy name, or None for no stealing.
        clock: seconds, monotone; simulation passes `lambda: env.now`.
        admission: EDF admission control for tasks with deadlines (None: admit all).
        distance_ms: node -> node -> latency, for locality-aware stealing.
        tenant_weights: weights for fairness KPIs and the cfs/wfq disciplines.
    """

    def __init__(
        self,
        config: CoordinatorConfig | None = None,
        *,
        queue: str | QueueFactory = "fifo",
        steal: StealPolicy | str | None = "heaviest",
        clock: Callable[[], float] | None = None,
        admission: edf.EdfAdmission | None = None,
        distance_ms: Mapping[str, Mapping[str, float]] | None = None,
        tenant_weights: Mapping[str, float] | None = None,
        agents: Iterable[AgentSpec | Agent] = (),
    ) -> None:
        cfg = config or CoordinatorConfig()
        self.tenant_weights = dict(tenant_weights or {})
        factory = (
            make_queue_factory(queue, tenant_weights=self.tenant_weights)
            if isinstance(queue, str)
            else queue
        )
        policy = make_steal_policy(steal, distance_ms) if isinstance(steal, str) else steal
        super().__init__(
            cfg,
            factory,
            clock or time.monotonic,
            track_nodes=getattr(policy, "name", "") == "locality",
            index_floor=getattr(policy, "threshold", 2),
        )
        self.steal_policy = None if policy is None or policy.name == "none" else policy
        self.admission = admission
        self._tripped: set[AgentRecord] = set()
        self._submit_seq = 0
        for agent in agents:
            self.register_agent(agent)

    # ---- agents -------------------------------------------------------------------

    def register_agent(self, spec: AgentSpec | Agent) -> None:
        """Add an agent; it gets work on its first pull (stealing if the pool is busy)."""
        if isinstance(spec, Agent):
            spec = agent_spec_from_model(spec)
        if spec.id in self.agents:
            raise AdmissionError(spec.id, "an agent with this id is already registered")
        if spec.speed <= 0 or spec.slots < 1:
            raise AdmissionError(spec.id, "agent speed must be > 0 and slots >= 1")
        self._add_agent(spec)

    def remove_agent(self, agent_id: str) -> int:
        """Deregister; its queued and leased tasks go back to queues. O(held tasks)."""
        agent = self._agent(agent_id)
        now = self._clock()
        leased = list(agent.leases.values())
        queued = agent.queue.drain()
        for task in queued:
            self._forget_on(agent, task)
            task.agent = None
        agent.load = 0.0
        self._reindex(agent)
        self._tripped.discard(agent)
        self._drop_agent(agent)
        for task in leased:
            self._release(task)
            self._requeue(task, now, agent)  # a graceful exit charges no attempt
        for task in queued:
            target = self.dispatcher.place(task, agent)
            if target is None:
                task.prev_agent = agent
                self._file_global(task, now)
            else:
                self._migrated(task, agent, target, now, "agent removed")
        return len(leased) + len(queued)

    def _agent(self, agent_id: str) -> AgentRecord:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgentError(agent_id)
        return agent

    # ---- tasks --------------------------------------------------------------------

    def submit(self, spec: TaskSpec, rank: float | None = None) -> str | None:
        """Accept a task; return the agent it is queued on (None: global queue or waiting).

        Raises AdmissionError (duplicate id, no eligible agent, a deadline bound) or
        DependencyError (an `after` id that is unknown or the task itself). A task with
        unfinished predecessors waits (`task_state` "waiting") and is queued when they
        complete; `rank` is its upward rank when the caller computed it (`submit_all`).
        O(1) for late binding or O(d) sampled placement, plus the queue push.
        """
        task_id = spec.id
        if self._known(task_id):
            raise AdmissionError(task_id, "a task with this id was already submitted")
        found = dependencies.open_predecessors(self, spec) if spec.after else None
        now = self._clock()
        work = spec.work
        task = TaskRecord(spec, self.estimates.estimate(spec.kind) if work is None else work, now)
        if task.constrained and not validation.anyone_could_run(self, task):
            self.kpi.rejected += 1
            raise AdmissionError(task_id, validation.why_nobody(self, task))
        if self.admission is not None and task.deadline is not None:
            edf.admit_or_reject(self, self.admission, task, now)
        self.kpi.submitted += 1
        self.min_est = task.est if task.est < self.min_est else self.min_est
        if found is not None:
            dependencies.file_dependent(self, task, found, rank)
            return None
        self.tasks[task_id] = task
        self.queued_work += task.est
        agent = self.dispatcher.place(task)
        if agent is None:
            self._file_global(task, now)
            return None
        self._file_local(task, agent, now)
        return agent.id

    def submit_all(self, specs: list[TaskSpec]) -> tuple[dict[str, str | None], dict[str, str]]:
        """Accept a batch whose `after` may name tasks of the same batch.

        Raises DependencyError (nothing accepted) for an unknown id, a self-reference or
        a cycle, naming them. Tasks go in predecessors-first order, highest upward rank
        first; a task refused by admission takes its dependants in the batch with it.
        Returns accepted (task -> agent queue or None) and rejected (task -> reason).
        """
        return dependencies.submit_batch(self, specs)

    def _known(self, task_id: str) -> bool:
        deps = self.deps
        return (
            task_id in self.tasks
            or task_id in self.done
            or task_id in self.dead
            or task_id in deps.waiting
            or task_id in deps.held
        )

    def _estimate(self, spec: TaskSpec) -> float:
        return self.estimates.estimate(spec.kind) if spec.work is None else spec.work

    def next_for(self, agent_id: str) -> TaskRecord | None:
        """Lease the agent's next task: own queue, then the global queue, then a steal.

        Returns None when the agent is at its prefetch limit, its breaker refuses, or
        there is nothing it may take. O(1) plus one queue pop (steals: O(batch)).
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgentError(agent_id)
        now = self._clock()
        agent.last_seen = now
        if len(agent.leases) >= agent.max_leases:
            return None
        if not agent.closed and not self._breaker_allows(agent, now):
            return None
        queue = agent.queue
        task: TaskRecord | None = None
        if not queue._n:
            # Unclaimed work first (it is nobody's), then a steal from a busy agent.
            if self.global_queue._n:
                task = self._pull_global(agent, now)
            if task is None and self.steal_policy is not None:
                self.steal_policy.steal(self, agent, now)  # stolen tasks land in `queue`
        if task is None and queue._n:
            task = queue.pop(now)
            assert task is not None
            agent.load -= task.est
            if agent.bcount:
                self._reindex(agent)
        if task is None:
            if not agent.awaiting and self.hand_to_awaiting:  # released work may go to it
                agent.awaiting = True
                self.awaiting.append(agent)
            return None
        self._lease(task, agent, now)
        return task

    def _pull_global(self, agent: AgentRecord, now: float) -> TaskRecord | None:
        cfg, total_speed = self.cfg, self.total_speed
        horizon_s = (self.queued_work + self.leased_work) / total_speed if total_speed else 0.0
        max_speed = self.max_speed if cfg.speed_aware else 0.0
        min_est = 0.0 if self.global_constrained else self.min_est  # see pull_global
        queue = self.global_queue
        task = pull_global(
            queue, agent, now, cfg.lookahead, horizon_s, max_speed, cfg.speed_slack, min_est
        )
        self.global_constrained = self.global_constrained and bool(queue._n)
        return task

    def _breaker_allows(self, agent: AgentRecord, now: float) -> bool:
        breaker = agent.breaker
        old = breaker.state
        allowed = breaker.allows(now)
        if breaker.state is not old:
            self._note_breaker(agent, old, breaker.state, now)
        return allowed

    def _note_breaker(self, agent: AgentRecord, old: str, new: str, now: float) -> None:
        if new is CLOSED:
            self._tripped.discard(agent)
        else:
            self._tripped.add(agent)
        self._breaker_changed(agent, old, new, now)

    def _leased_by(self, task_id: str, agent_id: str) -> TaskRecord | str:
        task = self.tasks.get(task_id)
        if task is not None and task.state == LEASED:
            assert task.agent is not None
            if task.agent.id == agent_id:
                return task
            return f"task is leased to agent {task.agent.id}; this agent's lease was taken back"
        if task_id in self.done:
            self.kpi.duplicate_completions += 1
            return "task already completed; a task completes at most once"
        if task_id in self.dead:
            return "task was dead-lettered after too many failed attempts"
        if task is not None:
            if not task.attempts:  # never leased: no lease could have expired
                return "task was never leased to an agent; an agent pulls it before completing it"
            last = (task.errors or ["lease expired"])[-1]
            return f"task is queued again (last attempt: {last}); this result is ignored"
        return "unknown task id"

    def complete(
        self,
        task_id: str,
        agent_id: str,
        runtime_s: float | None = None,
        tokens: int | None = None,
    ) -> str | None:
        """Record success; None when accepted, else why not. `tokens`: what the agent
        used on it (token ledger). O(1), plus O(k log k) when it releases k dependants."""
        task = self.tasks.get(task_id)
        if task is None or task.state != LEASED or task.agent.id != agent_id:  # type: ignore[union-attr]
            found = self._leased_by(task_id, agent_id)
            assert isinstance(found, str)
            return found
        now = self._clock()
        # _release, inlined: this is the hottest path.
        agent: AgentRecord = task.agent  # type: ignore[assignment]
        leases = agent.leases
        del leases[task_id]
        if not leases:
            self.busy_agents -= 1
        est = task.est
        agent.leased_load -= est
        self.leased_work -= est
        if task.group is not None:
            self._forget_on(agent, task)
        task.agent = None
        agent.last_seen = now
        task.state = DONE
        del self.tasks[task_id]
        self.done.add(task_id)
        run_s = now - task.leased_at if runtime_s is None else runtime_s
        agent.busy_s += run_s
        agent.completed += 1
        if task.kind is not None:
            self.estimates.observe(task.kind, run_s * agent.speed)
        kpi = self.kpi
        kpi.completed += 1
        tenant_work = kpi.tenant_work
        tenant_work[task.tenant] = tenant_work.get(task.tenant, 0.0) + est
        if task.density and self.admission is not None:
            self.admission.release(task)
        breaker = agent.breaker
        old = breaker.state
        if breaker.record_success(now, run_s) is not None:
            self._note_breaker(agent, old, breaker.state, now)
        if tokens is not None:
            self.tokens.record(agent.id, task.kind, task.tenant, tokens, agent.token_price)
        kids = task.kids
        if kids is not None:  # waiting tasks depend on this one
            task.kids = None
            dependencies.release_after(self, kids, now)
        return None

    def fail(self, task_id: str, agent_id: str, error: str = "failed") -> str | None:
        """Record a failed attempt: retry elsewhere or dead-letter. None when accepted."""
        found = self._leased_by(task_id, agent_id)
        if isinstance(found, str):
            return found
        now = self._clock()
        found.agent.last_seen = now  # type: ignore[union-attr]
        self.kpi.failed += 1
        self._give_back(found, now, error)
        return None

    def _give_back(self, task: TaskRecord, now: float, error: str) -> None:
        agent = self._release(task)
        task.attempts += 1
        task.errors = [*(task.errors or []), f"{agent.id}: {error}"]
        breaker = agent.breaker
        old = breaker.state
        if breaker.record(now, True) is not None:
            self._note_breaker(agent, old, breaker.state, now)
        if task.attempts > self.cfg.max_retries:
            task.state = DEAD
            del self.tasks[task.id]
            self.dead[task.id] = task
            self.kpi.dead_lettered += 1
            if task.density and self.admission is not None:
                self.admission.release(task)
            if self.cfg.emit_commands:
                self.outbox.append(DeadLettered(task.id, tuple(task.errors)))
            if task.kids is not None:
                dependencies.hold_after(self, task)
        else:
            self._requeue(task, now, agent)

    def heartbeat(self, agent_id: str) -> None:
        """The agent is alive. O(1)."""
        self._agent(agent_id).last_seen = self._clock()

    def heartbeat_missed(self, agent_id: str) -> None:
        """The agent is gone: open its breaker and take back its leases."""
        self._recall(self._agent(agent_id), self._clock())

    def _recall(self, agent: AgentRecord, now: float) -> None:
        for task in list(agent.leases.values()):
            self.kpi.lease_expiries += 1
            self._give_back(task, now, "heartbeat missed")
        old = agent.breaker.state
        if old != "open":
            agent.breaker.force_open(now)
            self._note_breaker(agent, old, agent.breaker.state, now)

    def tick(self) -> None:
        """Expire leases, detect silent agents, move breakers on in time. O(due items)."""
        now = self._clock()
        for task in self.leases.expired(now):
            self.kpi.lease_expiries += 1
            self._give_back(task, now, "lease expired")
        for agent in self.leases.silent_agents(now, self.agents):
            self._recall(agent, now)
        for agent in list(self._tripped):
            self._breaker_allows(agent, now)

    # ---- durable state ------------------------------------------------------------

    def durable_state(self) -> durable.DurableState:
        """What a restart must not lose (agents, tasks, done ids, dead letters)."""
        return durable.export_state(self)

    def restore(self, state: durable.DurableState) -> dict[str, str]:
        """Load saved state into this task-less coordinator; returns refused tasks (-> why)."""
        return durable.restore_state(self, state)

    # ---- the event interface ------------------------------------------------------

    def handle(self, event: Event) -> list[Command]:
        """Apply one event; return the commands it produced, in order."""
        return handling.handle_event(self, event)
