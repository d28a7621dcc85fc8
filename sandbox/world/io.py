"""Deterministic writers and readers: parquet (zstd, sorted by id), the shop SQLite database,
web JSON-lines drops and the manifest.

Shop SQLite conventions: every table has ``id INTEGER PRIMARY KEY``; timestamps are stored as
plain UTC text ``YYYY-MM-DD HH:MM:SS`` (declared ``TIMESTAMP``), dates as ``YYYY-MM-DD``
(``DATE``), money as ``NUMERIC(12,2)`` (SQLite keeps it as REAL), booleans as 0/1
(``BOOLEAN``); ``updated_at`` is indexed. Rows are inserted in id order, then ``VACUUM``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.world.core import TS_TYPE, US, decimal_array, sql_ts
from sandbox.world.schema import ARROW_TYPE, SQL_TYPE, Schema
from sandbox.world.systems import Rows

MANIFEST = "world.json"


def rows_to_table(rows: Rows, schema: Schema) -> pa.Table:
    """Arrow table with the declared column types (internal sentinel 0 → null)."""
    n = len(rows)
    cols: dict[str, pa.Array] = {}
    for name, kind in schema:
        v = rows.cols.get(name)
        if v is None:
            v = (
                np.zeros(n, dtype=np.int64)
                if kind in ("i64n", "ts")
                else np.full(n, None, dtype=object)
            )
        if kind == "i64":
            cols[name] = pa.array(np.asarray(v, dtype=np.int64), pa.int64())
        elif kind == "i64n":
            a = np.asarray(v, dtype=np.int64)
            cols[name] = pa.array(a, pa.int64(), mask=a == 0)
        elif kind in ("str", "sqldate"):
            cols[name] = pa.array(v, pa.string())
        elif kind == "ts":
            a = np.asarray(v, dtype=np.int64)
            cols[name] = pa.array(a, TS_TYPE, mask=a == 0)
        elif kind == "date":
            a = np.asarray(v, dtype=np.int64) // (86_400 * US)
            cols[name] = pa.array(a.astype(np.int32), pa.date32())
        elif kind == "bool":
            cols[name] = pa.array(np.asarray(v, dtype=bool), pa.bool_())
        elif kind == "dec":
            cols[name] = decimal_array(np.asarray(v, dtype=np.float64))
        elif kind == "f64":
            cols[name] = pa.array(np.asarray(v, dtype=np.float64), pa.float64())
        elif kind == "tags":
            cols[name] = pa.array(list(v), pa.list_(pa.string()))
        else:  # pragma: no cover - schema typo
            raise ValueError(kind)
    return pa.table(cols, schema=pa.schema([(c, ARROW_TYPE[k]) for c, k in schema]))


def write_parquet(table: pa.Table, path: Path, sort_by: list[str] | None = None) -> None:
    """Write zstd parquet deterministically, sorted by ``sort_by`` (default ``id``)."""
    keys = sort_by if sort_by is not None else (["id"] if "id" in table.column_names else [])
    if keys and table.num_rows:
        table = table.sort_by([(k, "ascending") for k in keys])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table.combine_chunks(), tmp, compression="zstd", row_group_size=512 * 1024)
    tmp.replace(path)


def read_parquet(path: Path) -> pa.Table:
    """Read a parquet file into one-chunk columns."""
    return pq.read_table(path).combine_chunks()


# --- SQLite -----------------------------------------------------------------------------------


def shop_ddl(table: str, schema: Schema) -> str:
    """``CREATE TABLE`` with proper SQL types and ``id INTEGER PRIMARY KEY``."""
    cols = []
    for name, kind in schema:
        if name == "id":
            cols.append("id INTEGER PRIMARY KEY")
        else:
            cols.append(f"{name} {SQL_TYPE[kind]}")
    return f"CREATE TABLE {table} (\n  " + ",\n  ".join(cols) + "\n)"


def sql_values(rows: Rows, schema: Schema) -> list[tuple[Any, ...]]:
    """Python row tuples in SQLite storage form (sorted by id by the caller)."""
    n = len(rows)
    columns: list[list[Any]] = []
    for name, kind in schema:
        v = rows.cols.get(name)
        if v is None:
            columns.append([None] * n)
            continue
        if kind in ("i64",):
            columns.append(np.asarray(v, dtype=np.int64).tolist())
        elif kind == "i64n":
            a = np.asarray(v, dtype=np.int64)
            lst = a.tolist()
            for i in np.flatnonzero(a == 0):
                lst[i] = None
            columns.append(lst)
        elif kind == "ts":
            a = np.asarray(v, dtype=np.int64)
            columns.append(sql_ts(a, a == 0))
        elif kind == "bool":
            columns.append(np.asarray(v, dtype=bool).astype(np.int64).tolist())
        elif kind == "dec":
            columns.append(np.round(np.asarray(v, dtype=np.float64), 2).tolist())
        else:
            columns.append(list(v))
    return list(zip(*columns, strict=True)) if columns else []


def create_shop(path: Path, schemas: dict[str, Schema]) -> sqlite3.Connection:
    """Create the shop database with all tables and ``updated_at`` indexes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    # Bulk build: no journal/fsync while filling (the file is VACUUMed at the end anyway).
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    for table, schema in schemas.items():
        con.execute(shop_ddl(table, schema))
    return con


def create_indexes(con: sqlite3.Connection, tables: list[str]) -> None:
    """``updated_at`` indexes, built after the bulk insert (much faster than maintaining them)."""
    for table in tables:
        con.execute(f"CREATE INDEX ix_{table}_updated_at ON {table} (updated_at)")


def insert_rows(con: sqlite3.Connection, table: str, rows: Rows, schema: Schema) -> None:
    """Insert rows (in id order) into a shop table."""
    if not len(rows):
        return
    order = np.argsort(np.asarray(rows["id"], dtype=np.int64), kind="stable")
    rows = rows.take(order)
    names = ", ".join(c for c, _ in schema)
    marks = ", ".join("?" for _ in schema)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    # Chunks keep the Python row tuples (the memory peak at 1M people) small.
    step = 100_000
    for lo in range(0, len(rows), step):
        part = rows.take(np.arange(lo, min(lo + step, len(rows))))
        con.executemany(sql, sql_values(part, schema))


def finish_sqlite(con: sqlite3.Connection) -> None:
    """Commit, compact deterministically and close."""
    con.commit()
    con.execute("VACUUM")
    con.close()


# --- JSON -------------------------------------------------------------------------------------


def dump_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, compact separators, trailing newline)."""
    return (
        json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, indent=1) + "\n"
    )


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(obj: Any, path: Path) -> None:
    """Write deterministic JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_json(obj), encoding="utf-8")


def string_array_bytes(arr: pa.Array) -> bytes:
    """Concatenated UTF-8 bytes of a string array (each element already ends with newline)."""
    arr = arr.cast(pa.large_string()) if arr.type == pa.string() and len(arr) > 0 else arr
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    return data.to_pybytes()[int(offsets[0]) : int(offsets[-1])]
