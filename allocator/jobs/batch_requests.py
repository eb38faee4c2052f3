"""Batch comparison requests: `{"instances": [problem, ...], "options": {...}}`.

Read once at submission (every instance checked, errors name the instance index and
field) and again in the worker process, so both agree on names and options.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from allocator.problem_files import format_validation_error, parse_request
from models import InputError, Problem, RunOptions
from solvers.registry import SOLVER_NAMES

__all__ = ["INSTANCE_OVERHEAD_S", "BatchRequest", "parse_batch_request"]

#: Start-up cost per instance (solver processes, model building) added to the batch's
#: budget, so the runner's overrun guard does not stop a batch of quick instances.
INSTANCE_OVERHEAD_S = 2.0


@dataclass(frozen=True)
class BatchRequest:
    """Named problems and the options every instance runs under (the comparison is fair)."""

    instances: list[tuple[str, Problem]]
    options: RunOptions
    name: str = "batch"

    @property
    def n_tasks(self) -> int:
        return sum(len(p.tasks) for _, p in self.instances)

    @property
    def n_agents(self) -> int:
        return sum(len(p.agents) for _, p in self.instances)

    @property
    def budget_s(self) -> float:
        """Wall-clock budget of the whole batch: each instance's limit plus start-up."""
        return len(self.instances) * (self.options.time_limit_s + INSTANCE_OVERHEAD_S)


def parse_batch_request(document: object, max_instances: int | None = None) -> BatchRequest:
    """Validate a batch document; `options` inside instances are ignored.

    Raises:
        InputError: the document, an instance (field `instances[i].<path>`) or the
            options are invalid, or there are more than `max_instances` instances.
    """
    if not isinstance(document, dict):
        raise InputError('a batch is a JSON object {"instances": [...], "options": {...}}')
    unknown = sorted(set(document) - {"instances", "options", "name"})
    if unknown:
        raise InputError(
            f"unknown member {unknown[0]!r}; a batch has `instances`, `options` and `name`",
            field=unknown[0],
        )
    raw = document.get("instances")
    if not isinstance(raw, list) or not raw:
        raise InputError("give a non-empty list of problem documents", field="instances")
    if max_instances is not None and len(raw) > max_instances:
        raise InputError(
            f"{len(raw)} instances exceed this service's cap of {max_instances} per batch "
            "(ALLOCATOR_MAX_BATCH_INSTANCES); split the batch or raise the cap",
            field="instances",
        )
    options = _parse_options(document.get("options"))
    name = document.get("name", "batch")
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        raise InputError("give the batch a name of 1 to 200 characters", field="name")
    instances: list[tuple[str, Problem]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        try:
            problem, _ignored = parse_request(item)
        except InputError as exc:
            raise InputError(str(exc), field=f"instances[{index}]") from exc
        name = problem.name
        seen[name] = seen.get(name, 0) + 1
        instances.append((name if seen[name] == 1 else f"{name}#{seen[name]}", problem))
    return BatchRequest(instances, options, name)


def _parse_options(raw: object) -> RunOptions:
    try:
        options = RunOptions.model_validate(raw or {})
    except ValidationError as exc:
        raise InputError(format_validation_error(exc), field="options") from exc
    unknown = [s for s in options.solvers or () if s not in SOLVER_NAMES]
    if unknown:
        raise InputError(
            f"unknown solver {unknown[0]!r}; choose from: {', '.join(SOLVER_NAMES)}",
            field="options.solvers",
        )
    if options.solvers is not None and not options.solvers:
        raise InputError("name at least one solver, or omit it to run all", field="options.solvers")
    return options
