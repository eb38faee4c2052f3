"""The allocation problem as data, and what a plan scores (no solver, no web)."""

from models.compiled import CompiledProblem, ObjectiveSpec, compile_problem
from models.errors import InputError, ProblemFormatError
from models.evaluation import Evaluation, Violation, evaluate_plan, scalar_score
from models.gap_reader import GapInstance, gap_to_problem, read_gap_file
from models.plan import Plan, plan_from_array, plan_to_array
from models.run_options import RunOptions
from models.schema import (
    OBJECTIVE_NAMES,
    Agent,
    Communication,
    ConstraintGroup,
    Link,
    Objectives,
    PriorityClass,
    Problem,
    Task,
    Topology,
    TopologyNode,
)

__all__ = [
    "OBJECTIVE_NAMES",
    "Agent",
    "Communication",
    "CompiledProblem",
    "ConstraintGroup",
    "Evaluation",
    "GapInstance",
    "InputError",
    "Link",
    "ObjectiveSpec",
    "Objectives",
    "Plan",
    "PriorityClass",
    "Problem",
    "ProblemFormatError",
    "RunOptions",
    "Task",
    "Topology",
    "TopologyNode",
    "Violation",
    "compile_problem",
    "evaluate_plan",
    "gap_to_problem",
    "plan_from_array",
    "plan_to_array",
    "read_gap_file",
    "scalar_score",
]
