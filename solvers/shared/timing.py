"""The timing of a solve, written once: trace, wall time, time to first and best plan.

Two steps, two clocks made one:

1. Inside an engine, `timed_solve(name, solve)` starts a `TraceRecorder`, runs
   `solve(recorder)` (the engine calls `recorder.record(score)` on each new plan), turns
   an exception into an ERROR result, and fills `trace`, `wall_time_s`,
   `time_to_first_s`, `time_to_best_s` from the recorder: all in seconds from the
   engine's own start. Engines that build the result themselves call
   `fill_timing(result, recorder)` instead.
2. The portfolio moves each result onto the request's clock with
   `to_request_clock(result, started_at_s, wall_time_s)`: `started_at_s` is when the
   solver was started, in seconds from the request's start; trace and time-to-first/best
   are shifted by it; `wall_time_s` stays a duration from `started_at_s`.

Afterwards `started_at_s <= time_to_first_s <= time_to_best_s <= started_at_s +
wall_time_s` holds (`clock_violations` lists any breach; the tests call it).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from solvers.base import SolveResult, SolveStatus, StopReason, TraceRecorder

__all__ = ["clock_violations", "fill_timing", "timed_solve", "to_request_clock"]

# Float noise allowed when comparing times taken by different processes.
_CLOCK_SLACK_S = 1e-6


def fill_timing(result: SolveResult, recorder: TraceRecorder) -> SolveResult:
    """Copy the recorder's trace and times into `result` (engine clock); returns it."""
    result.trace = list(recorder.trace)
    result.time_to_first_s = recorder.time_to_first_s
    result.time_to_best_s = recorder.time_to_best_s
    result.wall_time_s = recorder.elapsed()
    return result


def timed_solve(name: str, solve: Callable[[TraceRecorder], SolveResult]) -> SolveResult:
    """Run `solve(recorder)` on a fresh recorder; a raised exception becomes an ERROR result."""
    recorder = TraceRecorder()
    try:
        result = solve(recorder)
    except Exception as exc:  # a backend failure must never fail the request
        result = SolveResult(name, SolveStatus.ERROR, StopReason.ERROR, error=repr(exc))
    return fill_timing(result, recorder)


def to_request_clock(result: SolveResult, started_at_s: float, wall_time_s: float) -> SolveResult:
    """Shift an engine-clock result by `started_at_s` (seconds from the request's start).

    `wall_time_s` is the duration the caller observed from the start to the result; it
    is raised to cover the last reported plan if the engine's clock ran past it.
    """
    result.started_at_s = started_at_s
    result.trace = [(t + started_at_s, v) for t, v in result.trace]
    if result.trace:
        result.time_to_first_s = result.trace[0][0]
        result.time_to_best_s = min(result.trace, key=lambda tv: tv[1])[0]
    else:
        if result.time_to_first_s is not None:
            result.time_to_first_s += started_at_s
        if result.time_to_best_s is not None:
            result.time_to_best_s += started_at_s
    last = max(
        (t for t in (result.time_to_first_s, result.time_to_best_s) if t is not None),
        default=started_at_s,
    )
    result.wall_time_s = max(wall_time_s, last - started_at_s)
    return result


def clock_violations(
    started_at_s: float | None,
    time_to_first_s: float | None,
    time_to_best_s: float | None,
    wall_time_s: float,
) -> list[str]:
    """Breaches of started <= first <= best <= started + wall (empty when consistent)."""
    if started_at_s is None:
        return [] if time_to_first_s is None and time_to_best_s is None else ["times but no start"]
    chain = [("started_at_s", started_at_s)]
    chain += [
        (n, t)
        for n, t in (("time_to_first_s", time_to_first_s), ("time_to_best_s", time_to_best_s))
        if t is not None
    ]
    chain.append(("started_at_s + wall_time_s", started_at_s + wall_time_s))
    return [
        f"{a} {ta:.6f} > {b} {tb:.6f}"
        for (a, ta), (b, tb) in pairwise(chain)
        if ta > tb + _CLOCK_SLACK_S
    ]
