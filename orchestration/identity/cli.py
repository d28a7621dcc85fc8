"""``closedloop identity``: resolve and evaluate any file of person records.

Analytics engineers tune matching rules on their own data: a CSV, Parquet file or DuckDB
table plus a column mapping (:mod:`.mapping`) goes through the same keys (:mod:`.keys`) and
the same steps (:mod:`.resolve`) as the warehouse, and comes back with a golden ID per row.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from orchestration.identity.evaluation import PairwiseMetrics
    from orchestration.identity.mapping import ColumnMapping
    from orchestration.identity.resolve import Resolution
    from orchestration.identity.settings import Settings

console = Console()
identity_app = typer.Typer(
    help="Resolve any CSV, Parquet or DuckDB table of person records into golden IDs.",
    no_args_is_help=True,
)

# Columns a resolution adds to the input rows (replacing them when the input is an earlier OUT).
OUTPUT_COLUMNS: tuple[str, ...] = ("golden_id", "cluster_size", "change_reason")
OUTPUT_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")


@contextlib.contextmanager
def _identity_errors() -> Iterator[None]:
    """Report unusable input as one red line and exit code 2, not a traceback."""
    from orchestration.identity.mapping import IdentityInputError

    try:
        yield
    except IdentityInputError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from error


def _quiet_splink() -> None:
    """Keep Splink's per-step INFO lines out of the summary; its warnings still show.

    Every Splink ``Linker`` re-enables INFO logging, but adds its own stderr handler only
    when the ``splink`` logger has none: a handler of ours set to WARNING takes its place.
    """
    splink_logger = logging.getLogger("splink")
    if not any(getattr(h, "_closedloop_quiet", False) for h in splink_logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        handler._closedloop_quiet = True  # type: ignore[attr-defined]
        splink_logger.addHandler(handler)


@dataclass
class FileResolution:
    """One resolved input.

    Attributes:
        resolution: What the engine produced.
        input_table: The input rows (temporary table; ``rowid`` = position in the input).
        output: Temporary table of the input rows plus :data:`OUTPUT_COLUMNS`, in input order.
        timings: Seconds per step, input reading and keys included.
    """

    resolution: Resolution
    input_table: str
    output: str
    timings: dict[str, float] = field(default_factory=dict)


def _check_output_path(path: Path | None) -> None:
    from orchestration.identity.mapping import IdentityInputError

    if path is not None and path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise IdentityInputError(f"cannot write {path}: name it .csv or .parquet")


def _load_settings(path: Path | None, probabilistic: bool) -> Settings:
    import yaml

    from orchestration.identity.mapping import IdentityInputError
    from orchestration.identity.settings import load_settings

    try:
        settings = load_settings(path)
    except (OSError, ValueError, yaml.YAMLError, AttributeError, TypeError) as error:
        raise IdentityInputError(f"cannot use settings {path}: {error}") from error
    if probabilistic and not settings.splink_model.exists():
        raise IdentityInputError(
            f"the settings' Splink model {settings.splink_model} does not exist "
            "(train one, or pass --deterministic-only)"
        )
    return settings


def prior_map(con: duckdb.DuckDBPyConnection, spec: str, mapping: ColumnMapping) -> pd.DataFrame:
    """The previous golden ID map (``record_key, golden_id, assignments``) from an earlier OUT.

    The file keeps no ID history, so ``assignments`` (how many IDs a record has had) is the
    smallest n ≥ 1 whose new ID (:func:`golden_ids.new_golden_id`) the file does not already
    hold: a record that anchors a new cluster can then never be handed an ID in use.

    Raises:
        IdentityInputError: The file cannot be read or lacks the record id, source or
            ``golden_id`` columns.
    """
    from orchestration.identity.golden_ids import new_golden_id
    from orchestration.identity.keys import columns_of, load_input, record_key_sql
    from orchestration.identity.mapping import IdentityInputError

    table = load_input(con, spec)
    available = columns_of(con, table)
    needed = [mapping.record_id, "golden_id"]
    if mapping.source_column:
        needed.append(mapping.source_column)
    missing = [c for c in needed if c not in available]
    if missing:
        raise IdentityInputError(
            f"prior {spec} has no column(s) {', '.join(map(repr, missing))} "
            f"(it should be an earlier --out); its columns are: {', '.join(available)}"
        )
    frame = con.sql(
        f"""
        select distinct on (record_key) record_key, golden_id
        from (
            select {record_key_sql(mapping)} as record_key,
                nullif(trim(cast(golden_id as varchar)), '') as golden_id
            from {table}
        )
        where record_key is not null and golden_id is not null
        order by record_key
        """
    ).df()
    con.execute(f"drop table {table}")
    issued = set(frame["golden_id"])
    assignments = []
    for key in frame["record_key"]:
        n = 1
        while new_golden_id(key, n) in issued:
            n += 1
        assignments.append(n)
    frame["assignments"] = assignments
    return frame.astype({"assignments": "int64"})


def resolve_file(
    con: duckdb.DuckDBPyConnection,
    input_spec: str,
    mapping: ColumnMapping,
    *,
    prior: str | None = None,
    settings_path: Path | None = None,
    blocklist_path: Path | None = None,
    probabilistic: bool = True,
) -> FileResolution:
    """Read an input, key it, resolve it and build the output rows.

    Args:
        con: A connection for the temporary tables (an in-memory one is enough).
        input_spec: ``file.csv``, ``file.parquet`` or ``file.duckdb::schema.table``.
        mapping: Which columns hold what.
        prior: An earlier output of this command, to keep golden IDs stable.
        settings_path: Matching settings (default: the packaged ``person.yml``).
        blocklist_path: Blocklist CSV in the seed's shape (default: the project's seed).
        probabilistic: ``False`` skips the Splink model (deterministic edges only).

    Raises:
        IdentityInputError: Unreadable input, mapping, prior, settings or blocklist.
    """
    from orchestration.identity.keys import (
        build_keyed_input,
        columns_of,
        load_blocklist,
        load_input,
        quote_ident,
    )
    from orchestration.identity.resolve import resolve

    settings = _load_settings(settings_path, probabilistic)
    _quiet_splink()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    table = load_input(con, input_spec)
    timings["read_input"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    keyed = build_keyed_input(con, table, mapping)
    blocklist = load_blocklist(con, blocklist_path)
    previous = prior_map(con, prior, mapping) if prior else None
    timings["keys"] = round(time.perf_counter() - started, 3)

    resolution = resolve(
        con,
        keyed.records,
        keyed.identifiers,
        blocklist,
        settings,
        prior=previous,
        probabilistic=probabilistic,
    )
    timings.update(resolution.timings)

    output = f"identity_output_{uuid.uuid4().hex[:8]}"
    assigned = f"{output}_assigned"
    con.register(assigned, resolution.assignment.records)
    kept = [c for c in columns_of(con, table) if c not in OUTPUT_COLUMNS]
    select_input = ", ".join(f"i.{quote_ident(c)}" for c in kept)
    con.execute(
        f"""
        create temp table {output} as
        with assigned as (
            select
                a.record_key,
                a.golden_id,
                count(*) over (partition by a.golden_id) as cluster_size,
                a.change_reason
            from {assigned} as a
        )
        select {select_input}{", " if kept else ""}
            assigned.golden_id, assigned.cluster_size, assigned.change_reason
        from {table} as i
        inner join {keyed.records} as r on r.input_row = i.rowid
        inner join assigned on assigned.record_key = r.record_key
        order by i.rowid
        """
    )
    con.unregister(assigned)
    return FileResolution(resolution, table, output, timings)


def write_relation(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """Write a query's rows to ``path`` as CSV or Parquet, by its extension."""
    from orchestration.identity.frames import sql_literal

    _check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "format parquet" if path.suffix.lower() == ".parquet" else "format csv, header true"
    con.execute(f"copy ({query}) to {sql_literal(str(path))} ({fmt})")


