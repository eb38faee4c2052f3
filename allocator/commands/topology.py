"""CLI: `allocator topology metrics|optimize FILE` and `allocator bottleneck-analyze FILE`.

Bad input exits with code 2 and one line naming the file, the field and what to change;
an optimisation with no design meeting the constraints exits with code 3.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from allocator.cli_rich import new_console, new_table
from models.errors import InputError
from models.topology_metrics import TopologyMetrics, topology_metrics

# The topology documents bring networkx (~0.25 s): imported by the commands that read
# them, since every `allocator` command registers these and `solve` counts its process
# start against its time limit.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from models.topology_request import TopologyRequest
    from models.topology_routing import RoutingSummary
    from solvers.topology import TopologyResult

__all__ = ["register"]

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3

FileArg = Annotated[
    Path,
    typer.Argument(help="Topology request JSON, or a bare topology (JSON, node-link, GraphML)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
SvgOpt = Annotated[Path | None, typer.Option("--svg", help="Write an SVG drawing here.")]


def _fail(message: str) -> NoReturn:
    new_console(stderr=True).print(
        f"error: {message}", markup=False, highlight=False, soft_wrap=True
    )
    raise typer.Exit(EXIT_BAD_INPUT)


def _load(path: Path) -> TopologyRequest:
    from models.topology_request import load_topology_request  # lazily: see the imports

    try:
        return load_topology_request(path)
    except InputError as exc:
        _fail(str(exc))


def _console() -> Console:
    console = new_console()
    return console if console.is_terminal else new_console(width=140)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _metrics_of(request: TopologyRequest, source: Path) -> TopologyMetrics:
    from models.topology_graph import topology_to_graph  # lazily: see the imports
    from models.topology_request import node_traffic_matrix

    try:
        graph = topology_to_graph(request.topology, source=str(source))
    except InputError as exc:
        _fail(str(exc))
    return topology_metrics(graph, node_traffic_matrix(request))


def _summary_table(title: str, columns: dict[str, TopologyMetrics]) -> Table:
    table = new_table(title=title)
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    rows: list[tuple[str, str]] = [
        ("nodes", "n_nodes"),
        ("links", "n_links"),
        ("connected", "connected"),
        ("max degree", "max_degree"),
        ("total link cost", "total_link_cost"),
        ("diameter (ms)", "diameter_ms"),
        ("diameter (hops)", "diameter_hops"),
        ("mean path latency (ms)", "mean_path_latency_ms"),
        ("traffic-weighted latency (ms)", "traffic_weighted_latency_ms"),
        ("total traffic", "total_traffic"),
        ("unreachable traffic", "unreachable_traffic"),
        ("node connectivity", "node_connectivity"),
        ("edge connectivity", "edge_connectivity"),
        ("algebraic connectivity", "algebraic_connectivity"),
        ("overloaded links (shortest paths)", "overloaded_links"),
    ]
    for label, attr in rows:
        cells = []
        for m in columns.values():
            value: Any = getattr(m, attr)
            if isinstance(value, list):
                cells.append(str(len(value)))
            elif isinstance(value, float):
                cells.append(_fmt(value))
            else:
                cells.append("-" if value is None else str(value))
        table.add_row(label, *cells)
    return table


def _bottleneck_tables(m: TopologyMetrics) -> list[Table]:
    nodes = new_table(title="Bottleneck nodes (traffic relayed for others)")
    for col in ("node", "traffic through", "share"):
        nodes.add_column(col, justify="left" if col == "node" else "right")
    for n in m.bottleneck_nodes:
        nodes.add_row(n.node, _fmt(n.traffic_through), f"{100 * n.share:.1f}%")
    links = new_table(title="Busiest links (shortest-path routing)")
    for col in ("link", "traffic", "bandwidth", "utilisation", ""):
        links.add_column(col, justify="left" if col in ("link", "") else "right")
    seen = set()
    for ll in [*m.overloaded_links, *m.bottleneck_links]:
        if (ll.a, ll.b) in seen:
            continue
        seen.add((ll.a, ll.b))
        flag = "[bold red]over bandwidth[/bold red]" if ll.traffic > ll.bandwidth else ""
        links.add_row(
            f"{ll.a} - {ll.b}",
            _fmt(ll.traffic),
            _fmt(ll.bandwidth),
            f"{100 * ll.utilisation:.1f}%",
            flag,
        )
    return [nodes, links]


def metrics_command(file: FileArg, as_json: JsonOpt = False, svg: SvgOpt = None) -> None:
    """Latency, robustness, cost and bottlenecks of a topology under its traffic."""
    from models.topology_graph import topology_to_graph  # lazily: see the imports

    request = _load(file)
    m = _metrics_of(request, file)
    if svg is not None:
        from allocator.topology_drawing import draw_topology  # matplotlib: only when drawing

        draw_topology(topology_to_graph(request.topology), svg, metrics=m, title=request.name)
    if as_json:
        typer.echo(m.model_dump_json(indent=2))
        return
    console = _console()
    console.print(_summary_table(f"Topology {request.name} ({file})", {"value": m}))


def bottleneck_command(file: FileArg, as_json: JsonOpt = False, svg: SvgOpt = None) -> None:
    """Which nodes relay the most traffic and which links run over bandwidth."""
    from models.topology_graph import topology_to_graph  # lazily: see the imports

    request = _load(file)
    m = _metrics_of(request, file)
    if svg is not None:
        from allocator.topology_drawing import draw_topology  # matplotlib: only when drawing

        draw_topology(topology_to_graph(request.topology), svg, metrics=m, title=request.name)
    routed = _routed(request)
    if as_json:
        doc = {
            "name": request.name,
            "traffic_weighted_latency_ms": m.traffic_weighted_latency_ms,
            "bottleneck_nodes": [n.model_dump() for n in m.bottleneck_nodes],
            "bottleneck_links": [ll.model_dump() for ll in m.bottleneck_links],
            "overloaded_links": [ll.model_dump() for ll in m.overloaded_links],
            "routed_within_bandwidth": routed.model_dump() if routed is not None else None,
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    console = _console()
    console.print(
        f"[bold]{request.name}[/bold]: traffic-weighted latency "
        f"{_fmt(m.traffic_weighted_latency_ms)} ms, "
        f"{len(m.overloaded_links)} link(s) over bandwidth on shortest paths"
    )
    if routed is not None:
        console.print(
            f"routed around full links ({routed.method}): "
            + (
                f"fits, busiest link {routed.max_utilisation:.0%}"
                if routed.fits
                else f"{routed.overloaded_links} link(s) still over, busiest "
                f"{routed.max_utilisation:.0%}; carries {routed.carried_fraction:.0%} "
                "of the traffic at once"
            )
        )
    for table in _bottleneck_tables(m):
        console.print(table)


def _routed(request: TopologyRequest) -> RoutingSummary | None:
    """The request's topology routed as a multi-commodity flow within bandwidth."""
    from solvers.topology.job import routing_summary
    from solvers.topology.space import build_space

    try:
        space = build_space(request)
    except InputError as exc:
        _fail(str(exc))
    return routing_summary(space, space.current)


