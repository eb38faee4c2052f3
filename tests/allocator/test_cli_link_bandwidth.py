"""`allocator solve` on a request with a topology: the chosen plan's busiest link is
printed, and a request no placement can carry says by how much it falls short."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_REQUEST = {
    "name": "bw",
    "agents": [
        {"id": "A1", "capacity": {"cpu": 10}, "node": "n1"},
        {"id": "A2", "capacity": {"cpu": 1}, "node": "n2"},
        {"id": "A3", "capacity": {"cpu": 10}, "node": "n1"},
    ],
    "tasks": [
        {"id": "x", "demand": {"cpu": 1}},
        {"id": "y", "demand": {"cpu": 1}},
        {"id": "z", "demand": {"cpu": 1}},
    ],
    "cost": [[1, 5, 1], [5, 1, 5], [9, 9, 9]],
    "communication": [{"a": "x", "b": "y", "volume": 8}, {"a": "z", "b": "y", "volume": 3}],
    "topology": {
        "nodes": [{"id": "n1"}, {"id": "n2"}],
        "links": [{"a": "n1", "b": "n2", "bandwidth": 12}],
    },
}


def _solve(tmp_path: Path, request: dict[str, object]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator.cli",
            "solve",
            str(path),
            "--time-limit",
            "2",
            "--solver",
            "greedy",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )


def test_the_chosen_plans_busiest_link_is_printed(tmp_path: Path) -> None:
    # Cheapest: x and z on A1, y on A2 (cost 3): 11 units over the 12-wide link.
    done = _solve(tmp_path, _REQUEST)
    assert done.returncode == 0, done.stderr
    assert "links: 1 carry traffic; busiest n1-n2 at 92% of its bandwidth" in done.stdout


def test_a_request_no_placement_can_carry_says_by_how_much(tmp_path: Path) -> None:
    pinned = dict(_REQUEST)
    pinned["tasks"] = [
        {"id": "x", "demand": {"cpu": 1}, "pinned_agent": "A1"},
        {"id": "y", "demand": {"cpu": 1}, "pinned_agent": "A2"},
        {"id": "z", "demand": {"cpu": 1}, "pinned_agent": "A3"},
    ]
    pinned["communication"] = [{"a": "x", "b": "y", "volume": 15}]
    done = _solve(tmp_path, pinned)
    out = " ".join(done.stdout.split())  # the console wraps long lines
    assert "no plan found keeps every link within bandwidth" in out
    assert "needs 125.0% of its bandwidth" in out
