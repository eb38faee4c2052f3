"""The online coordinator: queues, pull dispatch, work stealing, breakers, leases, KPIs.

Construct a `Coordinator` with a queue discipline and a steal policy, feed it events
(`handle`) or call its hot-path methods; operators change it with `tune()` and read it
with `snapshot()`. Adaptive rebalancing emits `ResolveRequested`; answer it (outside the
core) with `answer_request(request, resolver)` and feed the result back.
"""

from allocator.coordinator.admission import EdfAdmission
from allocator.coordinator.breaker import CLOSED, HALF_OPEN, OPEN, BreakerConfig, CircuitBreaker
from allocator.coordinator.config import PLACEMENTS, CoordinatorConfig
from allocator.coordinator.core import Coordinator
from allocator.coordinator.durable import DurableState, DurableTask
from allocator.coordinator.errors import (
    AdmissionError,
    CoordinatorError,
    DependencyError,
    UnknownAgentError,
)
from allocator.coordinator.estimates import RuntimeEstimates
from allocator.coordinator.events import (
    Accepted,
    AgentRemoved,
    ApplyPlan,
    Assign,
    BreakerChanged,
    Command,
    Completed,
    CompleteTask,
    CompletionRejected,
    DeadLettered,
    Event,
    FailTask,
    Heartbeat,
    HeartbeatMissed,
    Held,
    Migrated,
    NoWork,
    PlanApplied,
    Pull,
    Rebalance,
    Rebalanced,
    RegisterAgent,
    Rejected,
    RemoveAgent,
    Requeued,
    ResolveDeclined,
    ResolveRequested,
    SubmitTask,
    Tick,
)
from allocator.coordinator.kpis import Metrics, jain_index
from allocator.coordinator.live_settings import LiveSettings, TuningError
from allocator.coordinator.operator_view import AgentView, CoordinatorSnapshot
from allocator.coordinator.plans import PlanResult
from allocator.coordinator.queues import DISCIPLINES, make_queue_factory
from allocator.coordinator.rebalancing import STRATEGIES, Outcome
from allocator.coordinator.records import (
    AgentRecord,
    AgentSpec,
    TaskRecord,
    TaskSpec,
    agent_spec_from_model,
    task_spec_from_model,
)
from allocator.coordinator.resolution import Resolver, answer_request, build_problem, judge_plan
from allocator.coordinator.stealing import (
    STEAL_POLICIES,
    HeaviestVictim,
    LocalityAware,
    NoStealing,
    RandomStealHalf,
    StealParams,
    StealPolicy,
    make_steal_policy,
)
from allocator.coordinator.tokens import TokenLedger, TokenTotals, UsageLine

__all__ = [
    "CLOSED",
    "DISCIPLINES",
    "HALF_OPEN",
    "OPEN",
    "PLACEMENTS",
    "STEAL_POLICIES",
    "STRATEGIES",
    "Accepted",
    "AdmissionError",
    "AgentRecord",
    "AgentRemoved",
    "AgentSpec",
    "AgentView",
    "ApplyPlan",
    "Assign",
    "BreakerChanged",
    "BreakerConfig",
    "CircuitBreaker",
    "Command",
    "CompleteTask",
    "Completed",
    "CompletionRejected",
    "Coordinator",
    "CoordinatorConfig",
    "CoordinatorError",
    "CoordinatorSnapshot",
    "DeadLettered",
    "DependencyError",
    "DurableState",
    "DurableTask",
    "EdfAdmission",
    "Event",
    "FailTask",
    "Heartbeat",
    "HeartbeatMissed",
    "HeaviestVictim",
    "Held",
    "LiveSettings",
    "LocalityAware",
    "Metrics",
    "Migrated",
    "NoStealing",
    "NoWork",
    "Outcome",
    "PlanApplied",
    "PlanResult",
    "Pull",
    "RandomStealHalf",
    "Rebalance",
    "Rebalanced",
    "RegisterAgent",
    "Rejected",
    "RemoveAgent",
    "Requeued",
    "ResolveDeclined",
    "ResolveRequested",
    "Resolver",
    "RuntimeEstimates",
    "StealParams",
    "StealPolicy",
    "SubmitTask",
    "TaskRecord",
    "TaskSpec",
    "Tick",
    "TokenLedger",
    "TokenTotals",
    "TuningError",
    "UnknownAgentError",
    "UsageLine",
    "agent_spec_from_model",
    "answer_request",
    "build_problem",
    "jain_index",
    "judge_plan",
    "make_queue_factory",
    "make_steal_policy",
    "task_spec_from_model",
]