def _with_overrides(request: TopologyRequest, file: Path, **overrides: Any) -> TopologyRequest:
    from models.topology_graph import validation_error_to_input  # lazily: see the imports
    from models.topology_request import TopologyRequest

    data = request.model_dump()
    flags = {
        "max_degree": "--max-degree",
        "min_connectivity": "--min-connectivity",
        "link_budget": "--budget",
    }
    for key, value in overrides.items():
        if value is None:
            continue
        if key in flags:
            data["constraints"][key] = value
        else:
            data[key] = value
    try:
        return TopologyRequest.model_validate(data)
    except ValidationError as exc:
        _fail(str(validation_error_to_input(exc, str(file))))


def _print_result(result: TopologyResult) -> None:
    console = _console()
    console.print(
        _summary_table(
            f"Topology {result.name}: before and after",
            {"before": result.before, "after": result.after},
        )
    )
    diff = new_table(title="Link changes")
    for col in ("change", "link", "latency ms", "cost"):
        diff.add_column(col)
    for change, links in (("add", result.links_to_add), ("remove", result.links_to_remove)):
        for link in links:
            diff.add_row(change, f"{link.a} - {link.b}", _fmt(link.latency_ms), _fmt(link.cost))
    console.print(diff)
    verdict = (
        "[bold green]APPLY[/bold green]" if result.applied else "[bold yellow]KEEP[/bold yellow]"
    )
    console.print(
        f"objective {_fmt(result.objective_before)} -> {_fmt(result.objective_after)} "
        f"({result.method}, {result.status}, started from {result.start}, "
        f"{result.elapsed_s:.1f} s)"
    )
    if result.milp is not None:
        console.print(
            f"MILP: {result.milp.status}, objective {_fmt(result.milp.objective)}, "
            f"bound {_fmt(result.milp.bound)}"
        )
    routing = _routing_table(result)
    if routing is not None:
        console.print(routing)
    console.print(f"{verdict}: {result.reason}")


