"""`validate()`: every invariant of the coordinator's state, checked in O(tasks + agents)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.coordinator.breaker import OPEN
from allocator.coordinator.dispatch import statically_eligible
from allocator.coordinator.records import (
    DEAD,
    DONE,
    HELD,
    LEASED,
    QUEUED,
    WAITING,
    AgentRecord,
    TaskRecord,
)

if TYPE_CHECKING:
    from allocator.coordinator.state import CoordinatorState

__all__ = ["anyone_could_run", "could_ever_run", "validate", "why_nobody"]


def could_ever_run(agent: AgentRecord, task: TaskRecord) -> bool:
    """Static eligibility (pinning, capabilities, capacity): independent of load."""
    return statically_eligible(agent, task)


def anyone_could_run(state: CoordinatorState, task: TaskRecord) -> bool:
    """Could some registered agent ever take `task`? O(candidate pool)."""
    if task.pinned is not None:
        agent = state.agents.get(task.pinned)
        return agent is not None and could_ever_run(agent, task)
    return any(could_ever_run(a, task) for a in state.dispatcher._pool(task))


def why_nobody(state: CoordinatorState, task: TaskRecord) -> str:
    """The rejection reason for a task no registered agent could run."""
    if task.pinned is not None and task.pinned not in state.agents:
        return f"pinned to agent {task.pinned!r}, which is not registered"
    need = ", ".join(sorted(task.requires)) or "none"
    return (
        f"no registered agent offers capabilities [{need}] with capacity for demand "
        f"{task.demand or {}}; register such an agent or relax the task"
    )


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _fail(message: str) -> None:
    raise AssertionError(message)


def validate(state: CoordinatorState) -> None:
    """Raise AssertionError naming the first broken invariant.

    Every accepted task is in exactly one place (a queue, a lease, done, dead-letter);
    no agent holds a task it is not eligible for; open breakers hold no queued work
    and no lease granted after opening; loads, indexes and counters agree.
    """
    where: dict[str, str] = {}

    def place(task: TaskRecord, label: str) -> None:
        if task.id in where:
            _fail(f"task {task.id} is in {where[task.id]} and {label}")
        where[task.id] = label

    state.global_queue.validate()
    queued_work = 0.0
    for task in state.global_queue.tasks():
        place(task, "global queue")
        if task.agent is not None or task.state != QUEUED:
            _fail(f"task {task.id} in the global queue has agent/state set")
        queued_work += task.est
    leased_work = 0.0
    busy = hunters = 0
    for agent in state.agent_list:
        leased_work += _check_agent(agent, place)
        queued_work += agent.load
        busy += 1 if agent.leases else 0
        hunters += 1 if agent.hunting else 0
    if len(where) != len(state.tasks):
        _fail(f"{len(state.tasks)} live tasks but {len(where)} found in queues and leases")
    for task_id, task in state.tasks.items():
        if task_id not in where or task.state not in (QUEUED, LEASED):
            _fail(f"live task {task_id} is not in a queue or lease (state {task.state})")
    if state.done & state.tasks.keys() or state.done & state.dead.keys():
        _fail("a task is both done and live or dead")
    if state.dead.keys() & state.tasks.keys():
        _fail("a task is both dead and live")
    if any(t.state != DEAD for t in state.dead.values()):
        _fail("a dead-lettered task has another state")
    _check_dependencies(state)
    kpi = state.kpi
    deps = state.deps
    accepted = kpi.submitted + kpi.restored_done + kpi.restored_dead
    parked = len(deps.waiting) + len(deps.held)
    if accepted != len(state.tasks) + len(state.done) + len(state.dead) + parked:
        _fail(
            f"lost work: {accepted} accepted but {len(state.tasks)} live + "
            f"{len(state.done)} done + {len(state.dead)} dead + {parked} waiting or held"
        )
    if kpi.completed + kpi.restored_done != len(state.done):
        _fail(f"{kpi.completed} completions counted for {len(state.done)} done tasks")
    if not _close(queued_work, state.queued_work) or not _close(leased_work, state.leased_work):
        _fail("pool queued/leased work totals drifted")
    if busy != state.busy_agents or hunters != state.hunters:
        _fail(f"busy {busy}/{state.busy_agents} or hunters {hunters}/{state.hunters} disagree")
    state.index.validate(iter(state.agent_list), state.index_floor)
    if DONE in {t.state for t in state.tasks.values()}:
        _fail("a done task is still live")
    _check_awaiting(state)


def _check_awaiting(state: CoordinatorState) -> None:
    """The line of agents waiting for work: each flagged agent in it once, no other."""
    line = state.awaiting
    if len({id(agent) for agent in line}) != len(line):
        _fail("an agent is in the awaiting line twice")
    if any(not agent.awaiting for agent in line):
        _fail("an agent in the awaiting line is not flagged as awaiting")
    flagged = sum(1 for agent in state.agent_list if agent.awaiting)
    if flagged != sum(1 for agent in line if not agent.removed):
        _fail(f"{flagged} registered agents flagged as awaiting, not the line's")
    if line and not state.hand_to_awaiting:
        _fail("an awaiting line without least_loaded placement")


def _check_agent(agent: AgentRecord, place: object) -> float:
    assert callable(place)
    agent.queue.validate()
    load = 0.0
    groups: dict[str, int] = {}
    for task in agent.queue.tasks():
        place(task, f"queue of {agent.id}")
        if task.agent is not agent or task.state != QUEUED:
            _fail(f"task {task.id} queued on {agent.id} points elsewhere")
        load += task.est
        if task.group is not None:
            groups[task.group] = groups.get(task.group, 0) + 1
        if not statically_eligible(agent, task):
            _fail(f"agent {agent.id} holds ineligible task {task.id}")
    leased = 0.0
    for task_id, task in agent.leases.items():
        place(task, f"leases of {agent.id}")
        if task.id != task_id or task.agent is not agent or task.state != LEASED:
            _fail(f"lease {task_id} on {agent.id} is inconsistent")
        leased += task.est
        if task.group is not None:
            groups[task.group] = groups.get(task.group, 0) + 1
        if not statically_eligible(agent, task):
            _fail(f"agent {agent.id} runs ineligible task {task.id}")
        if agent.breaker.state == OPEN and task.leased_at > agent.breaker.opened_at:
            _fail(f"open breaker on {agent.id} holds lease {task_id} granted after opening")
    if agent.closed != (agent.breaker.state == "closed"):
        _fail(f"agent {agent.id} breaker mirror {agent.closed} != {agent.breaker.state}")
    if agent.breaker.state == OPEN and len(agent.queue):
        _fail(f"agent {agent.id} has an open breaker but {len(agent.queue)} queued tasks")
    if not _close(load, agent.load) or not _close(leased, agent.leased_load):
        _fail(f"agent {agent.id} load {agent.load}/{agent.leased_load} != {load}/{leased}")
    if groups != agent.groups:
        _fail(f"agent {agent.id} anti-affinity counts {agent.groups} != {groups}")
    for group, count in groups.items():
        if count > 1:
            _fail(f"agent {agent.id} holds {count} tasks of anti-affinity group {group}")
    return leased


def _check_dependencies(state: CoordinatorState) -> None:
    """No task runs before its predecessors; waiting and held tasks are consistent."""
    deps = state.deps
    done = state.done
    for task in state.tasks.values():
        for pred in task.after:
            if pred not in done:
                _fail(f"task {task.id} is {task.state} but its predecessor {pred} is not done")
    live = state.tasks.keys() | deps.waiting.keys() | deps.held.keys() | state.dead.keys()
    if len(live) != len(state.tasks) + len(deps.waiting) + len(deps.held) + len(state.dead):
        _fail("a task is in two of live, waiting, held and dead")
    if (deps.waiting.keys() | deps.held.keys()) & done:
        _fail("a waiting or held task is also done")
    edges = 0
    for task_id, task in deps.waiting.items():
        if task.state != WAITING:
            _fail(f"waiting task {task_id} has state {task.state}")
        open_preds = [p for p in task.after if p not in done]
        if not open_preds or task.missing != len(open_preds):
            _fail(f"waiting task {task_id} counts {task.missing} of {open_preds}")
        for pred in open_preds:
            record = state.tasks.get(pred) or deps.waiting.get(pred)
            if record is None:
                _fail(f"task {task_id} waits on {pred}, which will never complete")
            elif not any(k is task for k in record.kids or ()):
                _fail(f"waiting task {task_id} is not listed under its predecessor {pred}")
        edges += len(open_preds)
    listed = sum(len(t.kids or ()) for t in (*state.tasks.values(), *deps.waiting.values()))
    if edges != listed:
        _fail(f"{listed} dependants listed on predecessors but {edges} open edges")
    if any(t.kids for t in (*deps.held.values(), *state.dead.values())):
        _fail("a held or dead task still lists dependants")
    for task_id, task in deps.held.items():
        if task.state != HELD or deps.blocked_by.get(task_id) not in state.dead:
            _fail(f"held task {task_id} is not blocked by a dead-lettered task")
    if deps.blocked_by.keys() != deps.held.keys():
        _fail("blocked_by and held tasks disagree")
    if not deps.planned.keys() <= deps.waiting.keys():
        _fail("a planned release names a task that is not waiting")
