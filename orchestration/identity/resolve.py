"""One resolution run, end to end: the steps of this package in order, timed.

dbt builds the same steps as separate models (so each output is a table with tests and docs);
this module chains them in one process for the ``closedloop identity`` CLI and the benchmarks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.identity.blocklist import blocked_values
from orchestration.identity.clustering import Clustering, cluster_records
from orchestration.identity.edges import deterministic_edges, probabilistic_edges
from orchestration.identity.frames import (
    IDENTIFIER_COLUMNS,
    RECORD_COLUMNS,
    checked_name,
    require_columns,
)
from orchestration.identity.golden_ids import Assignment, assign_golden_ids
from orchestration.identity.scoring import score_pairs, splink_input
from orchestration.identity.settings import Settings


@dataclass
class Resolution:
    """Everything one run produced (Arrow tables), plus seconds per step."""

    blocked: pa.Table
    edges: pa.Table
    scored_pairs: pa.Table
    possible_matches: pa.Table
    clustering: Clustering
    assignment: Assignment
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[step] = round(time.perf_counter() - start, 3)


def empty_scores() -> pa.Table:
    """A scored-pairs table with no rows (deterministic-only runs)."""
    return pa.table(
        {
            "record_key_left": pa.array([], pa.string()),
            "record_key_right": pa.array([], pa.string()),
            "match_weight": pa.array([], pa.float64()),
            "match_probability": pa.array([], pa.float64()),
        }
    )


def first_seen(con: duckdb.DuckDBPyConnection, records: str) -> pd.DataFrame:
    """``record_key, first_seen``: when each record appeared (decides a new cluster's anchor)."""
    frame = con.sql(
        f"""
        select record_key, coalesce(created_at, updated_at) as first_seen
        from {checked_name(records)}
        """
    ).df()
    frame["first_seen"] = frame["first_seen"].fillna(pd.Timestamp.max)
    return frame


def possible_matches(
    con: duckdb.DuckDBPyConnection, scored: str, labels: str
) -> duckdb.DuckDBPyRelation:
    """Scored pairs whose records ended in different clusters: the stewards' review queue."""
    sc, lab = checked_name(scored), checked_name(labels)
    return con.sql(
        f"""
        select s.*, l.component as component_left, r.component as component_right
        from {sc} as s
        inner join {lab} as l on s.record_key_left = l.record_key
        inner join {lab} as r on s.record_key_right = r.record_key
        where l.component <> r.component
        order by s.match_probability desc, s.record_key_left, s.record_key_right
        """
    )


def resolve(
    con: duckdb.DuckDBPyConnection,
    records: str,
    identifiers: str,
    blocklist: str,
    settings: Settings,
    *,
    prior: pd.DataFrame | None = None,
    components_method: str = "auto",
    probabilistic: bool = True,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> Resolution:
    """Resolve ``records`` into golden IDs.

    Args:
        con: Connection holding the relations (temporary tables are created on it).
        records: Relation in the records shape (:mod:`.frames`).
        identifiers: Relation in the identifiers shape.
        blocklist: Relation in the blocklist seed's shape.
        settings: Caps, thresholds, the Splink model.
        prior: The previous golden ID map (``record_key, golden_id, assignments``).
        components_method: ``auto``, ``sql`` or ``union_find``.
        probabilistic: ``False`` skips Splink (deterministic edges only).
        threads: DuckDB threads for Splink's connection.
        memory_limit: DuckDB memory limit for Splink's connection (e.g. ``"2GB"``; DuckDB
            spills to disk beyond it). The caller sets its own connection's.
    """
    require_columns(con, records, RECORD_COLUMNS)
    require_columns(con, identifiers, IDENTIFIER_COLUMNS)
    timings: dict[str, float] = {}
    tag = uuid.uuid4().hex[:8]
    t_blocked, t_det, t_scored, t_edges, t_labels = (
        f"{n}_{tag}" for n in ("blk", "det", "scr", "edg", "lab")
    )
    try:
        with _timed(timings, "blocklist"):
            blocked = blocked_values(con, identifiers, records, blocklist, settings)
            con.execute(f"create temp table {t_blocked} as {blocked.sql_query()}")
        with _timed(timings, "deterministic_edges"):
            det = deterministic_edges(con, identifiers, records, t_blocked)
            con.execute(f"create temp table {t_det} as {det.sql_query()}")
        with _timed(timings, "splink_scoring"):
            scored = (
                score_pairs(
                    splink_input(con, records),
                    settings.splink_model,
                    min_probability=settings.review_probability,
                    threads=threads,
                    memory_limit=memory_limit,
                )
                if probabilistic
                else empty_scores()
            )
            con.register(f"{t_scored}_arrow", scored)
            con.execute(f"create temp table {t_scored} as select * from {t_scored}_arrow")
            con.unregister(f"{t_scored}_arrow")
        with _timed(timings, "probabilistic_edges"):
            prob = probabilistic_edges(con, t_scored, records, settings)
            con.execute(
                f"create temp table {t_edges} as select * from {t_det} union all {prob.sql_query()}"
            )
        with _timed(timings, "clustering"):
            clustering = cluster_records(
                con, records, identifiers, t_blocked, t_edges, settings, method=components_method
            )
        with _timed(timings, "golden_ids"):
            current = clustering.labels.to_pandas().merge(
                first_seen(con, records), on="record_key", how="left"
            )
            assignment = assign_golden_ids(current, prior)
        with _timed(timings, "possible_matches"):
            con.register(t_labels, clustering.labels)
            try:
                review = possible_matches(con, t_scored, t_labels).to_arrow_table()
            finally:
                con.unregister(t_labels)
        return Resolution(
            blocked=con.sql(f"select * from {t_blocked}").to_arrow_table(),
            edges=con.sql(f"select * from {t_edges} order by all").to_arrow_table(),
            scored_pairs=scored,
            possible_matches=review,
            clustering=clustering,
            assignment=assignment,
            timings=timings,
        )
    finally:
        for t in (t_blocked, t_det, t_scored, t_edges):
            con.execute(f"drop table if exists {t}")
