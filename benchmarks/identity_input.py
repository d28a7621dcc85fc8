"""A DuckDB warehouse holding just what identity resolution reads, for worlds of any size.

The full ingestion of a 1M-person world takes about half an hour, most of it ESP events over
HTTP, which identity resolution never reads. This builds only its inputs, with the shipped
pipelines and dbt models:

1. ``generate(N, seed, world)`` when ``--world`` does not exist and ``--people`` is given.
2. The vendor API emulator starts in its own process (``closedloop sandbox serve`` with a
   high ``--rate-limit-scale``) on a free port of 127.0.0.1, and every ``SOURCES__...``
   variable points at it and at the world (``sandbox_source_env``).
3. The dlt pipelines (``make_pipeline`` / ``make_source``) run into a fresh warehouse, each
   source cut down with ``with_resources`` to :data:`IDENTITY_RESOURCES`. Their working
   state lives next to the warehouse, never in the project's ``.dlt_pipelines``.
4. ``dbt seed`` for the lookup seeds, then ``dbt build --select +int_identity__identifiers
   +int_identity__records`` with cautious indirect selection, so tests that also read models
   this warehouse does not have (ESP events, order lines, ...) are left out. dbt writes its
   ``target`` and logs next to the warehouse too, so it never races a dbt run in the project.
5. Wall time and peak RSS per step (this process's high-water mark, reset per step; dbt's
   polled from /proc; the emulator's at the end), rows loaded per raw table, and rows of
   ``int_identity__records`` per source system.

If dbt fails, the raw and staging data stay in the warehouse and the failing nodes are
printed; the exit code is then 1.

Usage::

    python -m benchmarks.identity_input --world /tmp/w1m --warehouse /tmp/w1m.duckdb
    python -m benchmarks.identity_input --world /tmp/w100k --warehouse /tmp/w.duckdb \\
        --people 100000 --seed 42 --json /tmp/w100k-identity.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.measure import PROJECT_ROOT
from benchmarks.run import DEFAULT_RATE_LIMIT_SCALE, Emulator

console = Console(width=max(shutil.get_terminal_size((120, 40)).columns, 120))

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# The raw tables the identity models read, through their staging models, per role.
IDENTITY_RESOURCES: dict[str, tuple[str, ...]] = {
    "web": ("events", "consent"),
    "shop": ("customers", "addresses", "orders", "carts"),
    "crm": ("contacts",),
    "helpdesk": ("users",),
    "esp": ("profiles",),
}
IDENTITY_MODELS: tuple[str, ...] = ("int_identity__identifiers", "int_identity__records")
SEEDS: tuple[str, ...] = (
    "country_codes",
    "currency_codes",
    "email_domain_aliases",
    "identity_blocklist",
    "identity_identifier_types",
)
RECORDS_TABLE = "intermediate.int_identity__records"


@dataclass
class Step:
    """One timed step.

    Attributes:
        name: Step name (``generate``, ``emulator``, ``dlt:<role>``, ``dbt seed``, ...).
        seconds: Wall time.
        peak_rss_mb: Peak RSS of the process doing the work, MiB (0 when unknown).
        rows: Rows per table the step wrote, when it reports them.
        node_seconds: dbt's execution time per model or seed.
        ok: Whether the step succeeded.
        detail: What ran (resources, dbt node statuses), or why it failed.
    """

    name: str
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    node_seconds: dict[str, float] = field(default_factory=dict)
    ok: bool = True
    detail: str = ""


@dataclass
class Report:
    """Everything one build measured.

    Attributes:
        world: World directory.
        warehouse: DuckDB file built.
        steps: The steps in order.
        records_by_system: Rows of ``int_identity__records`` per ``source_system``.
        identifiers_rows: Rows of ``int_identity__identifiers`` (None when not built).
        emulator_peak_rss_mb: The emulator's peak RSS, MiB.
        dbt_failures: ``node: message`` of every dbt node that errored or failed.
    """

    world: str
    warehouse: str
    steps: list[Step] = field(default_factory=list)
    records_by_system: dict[str, int] = field(default_factory=dict)
    identifiers_rows: int | None = None
    emulator_peak_rss_mb: float = 0.0
    dbt_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every step succeeded."""
        return all(step.ok for step in self.steps)


# ---------------------------------------------------------------------------- memory


