"""`allocator serve` and the operator commands: the CLI as a client of a running service.

The server is named by its import string so `allocator` never imports `api`.
The operator commands talk HTTP (httpx) to `--url`, with ALLOCATOR_API_TOKEN as token.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from allocator.cli_rich import new_console, new_table

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

__all__ = ["register"]


def _out() -> Console:
    return new_console()


def _err() -> Console:
    return new_console(stderr=True)


APP_IMPORT = "api.app:create_app"
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_LOOPBACK_AND_ANY = (*_LOOPBACK_NAMES, "0.0.0.0", "::")
DEFAULT_URL = "http://127.0.0.1:8000"

UrlOpt = Annotated[
    str,
    typer.Option("--url", envvar="ALLOCATOR_URL", help="Base URL of the running service."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    dask: Annotated[
        str | None,
        typer.Option("--dask", help="Dask scheduler address: run solver jobs on that cluster."),
    ] = None,
    max_connections: Annotated[
        int,
        typer.Option(
            envvar="ALLOCATOR_HTTP_MAX_CONNECTIONS",
            min=1,
            help="Open connections and requests at once; beyond it 503.",
        ),
    ] = 500,
    header_timeout: Annotated[
        float,
        typer.Option(
            envvar="ALLOCATOR_HTTP_HEADER_TIMEOUT_S",
            min=0.1,
            help="Seconds a client may take to send its request headers.",
        ),
    ] = 10.0,
    keep_alive: Annotated[
        float,
        typer.Option(
            envvar="ALLOCATOR_HTTP_KEEP_ALIVE_S", min=0.1, help="Idle keep-alive connections close."
        ),
    ] = 5.0,
) -> None:
    """Start the HTTP service (settings from ALLOCATOR_* environment variables).

    The request body read timeout is ALLOCATOR_BODY_TIMEOUT_S (the app's setting).
    """
    import uvicorn

    from allocator.commands.http_limits import header_timeout_protocol

    _check_store()

    if dask:
        os.environ["ALLOCATOR_DASK_ADDRESS"] = dask  # read by the job runner at start-up
    if host not in _LOOPBACK_AND_ANY and "ALLOCATOR_TRUSTED_HOSTS" not in os.environ:
        # Listening on one named address: answer to it as well as to loopback names.
        os.environ["ALLOCATOR_TRUSTED_HOSTS"] = json.dumps([*_LOOPBACK_NAMES, host])

    where = f"http://{host}:{port}"
    _err().print(
        f"allocator service on {where}  (API docs {where}/docs, health {where}/readyz, "
        f"metrics {where}/metrics)"
    )
    uvicorn.run(
        APP_IMPORT,
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # the app logs requests itself, as JSON
        timeout_graceful_shutdown=10,
        http=header_timeout_protocol(header_timeout),
        limit_concurrency=max_connections,
        timeout_keep_alive=int(max(1, keep_alive)),
        h11_max_incomplete_event_size=64 * 1024,  # header bytes (when h11 is used)
    )


def _check_store() -> None:
    """Open the store once before the server starts: an unusable data directory is one
    line naming the path and the reason, and exit code 2, not a traceback."""
    from pathlib import Path

    from allocator.store import StoreUnusable, open_writable_store

    data_dir = Path(os.environ.get("ALLOCATOR_DATA_DIR") or "data")
    try:
        open_writable_store(os.environ.get("ALLOCATOR_DATABASE_URL") or None, data_dir).close()
    except StoreUnusable as exc:
        sys.stderr.write(f"error: {exc}\n")  # one line, never wrapped
        raise typer.Exit(2) from None


def _client(url: str) -> httpx.Client:
    # httpx is imported by the commands that talk HTTP: every `allocator` command
    # registers these, and `solve` counts its process start against its time limit.
    import httpx

    token = os.environ.get("ALLOCATOR_API_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=60)


def _call(url: str, method: str, path: str, **kwargs: Any) -> Any:
    """One request; a problem document or a connection error becomes exit code 2."""
    import httpx  # lazily: see _client

    try:
        with _client(url) as client:
            response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        _err().print(f"error: cannot reach the service at {url}: {exc}; is it running?")
        raise typer.Exit(2) from exc
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        _err().print(f"error: {response.status_code}: {detail}", markup=False, highlight=False)
        raise typer.Exit(2)
    if "json" in response.headers.get("content-type", ""):
        return response.json()
    return response.text


def _emit(data: Any, as_json: bool, title: str) -> None:
    """`--json` prints the document; otherwise a Rich table per list or mapping."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    _print_tables(data, title)


def _print_tables(data: Any, title: str) -> None:
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        columns = list(dict.fromkeys(k for row in data for k in row))
        table = new_table(title=title)
        for column in columns:
            table.add_column(column)
        for row in data:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        _out().print(table)
        return
    if isinstance(data, dict):
        table = new_table(title=title, show_header=False)
        table.add_column("key", style="bold")
        table.add_column("value")
        nested: list[tuple[str, Any]] = []
        for key, value in data.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                nested.append((key, value))
            elif (
                isinstance(value, dict)
                and value
                and all(isinstance(v, dict) for v in value.values())
            ):
                nested.append((key, [{"name": k, **v} for k, v in value.items()]))
            else:
                table.add_row(str(key), _cell(value))
        if table.row_count:
            _out().print(table)
        for key, rows in nested:
            _print_tables(rows, f"{title}: {key}")
        return
    _out().print(data)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def load_balance(
    swarm: Annotated[str, typer.Option("--swarm", help="Swarm id.")],
    strategy: Annotated[str, typer.Option(help="threshold or adaptive.")] = "threshold",
    url: UrlOpt = DEFAULT_URL,
    as_json: JsonOpt = False,
) -> None:
    """Trigger rebalancing of a swarm and show what moved and the KPIs before and after."""
    if strategy not in ("threshold", "adaptive"):
        _err().print(f"error: --strategy is {strategy!r}; use threshold or adaptive")
        raise typer.Exit(2)
    data = _call(url, "POST", f"/v1/swarms/{swarm}/rebalance", params={"strategy": strategy})
    _emit(data, as_json, f"rebalance {swarm}")


def agent_metrics(
    swarm: Annotated[str, typer.Option("--swarm", help="Swarm id.")],
    url: UrlOpt = DEFAULT_URL,
    as_json: JsonOpt = False,
) -> None:
    """Per-agent view of a swarm: queue, running, utilisation, breaker state."""
    data = _call(url, "GET", f"/v1/swarms/{swarm}/agents")
    _emit(data, as_json, f"agents of {swarm}")


def config(
    action: Annotated[str, typer.Argument(help="show or set")],
    value: Annotated[str | None, typer.Argument(help="JSON object of settings for `set`.")] = None,
    url: UrlOpt = DEFAULT_URL,
    as_json: JsonOpt = False,
) -> None:
    """Show or change coordinator settings live, e.g. set '{"steal_threshold": 5}'."""
    if action == "show":
        data = _call(url, "GET", "/v1/config")
    elif action == "set":
        try:
            changes = json.loads(value or "")
        except ValueError as exc:
            _err().print("error: give the settings as a JSON object, e.g. '{\"aging_boost\": 10}'")
            raise typer.Exit(2) from exc
        data = _call(url, "PATCH", "/v1/config", json=changes)
    else:
        _err().print(f"error: action is {action!r}; use show or set")
        raise typer.Exit(2)
    _emit(data, as_json, "configuration")


def performance_report(
    fmt: Annotated[str, typer.Option("--format", help="summary, detailed or json.")] = "summary",
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Service performance: jobs, solver times, coordinator KPIs across swarms."""
    if fmt not in ("summary", "detailed", "json"):
        _err().print(f"error: --format is {fmt!r}; use summary, detailed or json")
        raise typer.Exit(2)
    data = _call(
        url, "GET", "/v1/performance", params={"detail": fmt == "detailed" or fmt == "json"}
    )
    _emit(data, fmt == "json", "performance")


def metrics_collect(
    components: Annotated[
        str, typer.Option(help="Comma-separated: coordinator, queues, solvers, jobs.")
    ] = "coordinator,queues,solvers",
    url: UrlOpt = DEFAULT_URL,
    as_json: JsonOpt = False,
) -> None:
    """Collect current metrics of the chosen components in one document."""
    data = _call(url, "GET", "/v1/metrics/collect", params={"components": components})
    _emit(data, as_json, "metrics")


def register(app: typer.Typer) -> None:
    """Add `serve` and the operator commands to the main CLI."""
    app.command()(serve)
    app.command("load-balance")(load_balance)
    app.command("agent-metrics")(agent_metrics)
    app.command("config")(config)
    app.command("performance-report")(performance_report)
    app.command("metrics-collect")(metrics_collect)
