""".ci/postgres.sh never touches a cluster it did not make: a directory that is not empty
is refused (exit 2, nothing stopped or deleted), so a developer's own cluster is safe."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "postgres.sh"

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
    reason="PostgreSQL is not installed (.ci/run installs it before the tests)",
)


def test_a_directory_in_use_is_refused_and_left_alone(tmp_path: Path) -> None:
    cluster = tmp_path / "someone-elses-cluster"
    cluster.mkdir()
    (cluster / "PG_VERSION").write_text("15\n")
    (cluster / "postmaster.pid").write_text("12345\n")
    result = subprocess.run(
        ["bash", str(_SCRIPT)],
        env={**os.environ, "ALLOCATOR_PG_DIR": str(cluster)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "not empty" in result.stderr and result.stdout == ""
    assert sorted(p.name for p in cluster.iterdir()) == ["PG_VERSION", "postmaster.pid"]
    assert (cluster / "postmaster.pid").read_text() == "12345\n"
