"""The tiny-budget rule: below `greedy_alone_below` the automatic choice is the greedy
alone, except for workflows and Pareto fronts; named solvers are always honoured."""

from __future__ import annotations

from models import RunOptions, compile_problem
from models.generators.instances import generate_attribute_problem
from models.generators.workflow import generate_workflow_problem
from solvers.portfolio import run_portfolio
from solvers.portfolio.solver_choice import choose_solvers, greedy_alone_below

_NAMES = ["greedy", "cpsat", "milp", "lns", "nsga2", "lp_bound", "heft"]


def test_the_threshold_grows_with_size_and_stops_at_the_sizes_measured() -> None:
    sizes = [100, 4_000, 20_000]
    below = [greedy_alone_below(p) for p in sizes]
    assert below == sorted(below)
    assert 0.5 < below[0] < 1.0
    assert max(below) <= 2.0
    assert greedy_alone_below(20_001) == 0.0


def test_a_limit_below_the_threshold_runs_the_greedy_alone_and_says_why() -> None:
    compiled = compile_problem(generate_attribute_problem(20, 5, seed=0))
    below = greedy_alone_below(int(compiled.eligible.sum()))
    short = choose_solvers(compiled, None, _NAMES, time_limit_s=below / 2)
    assert short.run == ["greedy"]
    assert all("time limit" in why for n, why in short.skipped.items() if n in ("milp", "lns"))
    usual = choose_solvers(compiled, None, _NAMES, time_limit_s=below + 1.0)
    assert usual == choose_solvers(compiled, None, _NAMES)
    assert len(usual.run) > 1
    named = choose_solvers(compiled, ["greedy", "milp"], _NAMES, time_limit_s=0.1)
    assert named.run == ["greedy", "milp"]


def test_workflows_and_pareto_fronts_keep_their_solvers_at_any_limit() -> None:
    workflow = compile_problem(generate_workflow_problem(12, 3, ccr=5, seed=2))
    assert "heft" in choose_solvers(workflow, None, _NAMES, time_limit_s=0.1).run
    problem = generate_attribute_problem(20, 5, seed=0)
    objectives = problem.objectives.model_copy(update={"mode": "pareto"})
    pareto = compile_problem(problem.model_copy(update={"objectives": objectives}))
    assert len(choose_solvers(pareto, None, _NAMES, time_limit_s=0.1).run) > 1


def test_the_portfolio_applies_the_rule_and_reports_the_others_as_skipped() -> None:
    report = run_portfolio(generate_attribute_problem(20, 5, seed=1), RunOptions(time_limit_s=0.3))
    ran = [run.name for run in report.solvers if run.status != "skipped"]
    assert ran == ["greedy"]
    assert report.status == "solved"
