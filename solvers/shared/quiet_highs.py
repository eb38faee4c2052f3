"""A HiGHS instance that prints nothing: no banner on stdout, whatever the process.

highspy's constructor enables callbacks, and HiGHS writes its banner to stdout at
that moment unless output is already off; stdout may carry a --json document. Turning
output off first, inside `enableCallbacks` (public highspy API), needs no file
descriptor juggling. Callers that want HiGHS's log set "output_flag" back on.
"""

from __future__ import annotations

import highspy

__all__ = ["QuietHighs", "use_threads"]

# HiGHS keeps one thread scheduler per process, sized by the first run that sets
# "threads"; a later run asking for another size fails ("Not Set") and an LP then
# looked timed out. Our engines run HiGHS one model at a time per process (a solver
# process, or a library caller), so re-sizing the scheduler between runs is safe.
# A forked child inherits both the scheduler and this record of its size.
_scheduler_threads: int | None = None


class QuietHighs(highspy.Highs):
    """`highspy.Highs` with output off from the start."""

    def enableCallbacks(self) -> None:
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


def use_threads(highs: highspy.Highs, threads: int) -> None:
    """Set "threads", re-sizing this process's HiGHS scheduler when the size changes."""
    global _scheduler_threads
    threads = max(1, int(threads))
    if _scheduler_threads is not None and _scheduler_threads != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = threads
    highs.setOptionValue("threads", threads)
