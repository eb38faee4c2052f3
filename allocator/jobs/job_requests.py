"""Check a job request before it is accepted: schema, solver names and the service's caps.

Everything a user can get wrong is caught here, at submission, as an `InputError`
naming what to change, so an accepted job only fails for reasons of our own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from allocator.jobs.batch_requests import parse_batch_request
from allocator.problem_files import parse_request
from allocator.replan_report import check_replan_request
from allocator.replanning import split_replan_fields
from allocator.store import NewJob
from models import InputError, Problem
from models.numeric_ranges import MAX_INT
from models.run_options import RunOptions
from solvers.registry import SOLVER_NAMES

__all__ = ["JOB_KINDS", "RequestLimits", "canonical_json", "prepare_job"]

JOB_KINDS: tuple[str, ...] = ("allocation", "comparison", "topology", "batch")


@dataclass(frozen=True)
class RequestLimits:
    """Per-request caps; each names the setting that raises it."""

    max_tasks: int = 20_000
    max_agents: int = 2_000
    max_time_limit_s: float = 600.0
    max_batch_instances: int = 100
    max_batch_tasks: int = 100_000


def canonical_json(document: object) -> str:
    """Key-sorted compact JSON: equal documents give equal text (and equal hashes)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)


def prepare_job(
    kind: str, document: object, limits: RequestLimits, idempotency_key: str | None = None
) -> NewJob:
    """Validate `document` for a job of `kind` and return what the store keeps.

    Raises:
        InputError: the request is malformed or exceeds a cap; the message says which.
    """
    if kind == "topology":
        n_agents, n_tasks, time_limit_s = _check_topology(document, limits)
    elif kind in ("allocation", "comparison"):
        n_agents, n_tasks, time_limit_s = _check_allocation(document, limits)
    elif kind == "batch":
        n_agents, n_tasks, time_limit_s = _check_batch(document, limits)
    else:
        raise InputError(f"unknown job kind {kind!r}; use one of {', '.join(JOB_KINDS)}")
    try:
        text = canonical_json(document)
    except ValueError as exc:  # NaN or Infinity cannot be stored as JSON
        raise InputError(f"the document holds a value JSON cannot carry: {exc}") from exc
    return NewJob(
        kind=kind,
        request=text,
        request_sha256=hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest(),
        n_agents=n_agents,
        n_tasks=n_tasks,
        time_limit_s=time_limit_s,
        idempotency_key=idempotency_key,
    )


def _check_allocation(document: object, limits: RequestLimits) -> tuple[int, int, float]:
    document, replan_request = split_replan_fields(document)
    if replan_request is not None:
        check_replan_request(replan_request)
    problem, options = parse_request(document)
    _check_size(problem, limits)
    _check_time_limit(options.time_limit_s, limits)
    check_options(options)
    return len(problem.agents), len(problem.tasks), options.time_limit_s


def check_options(options: RunOptions) -> None:
    """Solver names known, at least one when a list is given, a seed the solvers can use."""
    if options.solvers is not None and not options.solvers:
        raise InputError(
            f"options.solvers is empty; name at least one of {', '.join(SOLVER_NAMES)}, "
            "or leave it out for the automatic choice",
            field="options.solvers",
        )
    unknown = [s for s in options.solvers or () if s not in SOLVER_NAMES]
    if unknown:
        raise InputError(
            f"unknown solver {unknown[0]!r}; choose from: {', '.join(SOLVER_NAMES)}",
            field="options.solvers",
        )
    if options.seed > MAX_INT:
        raise InputError(f"options.seed is {options.seed}; use at most {MAX_INT}", field="seed")


def _check_batch(document: object, limits: RequestLimits) -> tuple[int, int, float]:
    """Every instance is checked like a comparison; the batch's job budget covers them all."""
    batch = parse_batch_request(document, limits.max_batch_instances)
    for index, (_name, problem) in enumerate(batch.instances):
        try:
            _check_size(problem, limits)
        except InputError as exc:
            raise InputError(str(exc), field=f"instances[{index}]") from exc
    if batch.n_tasks > limits.max_batch_tasks:
        raise InputError(
            f"{batch.n_tasks} tasks in all exceed this service's cap of {limits.max_batch_tasks} "
            "per batch (ALLOCATOR_MAX_BATCH_TASKS); split the batch or raise the cap",
            field="instances",
        )
    _check_time_limit(batch.options.time_limit_s, limits)
    check_options(batch.options)
    return batch.n_agents, batch.n_tasks, batch.budget_s


def _check_size(problem: Problem, limits: RequestLimits) -> None:
    if len(problem.tasks) > limits.max_tasks:
        raise InputError(
            f"{len(problem.tasks)} tasks exceed this service's cap of {limits.max_tasks} "
            "per request (ALLOCATOR_MAX_TASKS); split the request or raise the cap",
            field="tasks",
        )
    if len(problem.agents) > limits.max_agents:
        raise InputError(
            f"{len(problem.agents)} agents exceed this service's cap of {limits.max_agents} "
            "per request (ALLOCATOR_MAX_AGENTS); split the request or raise the cap",
            field="agents",
        )


def _check_time_limit(time_limit_s: float, limits: RequestLimits) -> None:
    if time_limit_s > limits.max_time_limit_s:
        raise InputError(
            f"time_limit_s {time_limit_s:g} exceeds this service's cap of "
            f"{limits.max_time_limit_s:g} s (ALLOCATOR_MAX_TIME_LIMIT_S); ask for less",
            field="options.time_limit_s",
        )


def _check_topology(document: object, limits: RequestLimits) -> tuple[int, int, float]:
    from allocator.topology_facade import parse_topology_request

    request, time_limit_s = parse_topology_request(document)
    _check_time_limit(time_limit_s, limits)
    n_nodes = len(request.topology.nodes)
    if n_nodes > limits.max_agents:
        raise InputError(
            f"{n_nodes} topology nodes exceed this service's cap of {limits.max_agents} "
            "(ALLOCATOR_MAX_AGENTS); split the request or raise the cap",
            field="topology.nodes",
        )
    return n_nodes, 0, time_limit_s
