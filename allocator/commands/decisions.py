"""CLI: `evaluate`, `explain`, `recommend` and `diff` on plans in the format `solve --out` writes.

Exit codes: 0 ok, 2 bad input (one readable line), 3 the evaluated plan breaks a
hard constraint. `--json` prints one JSON document on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from allocator.cli_rich import new_console, new_table
from models.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["has_replan_fields", "read_json_file", "register", "replan_command"]

EXIT_VIOLATIONS = 3

ProblemArg = Annotated[Path, typer.Argument(help="Problem JSON or OR-Library GAP file.")]
PlanArg = Annotated[Path, typer.Argument(help="Plan JSON as `solve --out` writes it.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def read_json_file(path: Path) -> Any:
    """A JSON document from a file; a missing file or bad JSON is one readable line."""
    if not path.is_file():
        raise InputError("file not found; check the path", source=str(path))
    try:
        return json.loads(path.read_text(errors="replace"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=str(path)
        ) from exc


def _with_source(path: Path, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `call`, prefixing a plan/task error with the file it came from."""
    try:
        return call(*args, **kwargs)
    except InputError as exc:
        if exc.source is None:
            raise InputError(str(exc), source=str(path)) from exc
        raise


def _emit(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document) + "\n")


def _fmt(value: float) -> str:
    return f"{value + 0.0:.6g}"  # + 0.0 prints -0.0 as 0


def register(app: typer.Typer) -> None:
    app.command()(evaluate)
    app.command()(explain)
    app.command()(recommend)
    app.command()(diff)


def evaluate(problem_file: ProblemArg, plan_file: PlanArg, as_json: JsonOpt = False) -> None:
    """Score a plan: every objective, the weighted score, coded violations, loads."""
    from allocator.decisions import evaluate_request
    from allocator.problem_files import load_problem

    problem = load_problem(problem_file)
    result = _with_source(plan_file, evaluate_request, problem, read_json_file(plan_file))
    if as_json:
        _emit(result)
    else:
        console = new_console()
        console.print(f"score {_fmt(result['score'])}; feasible: {result['feasible']}")
        objs = ", ".join(f"{k}={_fmt(v)}" for k, v in result["objectives"].items() if v)
        console.print(f"objectives: {objs or 'all 0'}")
        for v in result["violations"]:
            console.print(f"  [{v['code']}] {v['message']}", markup=False)
    if not result["feasible"]:
        raise typer.Exit(EXIT_VIOLATIONS)


