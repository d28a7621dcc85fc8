"""``closedloop``: the operator's front door.

A thin layer over the library code: every command calls into ``sandbox``, ``pipelines``,
dbt or Dagster and returns a meaningful exit code. dbt and Dagster keep their own CLIs for
everything else (``dbt build``, ``dagster dev``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestration import environment
from orchestration.clv.cli import clv_app
from orchestration.identity.cli import identity_app

console = Console()
app = typer.Typer(
    name="closedloop",
    help="Customer data in, golden records and segments built, syncs out.",
    no_args_is_help=True,
    add_completion=False,
)
world_app = typer.Typer(help="Generate and advance the synthetic world.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The local vendor API emulator.", no_args_is_help=True)
app.add_typer(world_app, name="world")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(identity_app, name="identity")
app.add_typer(clv_app, name="clv")

WorldOpt = Annotated[
    Path | None,
    typer.Option("--world", help="World directory (default: $CLOSEDLOOP_WORLD or ./data/world)."),
]


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextlib.contextmanager
def _stage_progress(title: str) -> Iterator[object]:
    """Yield a ``progress(stage, fraction)`` callback drawing one bar per stage."""
    with _progress() as progress:
        tasks: dict[str, object] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(f"{title}: {stage}", total=1.0)
            progress.update(tasks[stage], completed=max(0.0, min(1.0, fraction)))  # type: ignore[arg-type]

        yield report


# --- world -------------------------------------------------------------------------------


@contextlib.contextmanager
def _world_errors() -> Iterator[None]:
    """Report bad world input as one red line and exit code 2, not a traceback."""
    from sandbox.world import WorldError

    try:
        yield
    except WorldError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from error


@world_app.command("generate")
def world_generate(
    people: Annotated[int, typer.Option(help="Number of people in the world.")] = 20_000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives identical files.")
    ] = 42,
    out: Annotated[Path | None, typer.Option(help="Output directory.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing world.")] = False,
) -> None:
    """Generate a deterministic synthetic world with ground truth."""
    from sandbox.world import generate

    target = (out or environment.world_dir()).resolve()
    if force and target.exists():
        shutil.rmtree(target)
    started = time.perf_counter()
    with _world_errors(), _stage_progress("generate") as report:
        manifest = generate(people, seed, target, progress=report)  # type: ignore[arg-type]
    _print_counts(f"World {target} (seed {seed})", manifest.get("counts", {}))
    console.print(f"Generated in {time.perf_counter() - started:.1f} s; as of {manifest['as_of']}.")


@world_app.command("advance")
def world_advance(
    days: Annotated[int, typer.Option(help="Days to move the world's clock forward.")] = 1,
    world: WorldOpt = None,
) -> None:
    """Move a world forward: new people and orders, updates, archives, late events."""
    from sandbox.world import advance

    target = (world or environment.world_dir()).resolve()
    with _world_errors(), _stage_progress("advance") as report:
        manifest = advance(target, days, progress=report)  # type: ignore[arg-type]
    _print_counts(f"World {target} version {manifest['version']}", manifest.get("counts", {}))
    console.print(f"As of {manifest['as_of']}.")


@world_app.command("info")
def world_info(world: WorldOpt = None) -> None:
    """Show a world's manifest: clock, version and row counts per system table."""
    from sandbox.world import load_manifest

    target = (world or environment.world_dir()).resolve()
    with _world_errors():
        manifest = load_manifest(target)
    _print_counts(f"World {target} version {manifest['version']}", manifest.get("counts", {}))
    console.print(
        f"Seed {manifest['seed']}, {manifest['people']} people, as of {manifest['as_of']}."
    )


# --- sandbox -----------------------------------------------------------------------------


@sandbox_app.command("serve")
def sandbox_serve(
    world: WorldOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback only).")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on.")
    ] = environment.DEFAULT_SANDBOX_PORT,
    rate_limit_scale: Annotated[
        float, typer.Option(help="Multiply every vendor rate limit (1.0 = the real limits).")
    ] = 50.0,
) -> None:
    """Serve the world through HubSpot-, Klaviyo- and Zendesk-shaped APIs."""
    from sandbox.emulator import serve

    target = (world or environment.world_dir()).resolve()
    if not (target / "world.json").exists():
        console.print(f"[red]No world at {target}[/]: run `closedloop world generate` first.")
        raise typer.Exit(2)
    console.print(f"Serving {target} on http://{host}:{port} (Ctrl-C to stop)")
    serve(target, host=host, port=port, rate_limit_scale=rate_limit_scale)


