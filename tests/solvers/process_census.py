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


def live_descendants(root: int | None = None) -> set[int]:
    """Pids below `root` (default: this process) that are not zombies."""
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
            if child not in out:
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