def write_arrow(con: duckdb.DuckDBPyConnection, table: pa.Table, path: Path) -> None:
    """Write an Arrow table to ``path`` as CSV or Parquet, by its extension."""
    name = f"identity_arrow_{uuid.uuid4().hex[:8]}"
    con.register(name, table)
    try:
        write_relation(con, f"select * from {name}", path)
    finally:
        con.unregister(name)


def _counts(table: pa.Table, column: str) -> list[tuple[str, int]]:
    if table.num_rows == 0:
        return []
    grouped = table.group_by(column).aggregate([([], "count_all")]).to_pylist()
    return sorted(((str(r[column]), int(r["count_all"])) for r in grouped), key=lambda x: x[0])


def print_summary(con: duckdb.DuckDBPyConnection, result: FileResolution) -> None:
    """Records, clusters, blocked values and edges by rule, changes and timings."""
    res = result.resolution
    stats = con.sql(
        f"""
        select
            count(*) as records,
            count(distinct golden_id) as clusters,
            coalesce(max(cluster_size), 0) as largest,
            count(*) filter (where cluster_size = 1) as singletons
        from {result.output}
        """
    ).fetchall()[0]
    overview = Table(title="Identity resolution", show_header=False)
    overview.add_column("what")
    overview.add_column("value", justify="right")
    overview.add_row("records", f"{stats[0]:,}")
    overview.add_row("clusters (golden IDs)", f"{stats[1]:,}")
    overview.add_row("largest cluster", f"{stats[2]:,}")
    overview.add_row("singletons", f"{stats[3]:,}")
    overview.add_row("clustering", res.clustering.method)
    overview.add_row("split by cannot-link", f"{res.clustering.conflicted_clusters:,}")
    overview.add_row("refused edges", f"{res.clustering.refused_edges.num_rows:,}")
    overview.add_row("oversized clusters", f"{res.clustering.oversized_clusters:,}")
    overview.add_row("pairs for review", f"{res.possible_matches.num_rows:,}")
    changes = res.assignment.records["change_reason"].value_counts()
    for reason, n in sorted(changes.items()):
        overview.add_row(f"change: {reason}", f"{int(n):,}")
    if not res.assignment.redirects.empty:
        overview.add_row("redirected golden IDs", f"{len(res.assignment.redirects):,}")
    console.print(overview)
    for title, table, column in (
        ("Blocked values by rule", res.blocked, "block_rule"),
        ("Edges by rule", res.edges, "rule"),
    ):
        rows = _counts(table, column)
        counts = Table(title=title)
        counts.add_column(column)
        counts.add_column("count", justify="right")
        for name, n in rows:
            counts.add_row(name, f"{n:,}")
        if not rows:
            counts.add_row("(none)", "0")
        console.print(counts)
    timings = Table(title="Timings")
    timings.add_column("step")
    timings.add_column("seconds", justify="right")
    for step, seconds in result.timings.items():
        timings.add_row(step, f"{seconds:.3f}")
    timings.add_row("total", f"{sum(result.timings.values()):.3f}")
    console.print(timings)


