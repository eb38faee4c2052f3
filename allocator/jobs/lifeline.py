"""Tie a worker process's life to the service process, whatever kills the service.

Workers are forked by the multiprocessing fork server, so their parent is the fork
server, not the service: a parent-death signal or a `getppid()` check would watch
the wrong process. Instead each worker watches the service's pid itself (a pidfd
on Linux, which wakes the instant the service dies; a 0.5 s probe elsewhere), and
drops its copy of the fork server's "alive" pipe, so that the fork server exits as
soon as the service does (every holder of that pipe keeps the fork server alive).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Callable

__all__ = ["exit_now", "release_fork_server", "service_alive", "watch_service"]

_PROBE_S = 0.5


def release_fork_server() -> None:
    """Close this worker's copy of the fork server's "alive" pipe.

    Safe for our workers: they start their own children with "fork", never through
    the fork server, so they do not need it.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver
    fd = getattr(server, "_forkserver_alive_fd", None)  # a private attribute of CPython's
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[attr-defined]


def service_alive(pid: int) -> bool:
    """True while process `pid` exists (a zombie counts as gone once reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch_service(service_pid: int, on_death: Callable[[], None]) -> None:
    """Call `on_death` (on a daemon thread) once process `service_pid` has ended."""
    threading.Thread(
        target=_wait_for_death, args=(service_pid, on_death), name="service-watch", daemon=True
    ).start()


def _wait_for_death(service_pid: int, on_death: Callable[[], None]) -> None:
    pidfd = _open_pidfd(service_pid)
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable exactly when the process has exited
        os.close(pidfd)
    else:
        while service_alive(service_pid):
            time.sleep(_PROBE_S)
    on_death()


def _open_pidfd(pid: int) -> int | None:
    """A pidfd for `pid`; None when the platform has none (then we probe)."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except ProcessLookupError:
        # Already gone: a pipe that is readable at once gives the same wake-up.
        read_end, write_end = os.pipe()
        os.close(write_end)
        return read_end
    except OSError:  # an old kernel without pidfd_open
        return None
    return fd


def exit_now(group: bool = False) -> None:
    """End this process at once; with `group`, its whole process group too."""
    if group:
        with contextlib.suppress(OSError):
            os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(0)
