"""Rich consoles and tables, imported on first use.

Every command module is imported when the CLI starts (to register its commands), and
`solve --json` prints no Rich output: importing Rich there cost about 0.03 s of CPU
of a command whose time limit counts from the process start (`cli_options`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["new_console", "new_table"]


def new_console(**kwargs: Any) -> Console:
    """`rich.console.Console(**kwargs)`."""
    from rich.console import Console

    return Console(**kwargs)


def new_table(*args: Any, **kwargs: Any) -> Table:
    """`rich.table.Table(*args, **kwargs)`."""
    from rich.table import Table

    return Table(*args, **kwargs)
