"""A solver process that dies while writing a message must not hang the request.

A child killed mid-write (the portfolio's grace stop, an OOM kill) leaves half a
message in its pipe, and the other children hold the pipe's write end open, so a
blocking read never ends. Here a real queue and a real, finished process; the half
message is written into the real pipe as the killed child would have left it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import struct
import threading
import time

import numpy as np

from solvers.base import SolveStatus, StopReason
from solvers.portfolio.solver_process import SolverProcess


def test_a_half_written_message_of_a_dead_child_is_skipped_not_awaited() -> None:
    ctx = mp.get_context("fork")
    channel = ctx.Queue()
    child = ctx.Process(target=time.sleep, args=(0,))
    child.start()
    child.join()
    channel.put(("incumbent", (np.zeros(3, dtype=np.int32), 5.0, 0.1)))
    time.sleep(0.2)  # the queue's feeder thread writes the whole message
    # What a child killed mid-write leaves: a length header and part of the body.
    writer = channel._writer  # type: ignore[attr-defined]  # the queue's own pipe
    os.write(writer.fileno(), struct.pack("!i", 1_000_000) + b"half a plan")
    proc = SolverProcess("dead", child, channel, started=time.perf_counter(), deadline=0.0)
    results = []
    reader = threading.Thread(
        target=lambda: results.append(proc.kill(StopReason.TIME_LIMIT, "stopped")), daemon=True
    )
    reader.start()
    reader.join(timeout=30)
    assert results, "kill() blocked on the half-written message"
    assert results[0].status == SolveStatus.FEASIBLE  # the complete message still counts
    assert results[0].objective == 5.0
