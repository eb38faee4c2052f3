"""The workflow CP-SAT model's hint: complete (every variable, including the "same agent"
literals of the edges) and feasible, so CP-SAT starts from the warm schedule."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from models import compile_problem
from models.generators.workflow import generate_workflow_problem
from solvers.workflow.cpsat_model import build_model
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import list_schedule, priority_order, upward_ranks
from solvers.workflow.rules import PlacementRules


@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 0), (5.0, 3)])
def test_hint_is_complete_and_feasible(ccr: float, seed: int) -> None:
    problem = compile_problem(generate_workflow_problem(12, 3, ccr, seed))
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    warm = list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))
    assert warm is not None
    allowed = [list(range(graph.m)) for _ in range(graph.n)]
    built = build_model(problem, graph, warm, 1_000_000, allowed)
    proto = built.model.proto
    hinted = set(proto.solution_hint.vars)
    assert len(proto.variables) > len(built.use) + 2 * graph.n + 1  # "same" literals exist
    assert hinted == set(range(len(proto.variables)))
    # Fixed to the hint, the model is solved without search: the hint is a solution.
    built.model.minimize(built.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.fix_variables_to_their_hinted_value = True
    assert solver.solve(built.model) == cp_model.OPTIMAL
    assert solver.value(built.makespan) <= built.units(warm.makespan) + graph.n