InputArg = Annotated[
    str,
    typer.Argument(
        help="A .csv or .parquet file of person records, or a DuckDB table as "
        "path.duckdb::schema.table.",
        metavar="INPUT",
        show_default=False,
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", help="YAML column mapping (see docs/identity.md)."),
]
SettingsOpt = Annotated[
    Path | None,
    typer.Option("--settings", help="Matching settings YAML (default: the packaged person.yml)."),
]
BlocklistOpt = Annotated[
    Path | None,
    typer.Option("--blocklist", help="Blocklist CSV (default: the identity_blocklist seed)."),
]
DeterministicOpt = Annotated[
    bool,
    typer.Option("--deterministic-only", help="Skip the Splink model: shared identifiers only."),
]


@identity_app.command("resolve")
def resolve_command(
    input_spec: InputArg,
    mapping: Annotated[
        Path, typer.Option("--mapping", help="YAML column mapping (see docs/identity.md).")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Output .csv or .parquet: the input rows plus golden_id."),
    ],
    prior: Annotated[
        str | None,
        typer.Option(
            "--prior",
            help="An earlier --out: golden IDs stay stable across runs.",
            show_default=False,
        ),
    ] = None,
    settings: SettingsOpt = None,
    blocklist: BlocklistOpt = None,
    deterministic_only: DeterministicOpt = False,
    edges_out: Annotated[
        Path | None, typer.Option("--edges-out", help="Write the edges (.csv or .parquet).")
    ] = None,
    review_out: Annotated[
        Path | None,
        typer.Option("--review-out", help="Write the pairs left for review (.csv or .parquet)."),
    ] = None,
) -> None:
    """Resolve a file of person records: every row gets a golden_id."""
    import duckdb

    from orchestration.identity.mapping import load_mapping

    with _identity_errors():
        for path in (out, edges_out, review_out):
            _check_output_path(path)
        column_mapping = load_mapping(mapping)
        with duckdb.connect(":memory:") as con:
            result = resolve_file(
                con,
                input_spec,
                column_mapping,
                prior=prior,
                settings_path=settings,
                blocklist_path=blocklist,
                probabilistic=not deterministic_only,
            )
            started = time.perf_counter()
            write_relation(con, f"select * from {result.output}", out)
            if edges_out:
                write_arrow(con, result.resolution.edges, edges_out)
            if review_out:
                write_arrow(con, result.resolution.possible_matches, review_out)
            result.timings["write"] = round(time.perf_counter() - started, 3)
            print_summary(con, result)
    console.print(f"[green]Wrote {out}[/]")


def _print_metrics(metrics: PairwiseMetrics, title: str) -> None:
    labels = {
        "records": "records",
        "true_entities": "true entities",
        "clusters": "clusters",
        "true_pairs": "true pairs",
        "predicted_pairs": "predicted pairs",
        "correct_pairs": "correct pairs",
        "precision": "pairwise precision",
        "recall": "pairwise recall",
        "f1": "pairwise F1",
        "largest_cluster": "largest cluster",
        "largest_true_entity": "largest true entity",
        "largest_excess": "largest excess",
    }
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.as_dict().items():
        text = f"{value:.4f}" if isinstance(value, float) else f"{value:,}"
        table.add_row(labels.get(key, key), text)
    console.print(table)


@identity_app.command("evaluate")
def evaluate_command(
    input_spec: InputArg,
    truth: Annotated[
        str, typer.Option("--truth", help="Column naming the real person of each row.")
    ],
    mapping: MappingOpt = None,
    cluster_col: Annotated[
        str | None,
        typer.Option(
            "--cluster-col", help="Evaluate an already resolved file: its cluster column."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    settings: SettingsOpt = None,
    blocklist: BlocklistOpt = None,
    deterministic_only: DeterministicOpt = False,
) -> None:
    """Pairwise precision, recall and F1 of a resolution against a truth column."""
    import duckdb

    from orchestration.identity.evaluation import pairwise_metrics
    from orchestration.identity.keys import columns_of, load_input, quote_ident
    from orchestration.identity.mapping import IdentityInputError, load_mapping

    if (mapping is None) == (cluster_col is None):
        console.print("[red]give exactly one of --mapping (resolve first) and --cluster-col[/]")
        raise typer.Exit(2)
    with _identity_errors(), duckdb.connect(":memory:") as con:
        if mapping is not None:
            result = resolve_file(
                con,
                input_spec,
                load_mapping(mapping),
                settings_path=settings,
                blocklist_path=blocklist,
                probabilistic=not deterministic_only,
            )
            table, predicted = result.output, "golden_id"
            if not as_json:
                print_summary(con, result)
        else:
            table, predicted = load_input(con, input_spec), str(cluster_col)
        available = columns_of(con, table)
        missing = [c for c in (truth, predicted) if c not in available]
        if missing:
            raise IdentityInputError(
                f"no column(s) {', '.join(map(repr, missing))} in {input_spec}; "
                f"its columns are: {', '.join(available)}"
            )
        frame = con.sql(
            f"""
            select
                nullif(trim(cast({quote_ident(predicted)} as varchar)), '') as predicted,
                nullif(trim(cast({quote_ident(truth)} as varchar)), '') as truth
            from {table}
            """
        ).df()
    metrics = pairwise_metrics(frame["predicted"], frame["truth"])
    if as_json:
        typer.echo(json.dumps(metrics.as_dict(), indent=2))
    else:
        _print_metrics(metrics, f"{input_spec}: {predicted} vs {truth}")
