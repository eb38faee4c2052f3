"""SimPy simulation of the coordinator core: workloads, traces, workflows, policy comparison."""

from allocator.simulation.compare import compare_policies
from allocator.simulation.driver import SimResult, simulate
from allocator.simulation.policies import DEFAULT_POLICIES, POLICY_NAMES, SimPolicy, policy_by_name
from allocator.simulation.trace import read_trace
from allocator.simulation.workflow_driver import (
    WorkflowResult,
    compare_workflow,
    simulate_workflow,
)
from allocator.simulation.workflows import (
    WORKFLOW_SHAPES,
    WorkflowLoad,
    fork_join,
    layered_dag,
    montage,
    online_heft,
    workflow_by_name,
)
from allocator.simulation.workloads import (
    Fault,
    Workload,
    failing_agent_workload,
    fairness_workload,
    lower_bound_s,
    poisson_workload,
    skewed_workload,
)

__all__ = [
    "DEFAULT_POLICIES",
    "POLICY_NAMES",
    "WORKFLOW_SHAPES",
    "Fault",
    "SimPolicy",
    "SimResult",
    "WorkflowLoad",
    "WorkflowResult",
    "Workload",
    "compare_policies",
    "compare_workflow",
    "failing_agent_workload",
    "fairness_workload",
    "fork_join",
    "layered_dag",
    "lower_bound_s",
    "montage",
    "online_heft",
    "poisson_workload",
    "policy_by_name",
    "read_trace",
    "simulate",
    "simulate_workflow",
    "skewed_workload",
    "workflow_by_name",
]