def _reset_peak_rss() -> None:
    """Reset this process's RSS high-water mark (Linux; a no-op elsewhere)."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb(pid: int | str = "self") -> float:
    """Peak RSS of a process since start or the last reset, MiB (``VmHWM``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == "self":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return 0.0


@contextmanager
def _timed(step: Step) -> Iterator[Step]:
    """Time a step run in this process and record its peak RSS."""
    _reset_peak_rss()
    started = time.perf_counter()
    try:
        yield step
    finally:
        step.seconds = time.perf_counter() - started
        step.peak_rss_mb = max(step.peak_rss_mb, _peak_rss_mb())


# ------------------------------------------------------------------------------ steps


def _generate(world: Path, people: int, seed: int) -> Step:
    from sandbox.world import generate

    step = Step("generate")
    with _timed(step):
        manifest = generate(people, seed, world)
    step.rows = {name: int(n) for name, n in manifest.get("counts", {}).items()}
    return step


def _ingest(role: str, resources: tuple[str, ...] | None, pipelines_dir: Path) -> Step:
    """Run one role's pipeline with only ``resources`` selected (``None``: all of them)."""
    from pipelines.factory import make_pipeline, make_source

    step = Step(f"dlt:{role}", detail=",".join(resources) if resources else "all")
    with _timed(step):
        pipeline = make_pipeline(role, pipelines_dir=pipelines_dir)
        source = make_source(role)
        if resources:
            source = source.with_resources(*resources)
        info = pipeline.run(source)
        info.raise_on_failed_jobs()
    trace = pipeline.last_trace
    counts = trace.last_normalize_info.row_counts if trace and trace.last_normalize_info else {}
    step.rows = {f"raw_{role}.{t}": int(n) for t, n in counts.items() if not t.startswith("_dlt")}
    return step


def _dbt(name: str, args: list[str], work: Path, warehouse: Path) -> tuple[Step, list[str]]:
    """Run one dbt command in a child process; returns the step and its failed nodes."""
    bin_dir = Path(sys.executable).parent
    dbt = bin_dir / "dbt" if (bin_dir / "dbt").exists() else Path("dbt")
    target_path = work / "dbt-target"
    cmd = [str(dbt), *args]
    cmd += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    cmd += ["--target", "duckdb", "--target-path", str(target_path)]
    cmd += ["--log-path", str(work / "dbt-logs")]
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse)}
    results = target_path / "run_results.json"
    results.unlink(missing_ok=True)  # never read the previous command's results
    step = Step(name)
    log = work / f"{name.replace(' ', '-')}.log"
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=DBT_PROJECT_DIR, env=env, stdout=out, stderr=out)
        # Polled VmHWM, not the child's ru_maxrss: after fork + exec that also counts
        # this (large) process's RSS at the moment of the fork.
        while proc.poll() is None:
            step.peak_rss_mb = max(step.peak_rss_mb, _peak_rss_mb(proc.pid))
            time.sleep(0.2)
    step.seconds = time.perf_counter() - started
    failures: list[str] = []
    statuses: dict[str, int] = {}
    if results.exists():
        for node in json.loads(results.read_text()).get("results", []):
            unique_id, status = str(node.get("unique_id")), str(node.get("status"))
            kind = unique_id.split(".")[0]
            statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1
            if kind in {"model", "seed"}:
                step.node_seconds[unique_id.split(".")[-1]] = float(node["execution_time"])
            if status in {"error", "fail", "runtime error"}:
                message = " ".join(str(node.get("message") or "").split())
                failures.append(f"{unique_id}: {message}")
    step.ok = proc.returncode == 0
    step.detail = ", ".join(f"{n} {what}" for what, n in sorted(statuses.items()))
    if not step.ok:
        step.detail = f"exit {proc.returncode}: {step.detail}; log: {log}"
    return step, failures


def _count_records(warehouse: Path, report: Report) -> None:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        if RECORDS_TABLE in tables:
            rows = con.execute(
                f"select source_system, count(*) from {RECORDS_TABLE} group by 1 order by 1"
            ).fetchall()
            report.records_by_system = {str(system): int(n) for system, n in rows}
        if "intermediate.int_identity__identifiers" in tables:
            found = con.execute(
                "select count(*) from intermediate.int_identity__identifiers"
            ).fetchone()
            report.identifiers_rows = int(found[0]) if found else 0


# ------------------------------------------------------------------------------ build


