"""A HiGHS instance that prints nothing: no banner on stdout, whatever the process.

highspy's constructor enables callbacks, and HiGHS writes its banner to stdout at
that moment unless output is already off; stdout may carry a --json document. Turning
output off first, inside `enableCallbacks` (public highspy API), needs no file
descriptor juggling. Callers that want HiGHS's log set "output_flag" back on.
"""

from __future__ import annotations

import highspy

__all__ = ["QuietHighs"]


class QuietHighs(highspy.Highs):
    """`highspy.Highs` with output off from the start."""

    def enableCallbacks(self) -> None:
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()
