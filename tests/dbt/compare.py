"""Compare the relations dbt built on DuckDB with those it built on Postgres.

For every table and view in the given schemas, both engines' rows are read, each value is
normalised to one text form (timestamps → UTC ISO with microseconds, numbers → rounded to
6 decimal places, booleans → ``true``/``false``, NULL kept apart from ``''``), each row is
hashed, and the hashes are summed modulo 2**256: an order-independent multiset checksum, so
duplicates count and row order does not. Column types are not compared (``VARCHAR`` vs
``text``, ``HUGEINT`` vs ``numeric`` are the same data); column *names* are.

Run it against two built warehouses::

    python -m tests.dbt.compare --duckdb /abs/warehouse.duckdb \\
        --postgres postgresql://postgres:@127.0.0.1:54329/closedloop \\
        --skip-python-models dbt_project/target/manifest.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

DEFAULT_SCHEMAS: tuple[str, ...] = ("staging", "marts")
DECIMAL_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
_MODULUS = 2**256
_BATCH = 10_000


@dataclass(frozen=True)
class Diff:
    """One difference between the two builds of a relation.

    Attributes:
        schema: Schema of the relation.
        relation: Table or view name.
        kind: ``missing_in_duckdb``, ``missing_in_postgres``, ``columns``, ``row_count`` or
            ``checksum``.
        duckdb: What DuckDB has (column list, row count or checksum prefix).
        postgres: What Postgres has.
    """

    schema: str
    relation: str
    kind: str
    duckdb: Any = None
    postgres: Any = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.relation}: {self.kind} duckdb={self.duckdb!r} postgres={self.postgres!r}"


@dataclass
class Fingerprint:
    """Row count and multiset checksum of one relation on one engine."""

    columns: tuple[str, ...]
    rows: int = 0
    checksum: int = 0


@dataclass
class Comparison:
    """Everything :func:`compare` found: the differences and what was compared or skipped."""

    diffs: list[Diff] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def report(self) -> str:
        """Return a human-readable summary (one line per relation, then the diffs)."""
        lines = [f"compared {len(self.compared)} relations:"]
        differing = {f"{d.schema}.{d.relation}" for d in self.diffs}
        for name, rows in sorted(self.compared.items()):
            status = "DIFF" if name in differing else "ok"
            lines.append(f"  {status:4} {name} ({rows} rows)")
        if self.skipped:
            lines.append(f"skipped (not built on Postgres): {', '.join(sorted(self.skipped))}")
        lines.extend(f"  {diff}" for diff in self.diffs)
        return "\n".join(lines)


def normalise(value: Any) -> Any:
    """Return a JSON-serialisable canonical form of one value, equal across the engines."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"interval:{value // dt.timedelta(microseconds=1)}"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return str(value)


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        rounded = exact.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # beyond 28 significant digits: compare as written
        return str(value)
    if rounded == 0:
        rounded = Decimal(0)  # -0.000000 and 0 are the same number
    return format(rounded, "f")


def row_hash(row: Sequence[Any]) -> int:
    """Return the 256-bit hash of one row of already-ordered values."""
    payload = json.dumps([normalise(v) for v in row], ensure_ascii=False, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest(), "big")


def fingerprint(columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Fingerprint:
    """Fold row batches into a :class:`Fingerprint`."""
    result = Fingerprint(columns=tuple(columns))
    for batch in batches:
        for row in batch:
            result.rows += 1
            result.checksum = (result.checksum + row_hash(row)) % _MODULUS
    return result


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(schema: str, relation: str, columns: Sequence[str]) -> str:
    column_list = ", ".join(_quote(c) for c in columns)
    return f"select {column_list} from {_quote(schema)}.{_quote(relation)}"


def _duckdb_relations(con: duckdb.DuckDBPyConnection, schemas: Sequence[str]) -> dict:
    rows = con.execute(
        """
        select table_schema, table_name, column_name
        from information_schema.columns
        where table_catalog = current_database() and table_schema in (select unnest(?))
        order by table_schema, table_name, ordinal_position
        """,
        [list(schemas)],
    ).fetchall()
    relations: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        relations.setdefault((schema, table), []).append(column)
    return relations


def _postgres_relations(conn: Any, schemas: Sequence[str]) -> dict:
    with conn.cursor() as cur:
        cur.execute(
            """
            select table_schema, table_name, column_name
            from information_schema.columns
            where table_schema = any(%s)
            order by table_schema, table_name, ordinal_position
            """,
            (list(schemas),),
        )
        rows = cur.fetchall()
    relations: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        relations.setdefault((schema, table), []).append(column)
    return relations


def _duckdb_batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list]:
    result = con.execute(sql)
    while batch := result.fetchmany(_BATCH):
        yield batch


def _postgres_batches(conn: Any, sql: str) -> Iterator[list]:
    # A named (server-side) cursor streams instead of materialising the table client-side.
    with conn.cursor(name=f"compare_{uuid.uuid4().hex}") as cur:
        cur.itersize = _BATCH
        cur.execute(sql)
        while batch := cur.fetchmany(_BATCH):
            yield batch


def compare(
    duckdb_path: str | Path,
    pg_dsn: str,
    schemas: Sequence[str] = DEFAULT_SCHEMAS,
    skip: Iterable[str] = (),
) -> Comparison:
    """Compare every relation of ``schemas`` between a DuckDB file and a Postgres database.

    Args:
        duckdb_path: The DuckDB warehouse file (opened read-only).
        pg_dsn: ``postgresql://`` URL of the database the Postgres target built into.
        schemas: Schemas to compare.
        skip: Relation names (``name`` or ``schema.name``) known not to build on Postgres,
            e.g. dbt Python models; reported as skipped instead of missing.

    Returns:
        The differences, the compared relations with their row counts, and the skipped ones.
    """
    import psycopg2

    skip = set(skip)
    comparison = Comparison()
    with duckdb.connect(str(duckdb_path), read_only=True) as duck:
        pg = psycopg2.connect(pg_dsn)
        try:
            pg.set_session(readonly=True)
            duck_relations = _duckdb_relations(duck, schemas)
            pg_relations = _postgres_relations(pg, schemas)
            for key in sorted(set(duck_relations) | set(pg_relations)):
                schema, name = key
                if name in skip or f"{schema}.{name}" in skip:
                    comparison.skipped.append(f"{schema}.{name}")
                    continue
                if key not in pg_relations:
                    comparison.diffs.append(Diff(schema, name, "missing_in_postgres"))
                    continue
                if key not in duck_relations:
                    comparison.diffs.append(Diff(schema, name, "missing_in_duckdb"))
                    continue
                duck_cols, pg_cols = duck_relations[key], pg_relations[key]
                if set(duck_cols) != set(pg_cols):
                    comparison.diffs.append(
                        Diff(
                            schema,
                            name,
                            "columns",
                            sorted(set(duck_cols) - set(pg_cols)),
                            sorted(set(pg_cols) - set(duck_cols)),
                        )
                    )
                columns = sorted(set(duck_cols) & set(pg_cols))
                sql = _select(schema, name, columns)
                left = fingerprint(columns, _duckdb_batches(duck, sql))
                right = fingerprint(columns, _postgres_batches(pg, sql))
                comparison.compared[f"{schema}.{name}"] = left.rows
                if left.rows != right.rows:
                    comparison.diffs.append(Diff(schema, name, "row_count", left.rows, right.rows))
                elif left.checksum != right.checksum:
                    comparison.diffs.append(
                        Diff(
                            schema,
                            name,
                            "checksum",
                            f"{left.checksum:064x}"[:16],
                            f"{right.checksum:064x}"[:16],
                        )
                    )
        finally:
            pg.close()
    return comparison


def compare_relations(
    duckdb_path: str | Path,
    pg_dsn: str,
    schemas: Sequence[str] = DEFAULT_SCHEMAS,
    skip: Iterable[str] = (),
) -> list[Diff]:
    """Return the differences between the two builds; empty when they agree.

    See :func:`compare` for the arguments; this is its ``diffs`` alone.
    """
    return compare(duckdb_path, pg_dsn, schemas=schemas, skip=skip).diffs


def python_models(manifest_path: str | Path) -> list[str]:
    """Return the names of the dbt Python models in a manifest (they cannot build on Postgres)."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    return sorted(
        node["name"]
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("language") == "python"
    )


# DuckDB column types → Postgres types for copying Python models' outputs.
_PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "HUGEINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def _pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    try:
        return _PG_TYPES[duckdb_type]
    except KeyError:
        raise ValueError(f"no Postgres type for DuckDB type {duckdb_type}") from None


def copy_python_model_outputs(
    duckdb_path: str | Path, pg_dsn: str, manifest_path: str | Path, work_dir: str | Path
) -> list[str]:
    """Copy what the dbt Python models built on DuckDB into the same relations on Postgres.

    dbt-postgres cannot run Python models, but every SQL model downstream of one can build on
    Postgres if the Python model's output is there. Copying it (through CSV: NULL unquoted,
    empty strings quoted) lets the Postgres leg build and compare those SQL models too.

    Returns:
        ``schema.name`` of every relation copied.
    """
    import psycopg2

    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    targets = sorted(
        (node["schema"], node["alias"] or node["name"])
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("language") == "python"
    )
    copied: list[str] = []
    with duckdb.connect(str(duckdb_path), read_only=True) as duck:
        pg = psycopg2.connect(pg_dsn)
        try:
            for schema, name in targets:
                columns = duck.execute(
                    """
                    select column_name, data_type from information_schema.columns
                    where table_schema = ? and table_name = ? order by ordinal_position
                    """,
                    [schema, name],
                ).fetchall()
                csv_path = Path(work_dir) / f"{schema}.{name}.csv"
                duck.execute(
                    f"copy (select * from {_quote(schema)}.{_quote(name)}) "
                    f"to '{csv_path}' (header false)"
                )
                ddl = ", ".join(f"{_quote(c)} {_pg_type(t)}" for c, t in columns)
                with pg.cursor() as cur, csv_path.open(encoding="utf-8") as fh:
                    cur.execute(f"create schema if not exists {_quote(schema)}")
                    cur.execute(f"drop table if exists {_quote(schema)}.{_quote(name)} cascade")
                    cur.execute(f"create table {_quote(schema)}.{_quote(name)} ({ddl})")
                    cur.copy_expert(
                        f"copy {_quote(schema)}.{_quote(name)} from stdin with (format csv)", fh
                    )
                pg.commit()
                copied.append(f"{schema}.{name}")
        finally:
            pg.close()
    return copied


def python_models_and_dependents(manifest_path: str | Path) -> list[str]:
    """Python models plus every model built from them: what the Postgres leg cannot build.

    dbt-postgres has no Python models, so the models downstream of one (survivorship on top
    of the golden ID map, say) have nothing to read there either.
    """
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    nodes = manifest.get("nodes", {})
    children = manifest.get("child_map", {})
    todo = [
        uid
        for uid, node in nodes.items()
        if node.get("resource_type") == "model" and node.get("language") == "python"
    ]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen:
            continue
        seen.add(uid)
        todo.extend(children.get(uid, []))
    return sorted(
        nodes[uid]["name"] for uid in seen if nodes.get(uid, {}).get("resource_type") == "model"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the comparison; exit 1 when the builds differ."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duckdb", required=True, help="DuckDB warehouse file")
    parser.add_argument("--postgres", required=True, help="postgresql:// URL")
    parser.add_argument("--schemas", default=",".join(DEFAULT_SCHEMAS), help="comma-separated")
    parser.add_argument(
        "--skip-python-models", metavar="MANIFEST", help="skip the Python models of a manifest"
    )
    args = parser.parse_args(argv)
    skip = python_models_and_dependents(args.skip_python_models) if args.skip_python_models else []
    comparison = compare(args.duckdb, args.postgres, schemas=args.schemas.split(","), skip=skip)
    print(comparison.report())
    return 1 if comparison.diffs else 0


if __name__ == "__main__":
    sys.exit(main())