def build_identity_input(
    world: Path,
    warehouse: Path,
    *,
    people: int | None = None,
    seed: int = 42,
    rate_limit_scale: float = DEFAULT_RATE_LIMIT_SCALE,
    tests: bool = True,
    resources: Mapping[str, tuple[str, ...] | None] = IDENTITY_RESOURCES,
    models: tuple[str, ...] = IDENTITY_MODELS,
) -> Report:
    """Build a warehouse with the raw, staging and identity-input models of ``world``.

    Args:
        world: World directory; generated when missing and ``people`` is given.
        warehouse: DuckDB file to build; replaced when it exists.
        people: World size to generate when ``world`` does not exist.
        seed: Seed of a generated world.
        rate_limit_scale: Multiplier on the emulator's vendor rate limits.
        tests: ``dbt build`` (models and their tests) when true, ``dbt run`` when false.
        resources: Raw resources to load per role (``None``: the whole source).
        models: dbt models built with everything upstream of them.

    Returns:
        Timings, peak memory and row counts; ``report.ok`` is false when dbt failed.

    Raises:
        FileNotFoundError: ``world`` does not exist and ``people`` is not given.
    """
    from orchestration.environment import sandbox_source_env

    world, warehouse = world.expanduser().resolve(), warehouse.expanduser().resolve()
    report = Report(world=str(world), warehouse=str(warehouse))
    if not (world / "world.json").exists():
        if people is None:
            raise FileNotFoundError(f"no world at {world}; pass --people to generate one")
        console.print(f"generating {people:,} people (seed {seed}) into {world}")
        report.steps.append(_generate(world, people, seed))

    # A fresh warehouse and fresh pipeline state: nothing incremental carries over.
    work = warehouse.with_name(warehouse.name + ".work")
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ["WAREHOUSE_PATH"] = str(warehouse)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_ROOT))

    started = time.perf_counter()
    with Emulator(world, rate_limit_scale, work / "emulator.log") as emulator:
        report.steps.append(Step("emulator start", time.perf_counter() - started))
        os.environ.update(sandbox_source_env(emulator.url, world))
        for role, selected in resources.items():
            console.print(f"dlt {role}: {', '.join(selected) if selected else 'all'}")
            report.steps.append(_ingest(role, selected, work / "pipelines"))
        report.emulator_peak_rss_mb = _peak_rss_mb(emulator.pid)

    console.print("dbt seed")
    seeds = SEEDS if resources == IDENTITY_RESOURCES else ()
    seed_args = ["seed", "--select", *seeds] if seeds else ["seed"]
    seed_step, failures = _dbt("dbt seed", seed_args, work, warehouse)
    report.steps.append(seed_step)
    report.dbt_failures += failures
    selector = ["--select", *(f"+{model}" for model in models)]
    # Seeds are loaded above; cautious: a test runs only when all the models it reads do.
    args = [*selector, "--exclude", "resource_type:seed"]
    args = ["build", *args, "--indirect-selection", "cautious"] if tests else ["run", *args]
    console.print(f"dbt {args[0]}")
    build_step, failures = _dbt(f"dbt {args[0]}", args, work, warehouse)
    report.steps.append(build_step)
    report.dbt_failures += failures

    _count_records(warehouse, report)
    return report


# -------------------------------------------------------------------------------- cli


def print_report(report: Report) -> None:
    """Print the steps, the raw rows loaded and the identity records per system."""
    steps = Table(title=f"identity input: {report.warehouse}")
    for column in ("step", "seconds", "peak RSS MiB", "rows", "status"):
        steps.add_column(column, justify="left" if column in {"step", "status"} else "right")
    for step in report.steps:
        rows = f"{sum(step.rows.values()):,}" if step.rows else ""
        status = ("ok" if step.ok else "[red]FAILED[/]") + (
            f" {step.detail}" if step.detail else ""
        )
        peak = f"{step.peak_rss_mb:,.0f}" if step.peak_rss_mb else ""
        steps.add_row(step.name, f"{step.seconds:,.1f}", peak, rows, status)
    total = sum(step.seconds for step in report.steps)
    steps.add_row("[b]total[/]", f"{total:,.1f}", "", "", "")
    console.print(steps)
    console.print(f"emulator peak RSS: {report.emulator_peak_rss_mb:,.0f} MiB")

    nodes = Table(title="dbt models and seeds, slowest first")
    nodes.add_column("node")
    nodes.add_column("seconds", justify="right")
    timed = [(n, t) for step in report.steps for n, t in step.node_seconds.items()]
    for node, seconds in sorted(timed, key=lambda item: -item[1]):
        nodes.add_row(node, f"{seconds:,.1f}")
    console.print(nodes)

    raw = Table(title="raw rows loaded")
    raw.add_column("table")
    raw.add_column("rows", justify="right")
    for step in report.steps:
        if step.name.startswith("dlt:"):
            for table, rows in sorted(step.rows.items()):
                raw.add_row(table, f"{rows:,}")
    console.print(raw)

    records = Table(title=RECORDS_TABLE)
    records.add_column("source_system")
    records.add_column("rows", justify="right")
    for system, rows in report.records_by_system.items():
        records.add_row(system, f"{rows:,}")
    records.add_row("[b]all[/]", f"{sum(report.records_by_system.values()):,}")
    console.print(records)
    if report.identifiers_rows is not None:
        console.print(f"int_identity__identifiers: {report.identifiers_rows:,} rows")
    for failure in report.dbt_failures:
        console.print(f"[red]dbt failure[/] {failure}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--world", type=Path, required=True, help="world directory")
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB file to build")
    parser.add_argument("--people", type=int, help="generate a world of this size if missing")
    parser.add_argument("--seed", type=int, default=42, help="seed of a generated world")
    parser.add_argument(
        "--rate-limit-scale", type=float, default=DEFAULT_RATE_LIMIT_SCALE, help="emulator"
    )
    parser.add_argument("--no-tests", action="store_true", help="dbt run instead of dbt build")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    report = build_identity_input(
        args.world,
        args.warehouse,
        people=args.people,
        seed=args.seed,
        rate_limit_scale=args.rate_limit_scale,
        tests=not args.no_tests,
    )
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
