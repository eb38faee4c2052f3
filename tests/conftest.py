"""Session-wide checks: the test suite must not leave any process of its own behind."""

from __future__ import annotations

import contextlib
import os
import time
from multiprocessing import forkserver

import psutil
import pytest

_SETTLE_S = 5.0

# Starlette's TestClient sends `Host: testserver`; the service answers to loopback names
# only by default (DNS-rebinding guard), so the test session adds that name.
os.environ.setdefault("ALLOCATOR_TRUSTED_HOSTS", '["localhost", "127.0.0.1", "::1", "testserver"]')


def _stop_fork_server() -> None:
    """The fork server lives as long as this process; end it now, so that whatever is
    still running afterwards is a real leak. (The resource tracker stays: it exits with
    this process, and stopping it early would make semaphores' finalizers fail.)"""
    stop_server = getattr(forkserver._forkserver, "_stop", None)
    if stop_server is not None:
        stop_server()


def _ours_and_alive(process: psutil.Process) -> bool:
    """Running, not a zombie, not the resource tracker; a process gone meanwhile is not."""
    with contextlib.suppress(psutil.Error):
        tracker = "multiprocessing.resource_tracker" in " ".join(process.cmdline())
        return process.status() != psutil.STATUS_ZOMBIE and not tracker
    return False


def _leftover_children() -> list[psutil.Process]:
    deadline = time.monotonic() + _SETTLE_S
    while True:
        children = [p for p in psutil.Process().children(recursive=True) if _ours_and_alive(p)]
        if not children or time.monotonic() > deadline:
            return children
        time.sleep(0.1)


def _command(process: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return process.cmdline()
    return ["(gone)"]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any child process of the test process survives the suite."""
    _stop_fork_server()
    left = _leftover_children()
    if not left:
        return
    lines = [f"  pid {p.pid}: {' '.join(_command(p))[:160]}" for p in left]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = "the test suite left processes running:\n" + "\n".join(lines)
    if reporter is not None:
        reporter.write_line(message, red=True)
    for process in left:  # a failed check must not leak them into the machine either
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
