"""The streaming JSON shape checks: exact on strings without escapes, chunking never matters."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.json_shape import JsonShapeLimits, ShapeScanner, check_parsed
from api.problems import ApiProblem

# Printable ASCII without quote or backslash: json.dumps writes no escape for these.
_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='\\"'),
    max_size=40,
)
_json = st.recursive(
    st.none() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=30,
)


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [k, *_strings(v)]]
    return []


def _scan(body: bytes, cuts: list[int], limits: JsonShapeLimits) -> str | None:
    scanner = ShapeScanner(limits)
    edges = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    for start, end in itertools.pairwise(edges):
        refusal = scanner.feed(body[start:end])
        if refusal is not None:
            return refusal
    return None


@settings(max_examples=300, deadline=None)
@given(
    document=_json, cuts=st.lists(st.integers(0, 10_000), max_size=8), max_chars=st.integers(0, 12)
)
def test_longest_string_is_found_whatever_the_chunks(
    document: object, cuts: list[int], max_chars: int
) -> None:
    body = json.dumps(document).encode()
    limits = JsonShapeLimits(max_containers=10**6, max_string_chars=max_chars)
    longest = max((len(s) for s in _strings(document)), default=0)
    refusal = _scan(body, cuts, limits)
    assert (refusal is not None) == (longest > 4 * max_chars), (body, refusal)


@settings(max_examples=200, deadline=None)
@given(document=_json, cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_container_and_value_counts_bound_the_document(document: object, cuts: list[int]) -> None:
    body = json.dumps(document).encode()
    containers = body.count(b"{") + body.count(b"[")
    values = body.count(b",") + 1
    exact = JsonShapeLimits(max_containers=containers, max_values=values, max_string_chars=10**6)
    assert _scan(body, cuts, exact) is None
    if containers:
        fewer = JsonShapeLimits(containers - 1, values, max_string_chars=10**6)
        assert "objects and arrays" in (_scan(body, cuts, fewer) or "")
    smaller = JsonShapeLimits(containers, values - 1, max_string_chars=10**6)
    assert "ALLOCATOR_MAX_JSON_VALUES" in (_scan(body, cuts, smaller) or "")


def test_check_parsed_limits_depth_and_strings() -> None:
    limits = JsonShapeLimits(max_containers=100, max_depth=3, max_string_chars=5)
    check_parsed({"a": [[1]]}, limits)
    with pytest.raises(ApiProblem, match="deeper than 3"):
        check_parsed({"a": [[[1]]]}, limits)
    with pytest.raises(ApiProblem, match="6 characters"):
        check_parsed({"a": ["abcdef"]}, limits)
    with pytest.raises(ApiProblem, match="6 characters"):
        check_parsed({"abcdef": 1}, limits)
