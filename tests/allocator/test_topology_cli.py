"""The topology commands through a tiny Typer app that only calls `register`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from allocator.commands.topology import register

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "topology" / "three_sites.json"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("version")  # a second command keeps Typer from collapsing the app
    def version() -> None:
        typer.echo("test")

    return app


runner = CliRunner()


def test_metrics_prints_a_table(app: typer.Typer) -> None:
    result = runner.invoke(app, ["topology", "metrics", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "traffic-weighted latency" in result.output


def test_metrics_json_is_one_document(app: typer.Typer) -> None:
    result = runner.invoke(app, ["topology", "metrics", str(EXAMPLE), "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["n_nodes"] == 12 and doc["connected"] is True


def test_bottleneck_analyze_flags_overloaded_links(app: typer.Typer) -> None:
    result = runner.invoke(app, ["bottleneck-analyze", str(EXAMPLE)])
    assert result.exit_code == 0
    assert "over bandwidth" in result.output
    doc = json.loads(runner.invoke(app, ["bottleneck-analyze", str(EXAMPLE), "--json"]).stdout)
    assert doc["overloaded_links"] and doc["bottleneck_nodes"]
    routed = doc["routed_within_bandwidth"]
    assert routed["method"] == "lp" and routed["fits"] is False
    assert routed["min_congestion"] == pytest.approx(1.202)
    assert routed["carried_fraction"] == pytest.approx(1 / 1.202)


def test_optimize_json_and_svg(app: typer.Typer, tmp_path: Path) -> None:
    svg = tmp_path / "out.svg"
    result = runner.invoke(
        app,
        [
            "topology",
            "optimize",
            str(EXAMPLE),
            "--json",
            "--svg",
            str(svg),
            "--method",
            "heuristic",
            "--time-limit",
            "1",
            "--max-degree",
            "4",
            "--threshold",
            "0.2",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["applied"] is True and doc["threshold"] == 0.2
    assert doc["after"]["max_degree"] <= 4
    assert svg.read_text().lstrip().startswith("<?xml")


def test_optimize_tables(app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["topology", "optimize", str(EXAMPLE), "--method", "heuristic", "--time-limit", "1"]
    )
    assert result.exit_code == 0
    assert "APPLY" in result.output and "Link changes" in result.output


def test_infeasible_constraints_exit_3(app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["topology", "optimize", str(EXAMPLE), "--max-degree", "1", "--time-limit", "1"]
    )
    assert result.exit_code == 3
    assert "no design meets the constraints" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{"topology": {"nodes": [{"id": "a"}], "links": [{"a": "a", "b": "x"}]}}',
            "unknown node 'x'",
        ),
        (
            '{"topology": {"nodes": [{"id": "a"}, {"id": "b"}], '
            '"links": [{"a": "a", "b": "b", "latency_ms": -1}]}}',
            "latency_ms",
        ),
        (
            '{"topology": {"nodes": [{"id": "a"}]}, "constraints": {"budget": 3}}',
            "constraints.budget",
        ),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    app: typer.Typer, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    for command in (["topology", "metrics"], ["topology", "optimize"], ["bottleneck-analyze"]):
        result = runner.invoke(app, [*command, str(path)])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and expected in lines[0]
        assert "Traceback" not in result.output


def test_missing_file_exit_2(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["topology", "metrics", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_optimize_reports_the_overloaded_start_and_returns_a_design_that_fits(
    app: typer.Typer,
) -> None:
    args = ["topology", "optimize", str(EXAMPLE), "--method", "heuristic", "--time-limit", "2"]
    doc = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    # The starting design: 7 links over bandwidth on shortest paths, the worst at 189%;
    # no routing fixes it (the least congestion any routing reaches is 120%).
    assert len(doc["before"]["overloaded_links"]) == 7
    assert max(ll["utilisation"] for ll in doc["before"]["overloaded_links"]) == pytest.approx(
        1.886
    )
    assert any("7 link(s) over bandwidth" in v and "189%" in v for v in doc["current_violations"])
    assert doc["routing_before"]["fits"] is False
    assert doc["routing_before"]["min_congestion"] == pytest.approx(1.202)
    # The proposed design carries every pair's traffic within every link's bandwidth.
    assert doc["status"] in ("optimal", "feasible") and doc["applied"] is True
    assert doc["routing_after"]["fits"] is True
    # Within float round-off: loads are re-summed from the routed paths' pieces.
    assert doc["routing_after"]["max_utilisation"] <= 1.0 + 1e-9
    assert doc["routing_after"]["overloaded_links"] == 0
    table = runner.invoke(app, args)
    assert "Routed within bandwidth" in table.output and "189%" in table.output
