"""Command-line overrides of a request's RunOptions, validated like the request itself."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from allocator.problem_files import format_validation_error
from models import InputError, RunOptions

__all__ = ["RunFlags", "run_options", "seconds_since_process_start", "within_command_limit"]

#: However late the command starts solving, the solve keeps this share of the limit.
_MIN_SOLVE_SHARE = 0.25
#: Printing the report and the interpreter's exit after the solve: 0.34 s measured at
#: 4,000 x 500 on the 2-core machine (`python -m bench.time_limit`).
_OUTPUT_AND_EXIT_S = 0.35

#: --solver, --time-limit, --seed, --workers, --deterministic as the user gave them.
RunFlags = tuple[list[str] | None, float | None, int | None, int | None, bool]


def run_options(
    base: RunOptions | None,
    solvers: list[str] | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    deterministic: bool = False,
) -> RunOptions:
    """`base` (from the problem file, or defaults) with the flags the user gave on top.

    `--deterministic` only switches the option on; a request file that asks for it keeps it.
    """
    update: dict[str, object] = {}
    if solvers:
        update["solvers"] = solvers
    if time_limit is not None:
        update["time_limit_s"] = time_limit
    if seed is not None:
        update["seed"] = seed
    if workers is not None:
        update["workers"] = workers
    if deterministic:
        update["deterministic"] = True
    start = base.model_dump() if base is not None else {}
    try:
        return RunOptions.model_validate({**start, **update})
    except ValidationError as exc:
        raise InputError(format_validation_error(exc)) from exc


def seconds_since_process_start() -> float:
    """Seconds since this process started (interpreter start and imports included).

    Read from /proc (Linux); 0.0 where that is not available.
    """
    try:
        stat = Path("/proc/self/stat").read_text()
        # Fields after the command name's closing parenthesis start at field 3;
        # field 22 is the start time in clock ticks after boot.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def within_command_limit(options: RunOptions, load_s: float) -> tuple[RunOptions, float]:
    """The options with the time the command has already spent taken off the limit.

    The user's `--time-limit` covers the whole command except reading the file: the
    process start and imports (1-2.5 s on the 2-core machine) and the output and exit
    after the solve come off the solve's share, down to a quarter of the limit. Returns
    the options and the seconds taken off.
    """
    spent = max(0.0, seconds_since_process_start() - load_s) + _OUTPUT_AND_EXIT_S
    limit = options.time_limit_s
    solve_s = max(_MIN_SOLVE_SHARE * limit, limit - spent)
    return options.model_copy(update={"time_limit_s": solve_s}), limit - solve_s
