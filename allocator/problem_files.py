"""Read problem files: our JSON document, or an OR-Library GAP file (one instance)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from models import InputError, Problem, RunOptions, gap_to_problem, read_gap_file

__all__ = ["format_validation_error", "load_problem", "load_request", "parse_request"]


def format_validation_error(exc: ValidationError, source: str | None = None) -> str:
    """One readable line: where (field path) and what to change."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "(document)"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    prefix = f"{source}: " if source else ""
    return f"{prefix}field {loc}: {msg}{more}"


def parse_request(document: object, source: str | None = None) -> tuple[Problem, RunOptions]:
    """A request document is a problem with an optional `options` member."""
    if not isinstance(document, dict):
        raise InputError("a problem document must be a JSON object", source=source)
    body = dict(document)
    raw_options = body.pop("options", None)
    try:
        problem = Problem.model_validate(body)
        options = RunOptions.model_validate(raw_options or {})
    except ValidationError as exc:
        raise InputError(format_validation_error(exc)) from exc
    except ValueError as exc:  # raised by compile-time shape checks inside validators
        raise InputError(str(exc), source=source) from exc
    return problem, options


def load_request(path: str | Path, maximise: bool = False) -> tuple[Problem, RunOptions]:
    """Read a JSON problem (with optional options) or a one-instance GAP file.

    `maximise` reads a GAP file's first matrix as profits (cost = -profit); it is
    refused for JSON problems, whose objectives are part of the document.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found; check the path", source=str(path))
    if path.is_dir():
        raise InputError("is a directory; give a problem file", source=str(path))
    text = path.read_text(errors="replace")
    if text.lstrip().startswith("{"):
        if maximise:
            raise InputError(
                "--maximise reads OR-Library GAP profit files; a JSON problem states its "
                "own objectives (drop --maximise)",
                source=str(path),
            )
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                source=str(path),
            ) from exc
        try:
            return parse_request(document, source=str(path))
        except InputError as exc:
            if exc.source is None:
                raise InputError(str(exc), source=str(path)) from exc
            raise
    instances = read_gap_file(path)
    if len(instances) != 1:
        raise InputError(
            f"holds {len(instances)} GAP problems; run `allocator convert` to split it",
            source=str(path),
        )
    return gap_to_problem(instances[0], maximise=maximise), RunOptions()


def load_problem(path: str | Path) -> Problem:
    """Read a problem file (JSON or one-instance GAP)."""
    return load_request(path)[0]
