"""SimPy simulation of the coordinator core: workloads, traces, policy comparison."""

from allocator.simulation.compare import compare_policies
from allocator.simulation.driver import SimResult, simulate
from allocator.simulation.policies import DEFAULT_POLICIES, POLICY_NAMES, SimPolicy, policy_by_name
from allocator.simulation.trace import read_trace
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
    "Fault",
    "SimPolicy",
    "SimResult",
    "Workload",
    "compare_policies",
    "failing_agent_workload",
    "fairness_workload",
    "lower_bound_s",
    "poisson_workload",
    "policy_by_name",
    "read_trace",
    "simulate",
    "skewed_workload",
]
