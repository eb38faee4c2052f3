"""The workflow engine's CP-SAT effort: branches and deterministic time in its note,
in the form `bench.workflow --prove` reads, and the same numbers as the CP-SAT phase."""

from __future__ import annotations

import numpy as np

from bench.workflow import _CP_EFFORT
from models import compile_problem
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions
from solvers.registry import get_solver
from solvers.workflow.cpsat_schedule import solve_schedule
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import list_schedule, priority_order, upward_ranks
from solvers.workflow.rules import PlacementRules


def test_outcome_counts_the_search() -> None:
    problem = compile_problem(generate_workflow_problem(12, 3, 1.0, 2))
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    warm = list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))
    assert warm is not None
    outcome = solve_schedule(problem, graph, warm, 20.0, 1, 0)
    assert outcome.proven  # a 12 x 3 workflow is proven well within 20 s
    assert outcome.branches > 0 and outcome.deterministic_s > 0


def test_engine_note_reports_the_effort() -> None:
    problem = compile_problem(generate_workflow_problem(12, 3, 5.0, 0))
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=5.0, workers=1))
    found = [m for m in map(_CP_EFFORT.search, result.notes) if m]
    assert len(found) == 1
    branches, deterministic_s = int(found[0].group(1)), float(found[0].group(2))
    assert branches >= 0 and np.isfinite(deterministic_s) and deterministic_s >= 0
