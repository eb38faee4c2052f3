"""Decisions with dependencies stay exactly as they were when the hot path is reworked.

A seeded workload (layered and chained `after`, a batch with ranks, a schedule for some
waiting tasks, failures that dead-letter and hold) is run through the coordinator and
every decision is written down: where each submit went, which task each pull got, who
is held behind whom. The trace's SHA-256 was taken on the tree before the dependency
records' rework (commit 1c0032c); a change of placement, release order or holds changes
it. A deliberate policy change updates the digest and says so in its commit: the last
one (eighth session) late-binds released tasks without rules (global queue, pulled
before a steal) under least_loaded placement.
"""

from __future__ import annotations

import hashlib

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from models import Plan
from models.plan import ScheduledTask

# Trace digest of `_trace()` since released tasks are late-bound (85c90498... at 1c0032c,
# before the rework, up to that policy change).
BEFORE = "f2dddd69cf7600f9232346490137c716cf7ff8c30b68bd9e039ba0a7634a5771"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _layered(i: int, width: int) -> tuple[str, ...]:
    if i < 2 * width:
        return ()
    return (f"t{i - width - (i * 7919) % width}", f"t{i - width - (i * 104729 + 1) % width}")


def _trace() -> str:
    """Every decision of a seeded run with dependencies, one line each."""
    clock = _Clock()
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded", emit_commands=False, max_retries=1, seed=7),
        clock=clock,
        steal="heaviest",
    )
    n_agents = 40
    for i in range(n_agents):
        coord.register_agent(AgentSpec(f"a{i}", speed=1.0 + (i % 5)))
    lines: list[str] = []
    batch = [
        TaskSpec("b0", work=2.0),
        TaskSpec("b1", after=("b0",)),
        TaskSpec("b2", work=3.0, after=("b0",)),
        TaskSpec("b3", after=("b1", "b2")),
        TaskSpec("b4", work=0.5, after=("b0",)),
    ]
    lines.append(repr(sorted(coord.submit_all(batch)[0].items(), key=str)))
    for i in range(80):
        lines.append(f"w{i}>{coord.submit(TaskSpec(f'w{i}', work=1.0 + i % 3))}")
    width, j = 30, 0
    doomed = {f"t{i}" for i in range(1_100, 1_500, 97)}  # their dependants are held
    for i in range(1_500):
        after = _layered(i, width) if i % 4 else ((f"t{i - 60}",) if i >= 60 else ())
        lines.append(f"t{i}>{coord.submit(TaskSpec(f't{i}', work=1.0 + i % 4, after=after))}")
        if i == 700:  # a schedule for tasks still waiting: they go to its agents in its order
            waiting = sorted(coord.deps.waiting)[:20]
            schedule = {
                t: ScheduledTask(agent=f"a{k % 5}", start=float(20 - k), finish=float(21 - k))
                for k, t in enumerate(waiting)
            }
            plan = Plan(assignments={t: s.agent for t, s in schedule.items()}, schedule=schedule)
            lines.append(f"plan {coord.apply_plan(plan).waiting_planned}")
        for _ in range(i % 4 != 3):  # fewer pulls than submits: a backlog, tasks wait
            agent = f"a{(j * 7) % n_agents}"
            j += 1
            task = coord.next_for(agent)
            lines.append(f"{agent}<{None if task is None else task.id}")
            if task is None:
                continue
            if task.id in doomed:
                coord.fail(task.id, agent, "boom")  # the second failure dead-letters it
            else:
                coord.complete(task.id, agent)
        if not i & 63:
            clock.now += 0.01
            coord.tick()
    coord.validate()
    lines.append(repr(sorted(coord.deps.blocked_by.items())))
    lines.append(repr(coord.snapshot()))
    return "\n".join(lines)


def test_the_decision_trace_with_dependencies_is_unchanged() -> None:
    digest = hashlib.sha256(_trace().encode()).hexdigest()
    assert digest == BEFORE


def test_the_trace_sees_holds_plans_and_releases() -> None:
    # The fingerprint only guards what the workload exercises: check it does.
    text = _trace()
    assert "plan 20" in text
    assert text.count("<t") > 900
    held = text.splitlines()[-2]
    assert held.startswith("[(") and "'t" in held


def test_a_task_with_many_dependants_releases_them_all_by_rank() -> None:
    # Past a few dependants their storage changes (tuple -> list); order and holds do not.
    coord = Coordinator(CoordinatorConfig(placement="global", max_retries=0), clock=lambda: 0.0)
    coord.register_agent(AgentSpec("a0"))
    coord.submit(TaskSpec("root"))
    coord.submit(TaskSpec("doomed"))
    works = [float((k * 7) % 5 + 1) for k in range(20)]
    for k, work in enumerate(works):
        after = ("root", "doomed") if k == 13 else ("root",)
        coord.submit(TaskSpec(f"k{k}", work=work, after=after))
    assert len(coord.tasks["root"].kids or ()) == 20
    first = coord.next_for("a0")
    assert first is not None and first.id == "root"
    assert coord.complete("root", "a0") is None  # releases all but k13
    coord.validate()
    task = coord.next_for("a0")
    assert task is not None and task.id == "doomed"
    assert coord.fail("doomed", "a0") is None  # dead-lettered: k13 is held
    coord.validate()
    assert coord.deps.blocked_by == {"k13": "doomed"}
    order = [t.id for t in coord.global_queue.tasks()]
    expected = sorted((f"k{k}" for k in range(20) if k != 13), key=lambda t: -works[int(t[1:])])
    assert order == expected  # highest rank (here: own work) first, ties in submit order
