"""Where the CLI writes: paths chosen and checked before any solve, never overwritten silently.

A path that already exists gets the next free number before its suffix
(`mixed.report.html` -> `mixed.report.1.html`) unless the user passed `--force`.
Every directory is created and probed with a real file before the solve starts, so an
unwritable place is one readable line (exit 2) and never a lost solve.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from models import InputError

__all__ = ["OutputFiles", "numbered", "prepare_outputs", "write_text_atomic"]

# Enough for any real use; past it something is wrong (a loop writing reports).
MAX_NUMBER = 9999


@dataclass(frozen=True)
class OutputFiles:
    """Final path per role ("plan", "html", "json"), and a line per renamed file."""

    paths: dict[str, Path]
    renamed: list[str] = field(default_factory=list)

    def get(self, role: str) -> Path | None:
        return self.paths.get(role)


def numbered(path: Path, k: int) -> Path:
    """`path` with `.k` before its last suffix; k = 0 is the path itself."""
    if k == 0:
        return path
    return path.with_name(f"{path.stem}.{k}{path.suffix}")


def _check_directory(directory: Path) -> None:
    """Create `directory` and write a probe file in it; InputError if either fails."""
    where = str(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise InputError(
            "is a file, not a directory; choose another --out-dir or path", source=where
        ) from exc
    except OSError as exc:
        raise InputError(
            f"cannot create this directory ({exc.strerror or exc}); "
            "choose another --out-dir or path",
            source=where,
        ) from exc
    try:
        # A real write, not os.access: it also catches read-only mounts and ACLs.
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".allocator-probe-"):
            pass
    except OSError as exc:
        raise InputError(
            f"cannot write here ({exc.strerror or exc}); choose another --out-dir or path",
            source=where,
        ) from exc


def _check_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise InputError("is a directory; give a file name", source=str(path))
    if force and path.exists() and not os.access(path, os.W_OK):
        raise InputError("exists and is read-only; choose another path", source=str(path))


def _free_number(paths: list[Path]) -> int:
    for k in range(MAX_NUMBER + 1):
        if not any(numbered(p, k).exists() for p in paths):
            return k
    raise InputError(
        f"{MAX_NUMBER} numbered copies already exist; clean up or pass --force",
        source=str(paths[0]),
    )


def prepare_outputs(
    wanted: Mapping[str, Path | None], *, force: bool, together: tuple[str, ...] = ()
) -> OutputFiles:
    """Check every wanted path can be written and pick the final names, before solving.

    Roles in `together` (the HTML and JSON of one report) share one number, so the
    files of one run keep matching names; other roles are numbered on their own.
    """
    chosen = {role: path for role, path in wanted.items() if path is not None}
    for path in chosen.values():
        _check_directory(path.parent)
        _check_target(path, force)
    if force:
        return OutputFiles(dict(chosen))
    groups = [[r for r in together if r in chosen]]
    groups += [[r] for r in chosen if r not in together]
    final: dict[str, Path] = {}
    renamed: list[str] = []
    for roles in (g for g in groups if g):
        k = _free_number([chosen[r] for r in roles])
        for role in roles:
            final[role] = numbered(chosen[role], k)
            if k:
                renamed.append(f"{chosen[role]} exists; writing {final[role]} (--force overwrites)")
    return OutputFiles(final, renamed)


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, so no half-written file remains."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
