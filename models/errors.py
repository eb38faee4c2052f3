"""Typed errors a user can cause, each with a message that says what to change."""

from __future__ import annotations

__all__ = ["InputError", "ProblemFormatError"]


class InputError(ValueError):
    """Bad input: the message names the source, the field and what to change."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        prefix = f"{source}: " if source else ""
        where = f"{field}: " if field else ""
        super().__init__(f"{prefix}{where}{message}")


class ProblemFormatError(InputError):
    """A problem file that cannot be read in the expected format."""
