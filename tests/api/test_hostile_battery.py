"""A battery of 100+ hostile requests: no 5xx, no traceback or server path anywhere, and
every accepted request ends in a result (and an HTML report) with no NaN in it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.numeric_ranges import MAX_MAGNITUDE, MIN_RATE
from tests.api.conftest import small_problem

_LEAKS = re.compile(r"Traceback|File \"|/work/|site-packages|\.py\"|\.py:\d")
_NAN = float("nan")
_INF = float("inf")
_HUGE = (_NAN, _INF, -_INF, 1e39, 1e308, -1e308, 10**20)


def _problem() -> dict[str, Any]:
    doc = small_problem(6, 3)
    doc["agents"][0].update(node="n0", max_tasks=5)
    doc["topology"] = {
        "nodes": [{"id": "n0", "x": 0.0, "y": 0.0}, {"id": "n1", "x": 1.0, "y": 2.0}],
        "links": [{"a": "n0", "b": "n1", "latency_ms": 1.0, "bandwidth": 10.0, "cost": 1.0}],
    }
    doc["communication"] = [{"a": "t0", "b": "t1", "volume": 2.0}]
    doc["cost"] = None
    del doc["cost"]
    return doc


# Paths into the problem document whose number a hostile value replaces.
_NUMBER_PATHS: list[tuple[Any, ...]] = [
    ("agents", 0, "capacity", "cpu"),
    ("agents", 1, "speed"),
    ("agents", 2, "cost_rate"),
    ("agents", 0, "max_tasks"),
    ("tasks", 0, "demand", "cpu"),
    ("tasks", 1, "work"),
    ("tasks", 2, "deadline"),
    ("tasks", 3, "weight"),
    ("communication", 0, "volume"),
    ("topology", "nodes", 1, "x"),
    ("topology", "links", 0, "latency_ms"),
    ("topology", "links", 0, "bandwidth"),
    ("unassigned_penalty",),
    ("options", "time_limit_s"),
    ("options", "seed"),
]


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _job_cases() -> Iterator[tuple[str, str, bytes]]:
    base = _problem()
    for path in _NUMBER_PATHS:
        for value in _HUGE:
            yield (
                f"{'.'.join(map(str, path))}={value}",
                "/v1/allocations",
                _dump(_set(base, path, value)),
            )
    m, n = len(base["agents"]), len(base["tasks"])
    for label, value in (("nan", _NAN), ("big", 1e39), ("neg", -1.0)):
        usage = [[1.0] * n for _ in range(m)]
        usage[1][2] = value
        yield f"usage {label}", "/v1/allocations", _dump({**base, "usage": usage})
        cost = [[1.0] * n for _ in range(m)]
        cost[0][1] = value if label != "neg" else _INF
        yield f"cost {label}", "/v1/allocations", _dump({**base, "cost": cost})
    yield "speed tiny", "/v1/allocations", _dump(_set(base, ("agents", 0, "speed"), 1e-300))
    yield (
        "objective weight",
        "/v1/allocations",
        _dump({**base, "objectives": {"mode": "weighted", "weights": {"cost": 1e308}}}),
    )
    yield "no solvers", "/v1/allocations", _dump(_set(base, ("options", "solvers"), []))
    yield "solver name", "/v1/comparisons", _dump(_set(base, ("options", "solvers"), ["nope"]))
    yield "solvers string", "/v1/allocations", _dump(_set(base, ("options", "solvers"), "greedy"))
    yield "deep nesting", "/v1/allocations", b"[" * 5000 + b"]" * 5000
    yield "not json", "/v1/allocations", b"{agents: 1"
    yield "not utf8", "/v1/allocations", b'{"name": "\xff\xfe"}'
    yield "array", "/v1/comparisons", b"[1, 2, 3]"
    yield "empty", "/v1/topology/optimizations", b""
    yield (
        "batch no solvers",
        "/v1/comparisons/batches",
        _dump({"instances": [base], "options": {"solvers": []}}),
    )
    yield (
        "batch nan",
        "/v1/comparisons/batches",
        _dump({"instances": [_set(base, ("tasks", 0, "work"), _NAN)]}),
    )
    yield (
        "topology inf",
        "/v1/topology/optimizations",
        _dump({"topology": _set(base["topology"], ("nodes", 0, "y"), 1e308)}),
    )


def _swarm_cases() -> Iterator[tuple[str, str, bytes]]:
    for field, values in (
        ("speed", (_NAN, _INF, 1e39, 0.0)),
        ("slots", (10**20, -1)),
        ("max_tasks", (10**20,)),
    ):
        for value in values:
            body = {"agents": [{"id": "a9", field: value}]}
            yield f"swarm agent {field}={value}", "/v1/swarms/h/agents", _dump(body)
    for value in (_NAN, _INF, -_INF, 1e39):
        yield (
            f"swarm capacity {value}",
            "/v1/swarms/h/agents",
            _dump({"agents": [{"id": "a8", "capacity": {"cpu": value}}]}),
        )
    task_values: tuple[tuple[str, object], ...] = (
        ("work", _NAN),
        ("work", _INF),
        ("weight", _NAN),
        ("deadline_s", 1e308),
        ("deadline_s", _INF),
        ("demand", {"cpu": _NAN}),
        ("demand", {"cpu": 1e39}),
    )
    for field, task_value in task_values:
        task_body: dict[str, object] = {"tasks": [{"id": "x1", field: task_value}]}
        yield f"swarm task {field}={task_value}", "/v1/swarms/h/tasks", _dump(task_body)
    yield (
        "swarm complete nan runtime",
        "/v1/swarms/h/tasks/x0/complete",
        _dump({"agent_id": "a0", "runtime_s": _NAN}),
    )


def _dump(doc: object) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


_CASES = [*_job_cases(), *_swarm_cases()]


def test_the_battery_is_large_enough() -> None:
    assert len(_CASES) >= 100


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from api.app import create_app
    from api.settings import ServiceSettings

    settings = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("hostile"), fast_workers=1, max_concurrent_jobs=2
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.post("/v1/swarms/h/agents", json={"agents": [{"id": "a0"}]})
        yield client


@pytest.mark.parametrize(("label", "route", "body"), _CASES, ids=[c[0] for c in _CASES])
def test_hostile_request(hostile_client: TestClient, label: str, route: str, body: bytes) -> None:
    response = hostile_client.post(
        route, params={"wait": 10}, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text[:300]
    assert not _LEAKS.search(response.text), response.text[:500]
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        return
    if route.startswith("/v1/swarms"):
        return
    _check_finished_job(hostile_client, response.json())


def _check_finished_job(client: TestClient, job: dict[str, Any]) -> None:
    """An accepted job ends with a result a later stage can read: JSON, report, no NaN."""
    job = client.get(f"/v1/jobs/{job['id']}", params={"wait": 30}).json()
    assert job["status"] in ("succeeded", "failed"), job
    assert not _LEAKS.search(json.dumps(job)), job
    result = client.get(f"/v1/jobs/{job['id']}/result")
    if result.status_code == 200:
        assert "NaN" not in result.text and "Infinity" not in result.text
        assert not _LEAKS.search(result.text), result.text[:500]
        if job["kind"] != "topology":
            html = client.get(f"/v1/jobs/{job['id']}/report", headers={"Accept": "text/html"})
            assert html.status_code == 200, html.text[:300]
            assert not _LEAKS.search(html.text)


# At the edge of every range: accepted, and solved to a readable result.
_EDGE_VALUES: list[tuple[tuple[Any, ...], float]] = [
    (("agents", 0, "capacity", "cpu"), MAX_MAGNITUDE),
    (("agents", 1, "speed"), MIN_RATE),
    (("agents", 2, "cost_rate"), MAX_MAGNITUDE),
    (("tasks", 1, "work"), MAX_MAGNITUDE),
    (("tasks", 2, "deadline"), MAX_MAGNITUDE),
    (("tasks", 3, "weight"), MAX_MAGNITUDE),
    (("topology", "nodes", 1, "x"), MAX_MAGNITUDE),
    (("unassigned_penalty",), MAX_MAGNITUDE),
]


@pytest.mark.parametrize(
    ("path", "value"), _EDGE_VALUES, ids=[".".join(map(str, p)) for p, _ in _EDGE_VALUES]
)
def test_edge_values_are_solved_to_a_clean_result(
    hostile_client: TestClient, path: tuple[Any, ...], value: float
) -> None:
    doc = _set(_problem(), path, value)
    doc["options"]["solvers"] = ["greedy", "cpsat"]
    response = hostile_client.post("/v1/allocations", params={"wait": 10}, json=doc)
    assert response.status_code in (200, 202), response.text[:300]
    _check_finished_job(hostile_client, response.json())


_TOPOLOGY_HOSTILE: list[tuple[str, Any]] = [
    ("traffic", [{"a": "n0", "b": "n1", "volume": 1e308}]),
    ("traffic", [{"a": "n0", "b": "n1", "volume": _NAN}]),
    ("traffic_matrix", [[0.0, _INF], [0.0, 0.0]]),
    ("constraints", {"link_budget": 1e308}),
    ("constraints", {"max_degree": 10**20}),
    ("new_links", {"bandwidth": 1e-300}),
    ("seed", 10**20),
]


@pytest.mark.parametrize(
    ("field", "value"), _TOPOLOGY_HOSTILE, ids=[f for f, _ in _TOPOLOGY_HOSTILE]
)
def test_hostile_topology_numbers_are_refused(
    hostile_client: TestClient, field: str, value: Any
) -> None:
    body = {"topology": _problem()["topology"], field: value}
    response = hostile_client.post(
        "/v1/topology/optimizations",
        content=_dump(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert not _LEAKS.search(response.text)