def explain(
    problem_file: ProblemArg,
    plan_file: PlanArg,
    task: Annotated[
        list[str] | None, typer.Option("--task", help="Explain only this task (repeatable).")
    ] = None,
    alternatives: Annotated[int, typer.Option("--alternatives", help="Best agents shown.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Why each task is where it is: contributions, best alternatives, coded blockers."""
    from allocator.decisions import explain_request
    from allocator.problem_files import load_problem

    problem = load_problem(problem_file)
    plan = read_json_file(plan_file)
    result = _with_source(plan_file, explain_request, problem, plan, task, alternatives)
    if as_json:
        _emit(result)
        return
    console = new_console()
    for task_id, info in result["tasks"].items():
        where = info["agent"] or "unassigned"
        share = _fmt(info["score_contribution"])
        console.print(f"[bold]{task_id}[/bold] on {where}: adds {share} to the score")
        for alt in info["alternatives"]:
            console.print(f"  -> {alt['agent']}: score {alt['score_delta']:+.6g}", markup=False)
        for agent_id, reasons in list(info["blocked"].items())[:5]:
            text = "; ".join(r["message"] for r in reasons)
            console.print(f"  x {agent_id}: {text}", markup=False)
        if len(info["blocked"]) > 5:
            console.print(f"  x ... {len(info['blocked']) - 5} more agents blocked (see --json)")
    _print_agents(console, result["agents"])


def _print_agents(console: Console, agents: dict[str, Any]) -> None:
    table = new_table(title="Agents: binding resources and slack")
    for col in ("agent", "tasks", "binding", "slack"):
        table.add_column(col)
    for agent_id, info in agents.items():
        slack = ", ".join(f"{k}={_fmt(v)}" for k, v in info["slack"].items())
        table.add_row(agent_id, str(info["tasks"]), ", ".join(info["binding"]) or "-", slack)
    console.print(table)


def recommend(
    problem_file: ProblemArg,
    plan_file: PlanArg,
    task: Annotated[
        Path | None, typer.Option("--task", help="Task JSON (or {task, communication}).")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Which tasks would best go to this agent.")
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="Show the best K.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rank agents for a new task (exact score_delta), or tasks for one agent (--agent)."""
    from allocator.decisions import recommend_request
    from allocator.problem_files import load_problem

    if (task is None) == (agent is None):
        raise InputError("give exactly one of --task TASK.json or --agent ID")
    problem = load_problem(problem_file)
    plan = read_json_file(plan_file)
    task_doc = read_json_file(task) if task is not None else None
    source = task if task is not None else plan_file
    result = _with_source(
        source, recommend_request, problem, plan, task=task_doc, agent=agent, top=top
    )
    if as_json:
        _emit(result)
        return
    table = new_table(title=f"Recommendations for {result.get('task') or 'agent ' + str(agent)}")
    for col in ("agent", "task", "feasible", "score_delta", "reasons"):
        table.add_column(col)
    for rec in result["recommendations"]:
        reasons = "; ".join(r["message"] for r in rec["reasons"])
        table.add_row(
            rec["agent"],
            rec.get("task", result.get("task", "")),
            "yes" if rec["feasible"] else "no",
            f"{rec['score_delta']:+.6g}",
            reasons or "-",
        )
    new_console().print(table)


def diff(
    problem_file: ProblemArg,
    plan_a: Annotated[Path, typer.Argument(help="The earlier plan.")],
    plan_b: Annotated[Path, typer.Argument(help="The later plan.")],
    as_json: JsonOpt = False,
) -> None:
    """What changed from PLAN_A to PLAN_B: moves, additions, drops, score and loads."""
    from allocator.decisions import diff_request
    from allocator.problem_files import load_problem

    problem = load_problem(problem_file)
    result = diff_request(problem, read_json_file(plan_a), read_json_file(plan_b))
    if as_json:
        _emit(result)
        return
    console = new_console()
    console.print(
        f"{len(result['moved'])} moved, {len(result['added'])} added, "
        f"{len(result['dropped'])} dropped; score {_fmt(result['score_a'])} -> "
        f"{_fmt(result['score_b'])} ({result['score_delta']:+.6g})"
    )
    for move in result["moved"]:
        console.print(f"  {move['task']}: {move['from']} -> {move['to']}", markup=False)
    for add in result["added"]:
        console.print(f"  {add['task']}: + {add['to']}", markup=False)
    for drop in result["dropped"]:
        console.print(f"  {drop['task']}: - {drop['from']}", markup=False)


def replan_command(
    problem_file: Path,
    from_plan: Path | None,
    max_moves: int | None,
    pins: list[str] | None,
    time_limit: float | None,
    as_json: bool,
    out: Path | None,
) -> None:
    """`solve --from-plan`, or a request document with `previous_plan`: re-plan with a
    move budget and print the new plan's diff. Flags override the document's fields."""
    from allocator.cli_options import EXIT_LIMIT_MISSED, CommandClock, solve_budget
    from allocator.problem_files import parse_request
    from allocator.replanning import replan, split_replan_fields
    from models import Plan, RunOptions

    clock = CommandClock.now()  # --time-limit: see allocator.cli_options
    loading = time.perf_counter()

    if max_moves is not None and max_moves < 0:
        raise InputError(f"--max-moves is {max_moves}; use 0 or more")
    if time_limit is not None and time_limit <= 0:
        raise InputError(f"--time-limit is {time_limit}; use a positive number of seconds")
    rest, request = split_replan_fields(read_json_file(problem_file))
    if request is not None and request.previous_job is not None:
        raise InputError(
            "names a service job; give previous_plan or --from-plan", field="previous_job"
        )
    problem, options = _with_source(problem_file, parse_request, rest)
    previous = request.previous_plan if request is not None else None
    if from_plan is not None:
        try:
            previous = Plan.model_validate(read_json_file(from_plan))
        except ValidationError as exc:
            raise InputError(
                'use the format `solve --out` writes: {"assignments": {task: agent}}',
                source=str(from_plan),
            ) from exc
    if previous is None:
        raise InputError("give --from-plan PLAN or previous_plan in the document")
    if request is not None:
        max_moves = max_moves if max_moves is not None else request.max_moves
        pins = pins or request.pinned
    limit = time_limit if time_limit is not None else options.time_limit_s
    clock = CommandClock(clock.started, time.perf_counter() - loading)
    pairs = len(problem.tasks) * len(problem.agents)
    # Not validated: the re-plan takes any positive limit (checked above).
    budget = solve_budget(RunOptions.model_construct(time_limit_s=limit), clock, pairs, replan=True)
    sys.stderr.write(budget.line() + "\n")
    result = _with_source(
        problem_file,
        replan,
        problem,
        previous,
        max_moves=max_moves,
        pinned=pins,
        time_limit_s=budget.options.time_limit_s,
    )
    if out is not None:
        out.write_text(json.dumps(result["plan"], indent=1))
    if as_json:
        _emit(result)
    else:
        _print_replan(result, out)
    if not result["feasible"]:
        raise typer.Exit(EXIT_VIOLATIONS)
    if budget.missed:
        sys.stderr.write("time limit missed: the command's start alone took longer\n")
        raise typer.Exit(EXIT_LIMIT_MISSED)


def has_replan_fields(problem_file: Path) -> bool:
    """True when a JSON request document carries re-plan fields (previous_plan, ...)."""
    from allocator.replanning import REPLAN_FIELDS

    if problem_file.suffix.lower() != ".json" or not problem_file.is_file():
        return False
    text = problem_file.read_text(errors="replace")
    if not any(f'"{name}"' in text for name in REPLAN_FIELDS):
        return False  # the usual case, without parsing the file twice
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return False  # the solve path reports it
    return isinstance(document, dict) and any(name in document for name in REPLAN_FIELDS)


def _print_replan(result: dict[str, Any], out: Path | None) -> None:
    console = new_console()
    diff = result["diff"]
    budget = "no limit" if result["max_moves"] is None else str(result["max_moves"])
    console.print(
        f"re-planned: score {_fmt(result['score'])} ({diff['n_changed']} tasks changed); "
        f"{len(result['freed'])} tasks freed, {result['moves_used']} kept tasks moved "
        f"(budget {budget}); {result['wall_time_s']:.2f} s",
        markup=False,
    )
    for task, reason in list(result["freed"].items())[:10]:
        console.print(f"  freed {task}: {reason}", markup=False)
    for move in diff["moved"][:20]:
        console.print(f"  {move['task']}: {move['from']} -> {move['to']}", markup=False)
    for v in result["violations"]:
        console.print(f"  [{v['code']}] {v['message']}", markup=False)
    for note in result["notes"]:
        console.print(f"  note: {note}", markup=False)
    if out is not None:
        console.print(f"wrote {out}", markup=False)
