"""Count a process's descendants and marked processes from /proc (psutil is not installed)."""

from __future__ import annotations

import os
from pathlib import Path


def _ppid_and_state(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; fields resume after the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


#: Command-line parts of the browser tests' session browser (tests/browser/conftest.py):
#: the Playwright driver and the chromium below it live until the session ends (its
#: fixture closes them) and start helper processes when they like (a chromium utility
#: process appeared during a cancellation test: CI of 0c7e674), so no test of ours counts
#: them as its own.
_SESSION_BROWSER = ("playwright", "chromium")


def _is_session_browser(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return any(part in cmdline for part in _SESSION_BROWSER)


def live_descendants(root: int | None = None) -> set[int]:
    """Pids below `root` (default: this process) that are not zombies, leaving out the
    session browser's process tree (`_SESSION_BROWSER`)."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _ppid_and_state(int(entry.name))
            if info is not None:
                children.setdefault(info[0], []).append(int(entry.name))
                states[int(entry.name)] = info[1]
    out: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out and not _is_session_browser(child):
                out.add(child)
                stack.append(child)
    return {p for p in out if states.get(p) != "Z"}


def marked_processes(marker: str) -> set[int]:
    """Live pids whose command line contains `marker` (wherever they were re-parented)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        info = _ppid_and_state(int(entry.name))
        if marker in cmdline and info is not None and info[1] != "Z":
            out.add(int(entry.name))
    return out


def describe(pids: set[int]) -> list[str]:
    """Each pid's parent, state and command line, for a failing assertion's message."""
    out = []
    for pid in sorted(pids):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            cmdline = "(gone)"
        info = _ppid_and_state(pid)
        out.append(f"{pid} (parent, state {info}): {cmdline.strip()}")
    return out
