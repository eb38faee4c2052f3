"""Measure the `lns` solver on OR-Library / Yagiura GAP types C, D, E against best-known values.

Usage: .venv/bin/python -m bench.gap_lns [--time-limit 10] [--workers 2] [--types CDE] [NAMES...]
Reads ../shared/bench/gap (skips with a message when absent).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

from models import compile_problem, evaluate_plan, gap_to_problem, read_gap_file
from solvers.base import SolveOptions
from solvers.lns.solver import LnsSolver

GAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "gap"


def best_known() -> dict[str, float]:
    """BKS (min sense) per instance name from fontanf/data.csv."""
    out: dict[str, float] = {}
    with open(GAP_DIR / "fontanf" / "data.csv") as fh:
        for row in csv.DictReader(fh):
            name = Path(row.get("Path", "")).name
            value = row.get("Best known solution value") or ""
            if name and value:
                out[name] = float(value)
    return out


def instance_files(types: str) -> list[Path]:
    files = []
    for folder in ("chu1997", "yagiura2004"):
        for path in sorted((GAP_DIR / folder).iterdir()):
            if path.name[0].upper() in types:
                files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--types", default="CDE")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if not GAP_DIR.is_dir():
        print(f"skipped: {GAP_DIR} not found (the shared GAP benchmark files)")
        return 0
    bks = best_known()
    files = [
        f for f in instance_files(args.types.upper()) if not args.names or f.name in args.names
    ]
    gaps: dict[str, list[float]] = {}
    for path in files:
        problem = compile_problem(gap_to_problem(read_gap_file(path)[0]))
        start = time.perf_counter()
        result = LnsSolver().solve(
            problem, SolveOptions(time_limit_s=args.time_limit, workers=args.workers)
        )
        wall = time.perf_counter() - start
        ref = bks.get(path.name)
        if result.assignment is None or ref is None:
            print(f"{path.name:10s} no plan ({result.status.value}) {result.error or ''}")
            gaps.setdefault(path.name[0], []).append(float("nan"))
            continue
        ev = evaluate_plan(problem, result.assignment)
        gap = 100.0 * (ev.score - ref) / ref
        gaps.setdefault(path.name[0], []).append(gap)
        print(
            f"{path.name:10s} value {ev.score:9.0f} bks {ref:9.0f} gap {gap:6.3f}% "
            f"bound {result.bound} feasible {ev.feasible} {result.status.value} {wall:5.1f}s",
            flush=True,
        )
    for kind, values in sorted(gaps.items()):
        arr = np.array(values)
        print(
            f"type {kind.upper()}: n={len(arr)} mean {np.nanmean(arr):.3f}% "
            f"median {np.nanmedian(arr):.3f}% max {np.nanmax(arr):.3f}%"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