def _free_port(host: str, preferred: int) -> int:
    with socket.socket() as sock:
        if sock.connect_ex((host, preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so ``finally`` blocks stop the child processes."""

    def _handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _handler)


@contextlib.contextmanager
def running_sandbox(world: Path, port: int | None = None) -> Iterator[str]:
    """Run the emulator in a child process for the duration of the block.

    A separate process keeps HTTP serving off the interpreter that runs dlt, so neither
    slows the other down through the GIL.
    """
    import requests

    host = environment.DEFAULT_SANDBOX_HOST
    port = _free_port(host, port or environment.DEFAULT_SANDBOX_PORT)
    url = f"http://{host}:{port}"
    cmd = [sys.executable, "-m", "orchestration.cli", "sandbox", "serve"]
    cmd += ["--world", str(world), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/_sandbox/health", timeout=1).ok:
                    break
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the sandbox exited early:\n{proc.stderr.read() if proc.stderr else ''}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not become healthy within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- ingest / build / run ------------------------------------------------------------------


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(counts.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)


def ingest_roles(roles: list[str]) -> dict[str, dict[str, int]]:
    """Run the dlt pipelines of ``roles`` one after another and return rows loaded per table.

    Raises:
        typer.BadParameter: An unknown role was named.
    """
    from pipelines.factory import ROLES, make_pipeline, make_source

    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {unknown}; choose from {list(ROLES)}")
    loaded: dict[str, dict[str, int]] = {}
    with _progress() as progress:
        overall = progress.add_task("ingest", total=len(roles))
        for role in roles:
            progress.update(overall, description=f"ingest: {role}")
            pipeline = make_pipeline(role)
            info = pipeline.run(make_source(role))
            info.raise_on_failed_jobs()
            counts = pipeline.last_trace.last_normalize_info.row_counts
            loaded[role] = {t: n for t, n in counts.items() if not t.startswith("_dlt")}
            progress.advance(overall)
    return loaded


@app.command()
def ingest(
    roles: Annotated[
        list[str] | None, typer.Argument(help="Roles to ingest (default: all).")
    ] = None,
) -> None:
    """Load raw data from the sources into the warehouse's raw_<role> schemas."""
    from pipelines.factory import ROLES

    environment.apply_source_env()
    started = time.perf_counter()
    loaded = ingest_roles(list(roles or ROLES))
    flat = {
        f"raw_{role}.{table}": n for role, counts in loaded.items() for table, n in counts.items()
    }
    _print_counts("Rows loaded this run", flat)
    console.print(
        f"Ingested in {time.perf_counter() - started:.1f} s into {environment.warehouse_path()}"
    )


def dbt_command(args: list[str], target: str = "duckdb") -> int:
    """Run a dbt command against the project; returns dbt's exit code."""
    environment.apply_runtime_env()
    cmd = [environment.venv_executable("dbt"), *args]
    cmd += ["--project-dir", str(environment.DBT_PROJECT_DIR)]
    cmd += ["--profiles-dir", str(environment.DBT_PROJECT_DIR), "--target", target]
    return subprocess.call(cmd)


@app.command()
def build(
    target: Annotated[str, typer.Option(help="dbt target: duckdb or postgres.")] = "duckdb",
    select: Annotated[str | None, typer.Option("--select", "-s", help="dbt selector.")] = None,
) -> None:
    """Build and test the dbt project (``dbt build``)."""
    args = ["build"] + (["--select", select] if select else [])
    raise typer.Exit(dbt_command(args, target))


def run_job() -> bool:
    """Execute the whole Dagster job in-process on the project's Dagster instance."""
    environment.apply_source_env()
    os.environ.setdefault("DAGSTER_HOME", str(environment.dagster_home()))
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    job = defs().resolve_job_def("closedloop_job")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return result.success


@app.command()
def run() -> None:
    """Run the whole Dagster job (ingest every source, build every model) once."""
    started = time.perf_counter()
    ok = run_job()
    colour = "green" if ok else "red"
    console.print(
        f"[{colour}]Run {'succeeded' if ok else 'failed'}[/] in {time.perf_counter() - started:.1f} s"
    )
    raise typer.Exit(0 if ok else 1)


# --- looking at the result -----------------------------------------------------------------


def warehouse_counts(path: Path) -> dict[str, int]:
    """Row counts of every table and view in the warehouse, keyed ``schema.table``."""
    import duckdb

    counts: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') "
            # dlt's per-load scratch schemas (raw_<role>_staging) are not data anyone reads
            "and table_schema not like '%\\_staging' escape '\\' "
            "and table_name not like '\\_dlt%' escape '\\' order by 1, 2"
        ).fetchall()
        for schema, name in rows:
            counts[f"{schema}.{name}"] = int(
                con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
            )
    return counts


@app.command()
def warehouse() -> None:
    """List the warehouse's tables with their row counts."""
    path = environment.warehouse_path()
    if not path.exists():
        console.print(f"[red]No warehouse at {path}[/]: run `make demo` or `closedloop ingest`.")
        raise typer.Exit(2)
    _print_counts(str(path), warehouse_counts(path))


@app.command()
def sql(query: Annotated[str, typer.Argument(help="A SQL query, run read-only.")]) -> None:
    """Run a read-only SQL query against the warehouse and print the result."""
    import duckdb

    with duckdb.connect(str(environment.warehouse_path()), read_only=True) as con:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    table = Table(*columns)
    for row in rows[:200]:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if len(rows) > 200:
        console.print(f"({len(rows) - 200} more rows not shown)")


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="People in a newly generated world.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of a newly generated world.")] = 42,
    fresh: Annotated[bool, typer.Option(help="Regenerate the world and the warehouse.")] = False,
) -> None:
    """Generate a world, serve it, run the whole loop and say where to look."""
    from sandbox.world import generate

    environment.apply_runtime_env()
    world = environment.world_dir()
    if fresh:
        shutil.rmtree(world, ignore_errors=True)
        environment.warehouse_path().unlink(missing_ok=True)
    started = time.perf_counter()
    if not (world / "world.json").exists():
        with _stage_progress("generate") as report:
            generate(people, seed, world, progress=report)  # type: ignore[arg-type]
    console.print(f"World: {world}")
    _exit_on_sigterm()
    with running_sandbox(world) as url:
        os.environ["CLOSEDLOOP_SANDBOX_URL"] = url
        console.print(f"Sandbox: {url}")
        ok = run_job()
    elapsed = time.perf_counter() - started
    if not ok:
        console.print("[red]The run failed[/]; open the Dagster UI (`make dev`) to see which step.")
        raise typer.Exit(1)
    path = environment.warehouse_path()
    _print_counts(f"Warehouse {path}", warehouse_counts(path))
    console.print(
        f"[green]Done in {elapsed:.0f} s.[/] Where to look:\n"
        f"  • warehouse: {path} (schemas raw_*, staging, identity, marts)\n"
        "  • the golden customer: marts.customers; the marketing marts (RFM, CLV, scores,\n"
        "    campaigns, consent, suppressions): marts.* — docs/marketing.md\n"
        "  • `uv run closedloop warehouse` lists tables; "
        '`uv run closedloop sql "select * from staging.stg_shop__orders limit 5"` queries\n'
        "  • `make dev` opens the Dagster UI on http://127.0.0.1:3000 with this run's history\n"
        f"  • the world and its ground truth: {world} (`uv run closedloop world info`)"
    )


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Dagster UI port.")] = 3000,
) -> None:
    """Open the Dagster UI (and serve the sandbox alongside when a world exists)."""
    environment.apply_runtime_env()
    world = environment.world_dir()
    cmd = [
        environment.venv_executable("dagster"),
        "dev",
        "-m",
        "orchestration.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    sandbox: contextlib.AbstractContextManager[str | None] = (
        running_sandbox(world) if (world / "world.json").exists() else contextlib.nullcontext()
    )
    _exit_on_sigterm()
    with sandbox as url:
        if url:
            os.environ["CLOSEDLOOP_SANDBOX_URL"] = url
            console.print(f"Sandbox: {url}")
        console.print(f"Dagster UI: http://127.0.0.1:{port}")
        webserver = subprocess.Popen(cmd)
        try:
            code = webserver.wait()
        finally:
            if webserver.poll() is None:
                webserver.terminate()
                webserver.wait(timeout=30)
        raise typer.Exit(code)


if __name__ == "__main__":
    app()
