"""Recorded arrival traces: CSV or JSONL with at_s, work and optional tenant/priority."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from allocator.coordinator.records import PRIORITY_RANK
from allocator.simulation.workloads import Workload
from models import InputError

__all__ = ["read_trace"]


def _row_values(row: dict[str, Any], line: int, source: str) -> tuple[float, float, str, int]:
    try:
        at = float(row.get("at_s", row.get("at", "")))
        work = float(row.get("work", 1.0))
    except (TypeError, ValueError):
        raise InputError(f"line {line}: 'at_s' and 'work' must be numbers", source=source) from None
    if at < 0 or work < 0:
        raise InputError(f"line {line}: 'at_s' and 'work' must be >= 0", source=source)
    priority = str(row.get("priority", "normal") or "normal")
    if priority not in PRIORITY_RANK:
        raise InputError(
            f"line {line}: priority {priority!r}; use critical, high, normal or low", source=source
        )
    return at, work, str(row.get("tenant", "default") or "default"), PRIORITY_RANK[priority]


def read_trace(path: Path, speeds: np.ndarray) -> Workload:
    """Read a trace (.csv with a header, or .jsonl with one object a line).

    Each record needs `at_s` (arrival, seconds) and may give `work`, `tenant` and
    `priority`. Raises InputError naming the file and line on bad input.
    """
    source = str(path)
    if not path.is_file():
        raise InputError("file not found; pass an existing .csv or .jsonl trace", source=source)
    rows: list[tuple[float, float, str, int]] = []
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                rows.append(_row_values(row, line, source))
    elif path.suffix in (".jsonl", ".ndjson"):
        with path.open() as handle:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise InputError(f"line {line}: not JSON ({exc.msg})", source=source) from None
                if not isinstance(record, dict):
                    raise InputError(f"line {line}: expected a JSON object", source=source)
                rows.append(_row_values(record, line, source))
    else:
        raise InputError("unknown trace format; use .csv or .jsonl", source=source)
    if not rows:
        raise InputError("the trace has no arrivals", source=source)
    rows.sort(key=lambda r: r[0])
    tenants = tuple(sorted({r[2] for r in rows}))
    code = {t: i for i, t in enumerate(tenants)}
    return Workload(
        path.stem,
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        speeds,
        tenant=np.array([code[r[2]] for r in rows], dtype=np.int32),
        tenants=tenants,
        priority=np.array([r[3] for r in rows], dtype=np.int8),
    )
