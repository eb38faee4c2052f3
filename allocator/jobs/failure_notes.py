"""A failure as the user sees it: one line, no traceback, no server paths.

Solvers and jobs that crash leave a traceback; it goes to the server log with the
job id (where an operator can read it) and the stored result keeps one line.
"""

from __future__ import annotations

import logging
import re

from models.report import ComparisonReport

__all__ = ["one_line", "scrub_report"]

log = logging.getLogger("allocator.jobs")

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+)+[\\/](?=[\w.-]+)")
_TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "')
_MAX_CHARS = 300


def one_line(text: str) -> str:
    """The last meaningful line of `text`, with directory parts of paths removed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else text.strip()
    line = _PATH.sub("", line)
    return line if len(line) <= _MAX_CHARS else line[: _MAX_CHARS - 1] + "…"


def _is_traceback(text: str) -> bool:
    return any(marker in text for marker in _TRACEBACK_MARKERS)


def scrub_report(report: ComparisonReport, job_id: str) -> ComparisonReport:
    """Move tracebacks out of `report` into the log; errors become one line each."""
    for run in report.solvers:
        kept = []
        for note in run.notes:
            if _is_traceback(note):
                log.error(
                    "solver failed", extra={"job_id": job_id, "solver": run.name, "trace": note}
                )
            else:
                kept.append(_PATH.sub("", note))
        run.notes = kept
        if run.error is not None:
            run.error = one_line(run.error)
    return report
