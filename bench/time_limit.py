"""The time limit is a promise: elapsed / limit for `solve`, in the library and the CLI.

`python -m bench.time_limit [--sizes 20x5:0.5 2000x100:2 4000x500:5 20000x500:10]
[--no-cli]` solves attribute-form requests (`generate_attribute_problem`, automatic
solver choice, default workers) and prints, per size:

- library: seconds of `allocator.facade.solve` (generation excluded) and its ratio to
  the limit (the goal is at most 1.05);
- CLI: the whole `allocator solve FILE --time-limit L --json` command (a fresh process,
  the report printed to a pipe), split as the CLI counts it (`allocator.cli_options`:
  the limit covers the process from its start, file loading excluded): its start
  (interpreter, imports, argument parsing, as the CLI reads it from /proc), file
  loading, the solve (as the CLI times it, and the budget it gave it), and
  output and exit (the rest). The goal bounds (command - loading) / limit; the whole
  command's ratio is printed too, with the exit status (5: the start alone used the
  limit). Process start alone (`allocator --help`) is printed for reference.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from allocator.facade import solve
from models import RunOptions
from models.generators.instances import generate_attribute_problem

_GOAL = 1.05
# The CLI's stderr line from `SolveBudget.line`.
_SPLIT = re.compile(
    r"start (?P<start>[\d.]+) s, solve (?P<budget>[\d.]+) s, output and exit [\d.]+ s "
    r"\(file loading (?P<load>[\d.]+) s"
)
# ... and its line after the solve (the facade's whole call, Why section included).
_SOLVED = re.compile(r"solved in (?P<solve>[\d.]+) s of")


@dataclass
class CliRun:
    """One CLI command, in seconds."""

    whole: float
    start: float
    load: float
    budget: float
    solve: float
    status: int

    @property
    def output(self) -> float:
        return self.whole - self.start - self.load - self.solve


def _size(text: str) -> tuple[int, int, float]:
    """'TASKSxAGENTS:LIMIT' -> (tasks, agents, limit)."""
    shape, limit = text.split(":")
    tasks, agents = shape.lower().split("x")
    return int(tasks), int(agents), float(limit)


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    return time.perf_counter() - started, done


def _cli(path: Path, limit: float) -> CliRun:
    exe = [sys.executable, "-m", "allocator.cli"]
    whole, done = _timed([*exe, "solve", str(path), "--time-limit", str(limit), "--json"])
    split, solved = _SPLIT.search(done.stderr), _SOLVED.search(done.stderr)
    if split is None or solved is None or not done.stdout.strip():
        raise SystemExit(f"unexpected CLI output (exit {done.returncode}): {done.stderr}")
    json.loads(done.stdout)  # the report was printed whole
    return CliRun(
        whole,
        float(split["start"]),
        float(split["load"]),
        float(split["budget"]),
        float(solved["solve"]),
        done.returncode,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", nargs="+", default=["20x5:0.5", "2000x100:2", "4000x500:5", "20000x500:10"]
    )
    parser.add_argument("--no-cli", action="store_true", help="library only")
    args = parser.parse_args(argv)
    worst = 0.0
    if not args.no_cli:
        alone, _ = _timed([sys.executable, "-m", "allocator.cli", "--help"])
        print(f"CLI process start alone (allocator --help): {alone:.2f} s", flush=True)
    for text in args.sizes:
        tasks, agents, limit = _size(text)
        problem = generate_attribute_problem(tasks, agents, seed=0)
        started = time.perf_counter()
        report = solve(problem, RunOptions(time_limit_s=limit))
        library = time.perf_counter() - started
        worst = max(worst, library / limit)
        line = (
            f"{tasks:>6} x {agents:<4} limit {limit:5.2f} s | library {library:6.2f} s "
            f"ratio {library / limit:.3f} ({report.status})"
        )
        if not args.no_cli:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "problem.json"
                path.write_text(problem.model_dump_json(exclude_defaults=True))
                run = _cli(path, limit)
            rest = run.whole - run.load
            worst = max(worst, rest / limit)
            line += (
                f" | CLI {run.whole:6.2f} s (exit {run.status}): start {run.start:.2f} s, "
                f"loading {run.load:.2f} s, solve {run.solve:.2f} s of {run.budget:.2f} s, "
                f"output and exit {run.output:.2f} s; ratio {run.whole / limit:.3f}, "
                f"without loading {rest / limit:.3f}"
            )
        print(line, flush=True)
    verdict = "met" if worst <= _GOAL else "NOT met"
    print(f"worst ratio {worst:.3f}: goal (at most {_GOAL}) {verdict}")
    return 0 if worst <= _GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
