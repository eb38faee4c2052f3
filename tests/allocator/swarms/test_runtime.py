"""The swarm runtime: a re-solve runs with the swarm's lock released, then its plan applies."""

from __future__ import annotations

import threading

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from allocator.swarms import RebalanceRecord, SwarmRuntime
from models import Plan, Problem


def _one_busy_agent(resolver: object = None) -> SwarmRuntime:
    clock = [0.0]
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded"),
        clock=lambda: clock[0],
        agents=[AgentSpec("a0")],
    )
    for i in range(20):
        coord.submit(TaskSpec(f"t{i}"))
    coord.register_agent(AgentSpec("a1"))
    return SwarmRuntime("s", coord, resolver)  # type: ignore[arg-type]


def _spread(problem: Problem, max_moves: int | None = None) -> Plan:
    agents = [a.id for a in problem.agents]
    return Plan(assignments={t.id: agents[i % len(agents)] for i, t in enumerate(problem.tasks)})


def _head_to_a1(problem: Problem) -> Plan:
    """The first half of a0's FIFO queue (what a0 would start next) moves to a1."""
    half = len(problem.tasks) // 2
    return Plan(assignments={t.id: "a1" if k < half else "a0" for k, t in enumerate(problem.tasks)})


def test_pulls_and_heartbeats_go_on_while_a_resolve_is_in_flight() -> None:
    order: list[str] = []
    solving, release = threading.Event(), threading.Event()

    def slow_resolver(problem: Problem, max_moves: int | None = None) -> Plan:
        order.append("solve started")
        solving.set()
        if not release.wait(timeout=60):  # a safety net: the test releases it
            raise RuntimeError("never released")
        order.append("solve finished")
        return _head_to_a1(problem)

    runtime = _one_busy_agent(slow_resolver)
    records: list[RebalanceRecord] = []
    rebalancer = threading.Thread(
        target=lambda: records.append(runtime.rebalance("adaptive", tolerance=0.2))
    )
    rebalancer.start()
    assert solving.wait(timeout=60)
    assert runtime.view().resolve_in_flight == 1

    served = threading.Event()
    leased: list[str] = []

    def agent_calls() -> None:
        leased.extend(t.id for t in runtime.pull("a0", 2).tasks)
        runtime.heartbeat("a1")
        order.append("pull and heartbeat served")
        served.set()

    caller = threading.Thread(target=agent_calls)
    caller.start()
    # Had the solve held the swarm's lock, the calls would wait for `release` forever.
    served_while_solving = served.wait(timeout=60)
    release.set()
    caller.join(timeout=60)
    rebalancer.join(timeout=60)
    assert served_while_solving
    assert order == ["solve started", "pull and heartbeat served", "solve finished"]

    (record,) = records
    assert record.strategy == "adaptive" and record.applied, record.detail
    assert record.migrations == len(record.moves) > 0
    assert {m["reason"] for m in record.moves} == {"rebalance"}
    assert not {m["task"] for m in record.moves} & set(leased)  # running tasks stay put
    assert "2 planned tasks skipped" in record.detail  # a0 started them while it solved
    assert record.migrations == 8
    snapshot = runtime.view()
    assert snapshot.resolve_in_flight is None
    assert sum(a.queued + a.leased for a in snapshot.agents) == 20  # nothing lost
    runtime.coordinator.validate()


def test_a_second_adaptive_request_waits_for_the_first() -> None:
    solving, release = threading.Event(), threading.Event()

    def slow_resolver(problem: Problem, max_moves: int | None = None) -> Plan:
        solving.set()
        release.wait(timeout=60)
        return _spread(problem)

    runtime = _one_busy_agent(slow_resolver)
    first = threading.Thread(target=runtime.rebalance, args=("adaptive", 0.2))
    first.start()
    assert solving.wait(timeout=60)
    second = runtime.rebalance("adaptive", 0.2)  # answered at once, no second solve
    release.set()
    first.join(timeout=60)
    assert not second.applied and "still in flight" in second.detail


def test_without_a_resolver_adaptive_falls_back_to_threshold() -> None:
    runtime = _one_busy_agent()
    record = runtime.rebalance("adaptive", 0.2)
    assert record.strategy == "adaptive" and "no resolver configured" in record.detail
    assert record.migrations > 0 and {m["reason"] for m in record.moves} == {"rebalance"}


def test_max_moves_caps_what_an_adaptive_run_moves() -> None:
    runtime = _one_busy_agent(_spread)  # the plan wants 10 moves
    record = runtime.rebalance("adaptive", 0.2, max_moves=3)
    assert record.applied and record.migrations == len(record.moves) == 3, record.detail
    assert "max_moves 3" in record.detail
