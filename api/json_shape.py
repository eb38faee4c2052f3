"""Cheap limits on a JSON body's shape, checked while it arrives and right after parsing.

Parsing and validating a hostile 10 MB body of 600k tiny tasks costs seconds of CPU
and a gigabyte of memory; counting its brackets chunk by chunk as it arrives costs
microseconds per chunk and never holds the event loop. The counts are upper bounds
(a bracket or comma inside a string counts too), so the limits are set with room to
spare above the largest request the service's caps allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.problems import ApiProblem

__all__ = ["JsonShapeLimits", "ShapeScanner", "check_parsed"]

# A task or an agent is at most a few objects and arrays (itself, demand, requires, after).
_CONTAINERS_PER_ITEM = 5
_SLACK = 10_000


@dataclass(frozen=True)
class JsonShapeLimits:
    """How much JSON structure one request may hold, and the setting that says so."""

    max_containers: int  # objects + arrays
    max_values: int = 1_000_000  # array items and object members
    max_depth: int = 32
    max_string_chars: int = 10_000
    setting: str = "ALLOCATOR_MAX_TASKS and ALLOCATOR_MAX_AGENTS"

    @classmethod
    def for_items(cls, n_items: int, max_values: int, setting: str) -> JsonShapeLimits:
        """Limits for a request of at most `n_items` tasks and agents in all."""
        return cls(_CONTAINERS_PER_ITEM * n_items + _SLACK, max_values, setting=setting)


class ShapeScanner:
    """Counts a body's objects, arrays and values chunk by chunk as it is received."""

    def __init__(self, limits: JsonShapeLimits):
        self.limits = limits
        self._containers = 0
        self._values = 1
        # Strings are followed by quote parity; an escape (backslash) ends that
        # (the check after parsing still applies).
        self._in_string = False
        self._string_bytes = 0
        self._follow_strings = True

    def feed(self, chunk: bytes) -> str | None:
        """Count one chunk; the reason to refuse the body once a limit is passed."""
        self._containers += chunk.count(b"{") + chunk.count(b"[")
        self._values += chunk.count(b",")
        limits = self.limits
        if self._containers > limits.max_containers:
            return (
                f"the body holds over {limits.max_containers:,} JSON objects and arrays, more "
                f"than any request within this service's caps ({limits.setting}); split it"
            )
        if self._values > limits.max_values:
            return (
                f"the body holds over {limits.max_values:,} JSON values; this service reads at "
                "most that many per request (ALLOCATOR_MAX_JSON_VALUES); split it"
            )
        return self._follow(chunk)

    def _follow(self, chunk: bytes) -> str | None:
        """Longest string so far, in bytes (4 per character at most in UTF-8)."""
        if not self._follow_strings:
            return None
        if b"\\" in chunk:
            self._follow_strings = False
            return None
        longest = self._scan_quotes(chunk.split(b'"'))
        if longest > 4 * self.limits.max_string_chars:
            return (
                f"the body holds a string of over {self.limits.max_string_chars:,} characters; "
                "ids, names and notes must be shorter"
            )
        return None

    def _scan_quotes(self, pieces: list[bytes]) -> int:
        """Longest run inside a string among `pieces` (the chunk split at quotes); C-speed
        slices and `max`, no Python loop over pieces."""
        head = len(pieces[0]) + self._string_bytes if self._in_string else 0
        if len(pieces) == 1:
            self._string_bytes = head
            return head
        rest = pieces[1:]
        first_inside = not self._in_string  # pieces[1] opens a string unless one closes
        inside = rest[0::2] if first_inside else rest[1::2]
        longest = max(head, max(map(len, inside), default=0))
        self._in_string = first_inside == (len(rest) % 2 == 1)
        self._string_bytes = len(rest[-1]) if self._in_string else 0
        return longest


def check_parsed(document: object, limits: JsonShapeLimits) -> None:
    """Nesting depth and string lengths of a parsed document (iterative: no recursion).

    Raises:
        ApiProblem: 422, saying which limit and where.
    """
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_string(node, limits)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > limits.max_depth:
            raise ApiProblem(
                422, f"the document nests deeper than {limits.max_depth} levels; flatten it"
            )
        if isinstance(node, dict):
            for key, value in node.items():
                _check_string(key, limits)
                stack.append((value, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in node)


def _check_string(text: str, limits: JsonShapeLimits) -> None:
    if len(text) > limits.max_string_chars:
        raise ApiProblem(
            422,
            f"a string of {len(text):,} characters ({text[:40]!r}...) exceeds "
            f"{limits.max_string_chars:,}; ids, names and notes must be shorter",
        )
