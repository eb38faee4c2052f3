"""No 5xx on any input: random JSON documents at every body-taking route (hypothesis)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text()
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    ["agents", "tasks", "options", "resources", "topology", "traffic", "completed", "id"]
)
_documents = _json | st.dictionaries(_keys, _json, max_size=4)
_routes = st.sampled_from(
    [
        "/v1/allocations",
        "/v1/comparisons",
        "/v1/topology/optimizations",
        "/v1/swarms/fz/agents",
        "/v1/swarms/fz/tasks",
        "/v1/swarms/fz/agents/a0/pull",
        "/v1/swarms/fz/plans",
        "/v1/swarms/fz/tasks/t0/complete",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=_routes, document=_documents)
def test_random_documents_never_cause_a_server_error(
    client: TestClient, route: str, document: Any
) -> None:
    body = json.dumps(document, allow_nan=True).encode()
    response = client.post(route, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (route, body[:200], response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.text(max_size=30), query=st.text(max_size=30))
def test_random_paths_and_queries_never_cause_a_server_error(
    client: TestClient, path: str, query: str
) -> None:
    path, query = quote(path, safe=""), quote(query, safe="=&")
    for url in (f"/v1/jobs/{path}?wait=0&{query}", f"/v1/jobs?{query}", f"/v1/swarms/{path}/kpis"):
        response = client.get(url)
        assert response.status_code < 500, (url, response.text[:300])
