"""Hypothesis state machines: random event sequences, `validate()` after every step.

Five machines (one per queue discipline, each with a different steal policy and
placement) run 60 examples of up to 50 steps: over 10,000 steps in CI, in seconds.
Beyond `validate()`, the model checks nothing is lost or completed twice, no task
completes before its predecessors (`after`), and the token ledger equals what was reported.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from allocator.coordinator import (
    AdmissionError,
    AgentSpec,
    ApplyPlan,
    BreakerConfig,
    Coordinator,
    CoordinatorConfig,
    ResolveDeclined,
    ResolveRequested,
    TaskSpec,
)
from models import Plan, Problem
from models.plan import ScheduledTask

STEPS: dict[str, int] = {}
CAPS = ("gpu", "ssd")
NODES = ("n0", "n1", "n2")
DISTANCE = {a: {b: float(abs(i - j)) for j, b in enumerate(NODES)} for i, a in enumerate(NODES)}


class CoordinatorMachine(RuleBasedStateMachine):
    queue = "fifo"
    steal = "heaviest"
    placement = "global"

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        cfg = CoordinatorConfig(
            placement=self.placement,  # type: ignore[arg-type]
            lease_timeout_s=20.0,
            heartbeat_timeout_s=8.0,
            max_retries=2,
            breaker=BreakerConfig(
                minimum_calls=3,
                window_size=5,
                wait_open_s=3.0,
                half_open_calls=1,
                max_half_open_s=5.0,
            ),
        )
        self.coord = Coordinator(
            cfg,
            queue=self.queue,
            steal=self.steal,
            clock=lambda: self.now,
            distance_ms=DISTANCE,
            tenant_weights={"a": 2.0, "b": 1.0},
        )
        self.accepted: set[str] = set()
        self.completed: set[str] = set()
        self.next_task = 0
        self.next_agent = 0
        self.requests: list[ResolveRequested] = []
        self.after: dict[str, tuple[str, ...]] = {}
        self.tokens = 0

    def _step(self) -> None:
        STEPS[type(self).__name__] = STEPS.get(type(self).__name__, 0) + 1

    @initialize(n=st.integers(1, 3))
    def start(self, n: int) -> None:
        for _ in range(n):
            self.add_agent(speed=1.0, caps=[], node=0)

    @rule(
        speed=st.sampled_from([0.5, 1.0, 3.0]),
        caps=st.lists(st.sampled_from(CAPS), max_size=2),
        node=st.integers(0, 2),
    )
    def add_agent(self, speed: float, caps: list[str], node: int) -> None:
        if len(self.coord.agents) >= 6:
            return
        self.next_agent += 1
        self.coord.register_agent(
            AgentSpec(
                f"a{self.next_agent}", speed=speed, node=NODES[node], capabilities=frozenset(caps)
            )
        )

    @precondition(lambda self: len(self.coord.agents) > 1)
    @rule(data=st.data())
    def remove_agent(self, data: st.DataObject) -> None:
        self.coord.remove_agent(data.draw(st.sampled_from(sorted(self.coord.agents))))

    @rule(
        work=st.sampled_from([0.1, 1.0, 5.0, None]),
        priority=st.integers(0, 3),
        tenant=st.sampled_from("ab"),
        caps=st.lists(st.sampled_from(CAPS), max_size=1),
        pin=st.booleans(),
        group=st.sampled_from([None, None, "g1"]),
        kind=st.sampled_from([None, "k"]),
        deadline=st.sampled_from([None, 50.0, 1e6]),
        preds=st.lists(st.integers(0, 30), max_size=2),
    )
    def submit(
        self,
        work: float | None,
        priority: int,
        tenant: str,
        caps: list[str],
        pin: bool,
        group: str | None,
        kind: str | None,
        deadline: float | None,
        preds: list[int],
    ) -> None:
        self.next_task += 1
        tid = f"t{self.next_task}"
        known = sorted(self.accepted)
        after = tuple(sorted({known[i % len(known)] for i in preds})) if known else ()
        pinned = min(self.coord.agents) if pin and self.coord.agents else None
        spec = TaskSpec(
            tid,
            work=work,
            kind=kind,
            priority=priority,
            tenant=tenant,
            requires=frozenset(caps),
            pinned_agent=pinned,
            group=group,
            deadline=None if deadline is None else self.now + deadline,
            after=after,
        )
        try:
            self.coord.submit(spec)
        except AdmissionError:
            return
        self.accepted.add(tid)
        self.after[tid] = after

    @rule(width=st.integers(1, 3), depth=st.integers(1, 3), extra=st.booleans())
    def submit_workflow(self, width: int, depth: int, extra: bool) -> None:
        """A layered batch, each layer after the previous, plus an edge to an old task."""
        base = self.next_task
        self.next_task += width * depth
        old = (min(self.accepted),) if extra and self.accepted else ()
        specs = [
            TaskSpec(
                f"t{base + layer * width + i + 1}",
                work=1.0 + i,
                after=tuple(f"t{base + (layer - 1) * width + j + 1}" for j in range(width))
                if layer
                else old,
            )
            for layer in range(depth)
            for i in range(width)
        ]
        accepted, _rejected = self.coord.submit_all(specs[::-1])  # order must not matter
        for spec in specs:
            if spec.id in accepted:
                self.accepted.add(spec.id)
                self.after[spec.id] = spec.after

    @precondition(lambda self: bool(self.coord.agents))
    @rule(data=st.data())
    def pull(self, data: st.DataObject) -> None:
        agent = data.draw(st.sampled_from(sorted(self.coord.agents)))
        task = self.coord.next_for(agent)
        if task is not None:
            assert task.agent is not None and task.agent.id == agent

    def _leased(self) -> list[tuple[str, str]]:
        return sorted(
            (t.id, t.agent.id)
            for t in self.coord.tasks.values()
            if t.state == 2 and t.agent is not None
        )

    @precondition(lambda self: any(a.leases for a in self.coord.agents.values()))
    @rule(data=st.data(), runtime=st.sampled_from([None, 0.1, 100.0]))
    def complete(self, data: st.DataObject, runtime: float | None) -> None:
        task_id, agent_id = data.draw(st.sampled_from(self._leased()))
        tokens = data.draw(st.sampled_from([None, 0, 250]))
        assert set(self.after.get(task_id, ())) <= self.completed  # predecessors first
        assert self.coord.complete(task_id, agent_id, runtime, tokens) is None
        self.tokens += tokens or 0
        assert task_id not in self.completed
        self.completed.add(task_id)

    @precondition(lambda self: any(a.leases for a in self.coord.agents.values()))
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        task_id, agent_id = data.draw(st.sampled_from(self._leased()))
        assert self.coord.fail(task_id, agent_id, "boom") is None

    @precondition(lambda self: bool(self.completed))
    @rule(data=st.data())
    def duplicate_completion(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.completed)))
        agent = min(self.coord.agents) if self.coord.agents else "x"
        assert self.coord.complete(task_id, agent) is not None

    @rule(seconds=st.sampled_from([0.5, 2.0, 9.0, 25.0]))
    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.coord.tick()

    @precondition(lambda self: bool(self.coord.agents))
    @rule(data=st.data())
    def heartbeat(self, data: st.DataObject) -> None:
        agent = data.draw(st.sampled_from(sorted(self.coord.agents)))
        if data.draw(st.booleans()):
            self.coord.heartbeat(agent)
        else:
            self.coord.heartbeat_missed(agent)

    @precondition(
        lambda self: bool(self.coord.tasks or self.coord.deps.waiting) and bool(self.coord.agents)
    )
    @rule(data=st.data())
    def apply_plan(self, data: st.DataObject) -> None:
        ids = sorted(self.coord.tasks) + sorted(self.coord.deps.waiting)
        agents = sorted(self.coord.agents)
        chosen = data.draw(st.lists(st.sampled_from(ids), max_size=4, unique=True))
        plan = {t: data.draw(st.sampled_from(agents)) for t in chosen}
        schedule = None
        if data.draw(st.booleans()):  # with a schedule: waiting tasks get a planned start
            schedule = {
                t: ScheduledTask(agent=a, start=float(i), finish=float(i) + 1.0)
                for i, (t, a) in enumerate(plan.items())
            }
        self.coord.apply_plan(Plan(assignments=plan, schedule=schedule))

    @rule(strategy=st.sampled_from(["threshold", "adaptive"]))
    def rebalance(self, strategy: str) -> None:
        outcome = self.coord.rebalance(strategy)
        if outcome.request is not None:
            self.requests.append(outcome.request)

    @precondition(lambda self: bool(self.requests))
    @rule(declined=st.booleans())
    def answer_resolve(self, declined: bool) -> None:
        """Answer the re-solve, usually after other steps changed the queues (stale plan)."""
        request = self.requests.pop()
        answer: ApplyPlan | ResolveDeclined
        if declined:
            answer = ResolveDeclined(request.request_id, "test declines")
        else:
            answer = ApplyPlan(_round_robin(request.problem), request.request_id)
        outcome = self.coord.answer_resolve(answer)
        assert outcome.applied is not declined
        assert self.coord.snapshot().resolve_in_flight is None

    @rule(
        lease=st.sampled_from([5.0, 20.0, 40.0]),
        prefetch=st.integers(0, 3),
        threshold=st.integers(1, 4),
        retries=st.integers(0, 3),
    )
    def tune(self, lease: float, prefetch: int, threshold: int, retries: int) -> None:
        settings = self.coord.tune(
            lease_timeout_s=lease,
            prefetch=prefetch,
            steal_threshold=threshold,
            max_retries=retries,
            aging_s=lease,
        )
        assert settings.lease_timeout_s == lease and settings.prefetch == prefetch

    @invariant()
    def valid(self) -> None:
        self._step()
        self.coord.validate()
        c = self.coord
        parked = set(c.deps.waiting) | set(c.deps.held)
        assert set(c.tasks) | c.done | set(c.dead) | parked == self.accepted  # nothing lost
        assert c.done == self.completed  # each completion counted exactly once
        for task_id in c.deps.held:  # held only behind a predecessor that died
            assert c.deps.blocked_by[task_id] in c.dead
        assert c.tokens.total.tokens == self.tokens
        self.coord.drain_commands()


def _round_robin(problem: Problem) -> Plan:
    agents = [a.id for a in problem.agents]
    return Plan(assignments={t.id: agents[i % len(agents)] for i, t in enumerate(problem.tasks)})


FAST = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class FifoHeaviestGlobal(CoordinatorMachine):
    queue, steal, placement = "fifo", "heaviest", "global"


class PriorityStealHalfLeastLoaded(CoordinatorMachine):
    queue, steal, placement = "priority", "steal_half", "least_loaded"


class CfsLocalityRoundRobin(CoordinatorMachine):
    queue, steal, placement = "cfs", "locality", "round_robin"


class WfqSeedPack(CoordinatorMachine):
    queue, steal, placement = "wfq", "seed", "pack"


class EdfHeaviestLeastLoaded(CoordinatorMachine):
    queue, steal, placement = "edf", "heaviest", "least_loaded"


TestFifoHeaviestGlobal = FifoHeaviestGlobal.TestCase
TestPriorityStealHalfLeastLoaded = PriorityStealHalfLeastLoaded.TestCase
TestCfsLocalityRoundRobin = CfsLocalityRoundRobin.TestCase
TestWfqSeedPack = WfqSeedPack.TestCase
TestEdfHeaviestLeastLoaded = EdfHeaviestLeastLoaded.TestCase
for _case in (
    TestFifoHeaviestGlobal,
    TestPriorityStealHalfLeastLoaded,
    TestCfsLocalityRoundRobin,
    TestWfqSeedPack,
    TestEdfHeaviestLeastLoaded,
):
    _case.settings = FAST


def test_zz_enough_random_steps_ran() -> None:
    """When every machine ran (a full run), at least 10,000 steps were validated."""
    if len(STEPS) == 5:
        assert sum(STEPS.values()) >= 10_000, STEPS
