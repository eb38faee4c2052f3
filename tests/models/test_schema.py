"""Schema validation: bad references and shapes get messages that say what to change."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models import Problem


def _doc(**kw: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "agents": [{"id": "a", "capacity": {"cpu": 1}}],
        "tasks": [{"id": "t", "demand": {"cpu": 1}}],
    }
    doc.update(kw)
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agents": [{"id": "a"}, {"id": "a"}]}, "appears twice"),
        ({"tasks": [{"id": "t", "demand": {"gpu": 1}}]}, "unknown resource 'gpu'"),
        ({"tasks": [{"id": "t", "pinned_agent": "zz"}]}, "unknown agent 'zz'"),
        ({"groups": [{"kind": "anti_affinity", "tasks": ["t", "x"]}]}, "unknown task 'x'"),
        ({"cost": [[1, 2]]}, "one entry per task"),
        ({"usage": [[1], [1]]}, "one per agent"),
        ({"tasks": [{"id": "t", "demand": {"cpu": -1}}]}, "use a value >= 0"),
        ({"objectives": {"mode": "pareto", "pareto": ["cost"]}}, "at least two"),
        ({"objectives": {"mode": "lexicographic"}}, "needs 'order'"),
        ({"objectives": {"weights": {"speed": 1}}}, "weights.speed"),
        ({"topology": {"nodes": [{"id": "n"}], "links": [{"a": "n", "b": "m"}]}}, "unknown node"),
        ({"agents": [{"id": "a", "node": "x"}], "topology": {"nodes": [{"id": "n"}]}}, "node 'x'"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_documents_name_the_problem(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        Problem.model_validate(_doc(**change))
    text = str(info.value)
    assert message in text


def test_json_schema_exports() -> None:
    schema = Problem.model_json_schema()
    assert "agents" in schema["properties"]
    assert "Task" in schema["$defs"]