def _routing_table(result: TopologyResult) -> Table | None:
    """Both designs routed as a multi-commodity flow within link bandwidth."""
    columns = {"before": result.routing_before, "after": result.routing_after}
    if all(r is None for r in columns.values()):
        return None
    table = new_table(title="Routed within bandwidth (multi-commodity flow)")
    table.add_column("")
    for name in columns:
        table.add_column(name, justify="right")

    def row(label: str, cell: Callable[[RoutingSummary], str]) -> None:
        table.add_row(label, *("-" if r is None else cell(r) for r in columns.values()))

    row("routing", lambda r: r.method)
    row("fits", lambda r: "yes" if r.fits else "[bold red]no[/bold red]")
    row("busiest link", lambda r: f"{r.max_utilisation:.0%}")
    row("links over bandwidth", lambda r: str(r.overloaded_links))
    row("traffic carried at once", lambda r: f"{r.carried_fraction:.0%}")
    row("traffic x latency", lambda r: _fmt(r.traffic_latency))
    return table


def optimize_command(
    file: FileArg,
    max_degree: Annotated[
        int | None, typer.Option("--max-degree", min=1, help="Links per node at most.")
    ] = None,
    min_connectivity: Annotated[
        int | None, typer.Option("--min-connectivity", min=1, help="Survive losing k-1 nodes.")
    ] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", min=0, help="Total link cost at most.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0, help="Apply only above this gain (0.1 = 10%)."),
    ] = None,
    method: Annotated[str | None, typer.Option("--method", help="heuristic, milp or auto.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds.")] = None,
    as_json: JsonOpt = False,
    svg: SvgOpt = None,
) -> None:
    """Design a better topology for the traffic; apply it only if clearly better."""
    request = _with_overrides(
        _load(file),
        file,
        max_degree=max_degree,
        min_connectivity=min_connectivity,
        link_budget=budget,
        threshold=threshold,
        method=method,
        time_limit_s=time_limit,
    )
    try:
        from solvers.topology import optimize_topology

        result = optimize_topology(request)
    except InputError as exc:
        _fail(str(exc))
    if svg is not None:
        from allocator.topology_drawing import draw_before_after
        from models.topology_graph import topology_to_graph

        draw_before_after(
            topology_to_graph(request.topology),
            topology_to_graph(result.topology),
            svg,
            before_metrics=result.before,
            after_metrics=result.after,
            title=request.name,
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print_result(result)
    if result.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)


def register(app: typer.Typer) -> None:
    """Add `topology metrics`, `topology optimize` and `bottleneck-analyze` to `app`."""
    topology_app = typer.Typer(help="Topology metrics and optimisation.", no_args_is_help=True)
    topology_app.command("metrics")(metrics_command)
    topology_app.command("optimize")(optimize_command)
    app.add_typer(topology_app, name="topology")
    app.command("bottleneck-analyze")(bottleneck_command)
