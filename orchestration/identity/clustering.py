"""From edges to clusters: connected components, cannot-link splits and the size guard.

:func:`cluster_records` is the one entry point (dbt's ``int_identity__clusters`` model, the
CLI and the benchmarks call it). It works on a private copy of the edge table, because the
guards remove edges as they go.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.identity.components import (
    ComponentsResult,
    connected_components,
    empty_pairs,
    split_conflicts,
    union_find,
)
from orchestration.identity.frames import checked_name, sql_literal
from orchestration.identity.settings import Settings


@dataclass(frozen=True)
class Clustering:
    """Clusters plus what the guards did (reported by the identity checks).

    Attributes:
        labels: ``record_key, component`` (the component is a working label: its smallest
            record key).
        method: How components were found (``sql``, ``union_find``, ``sql→union_find``, with
            ``+cannot_link`` when conflicts were split).
        iterations: Rounds of SQL label propagation.
        conflicted_clusters: Components re-clustered under cannot-link constraints.
        refused_edges: Edges those constraints dropped (``record_key_left, record_key_right``).
        oversized_clusters: Components above ``max_cluster_size`` before the guard.
    """

    labels: pa.Table
    method: str
    iterations: int
    conflicted_clusters: int
    refused_edges: pa.Table
    oversized_clusters: int


def cluster_records(
    con: duckdb.DuckDBPyConnection,
    records: str,
    identifiers: str,
    blocked: str,
    edges: str,
    settings: Settings,
    *,
    method: str = "auto",
) -> Clustering:
    """Cluster ``records`` along ``edges`` (the edges relation is not modified).

    Args:
        con: Connection holding the relations.
        records: Records shape (every record is a node, linked or not).
        identifiers: Identifiers shape (for the exclusive identifiers).
        blocked: Blocked values (never count as exclusive values either).
        edges: ``record_key_left, record_key_right, edge_kind, strength, match_probability``.
        settings: Exclusive identifiers and the cluster-size cap.
        method: Components method (:func:`components.connected_components`).
    """
    work = f"cluster_edges_{uuid.uuid4().hex[:8]}"
    con.execute(
        f"""
        create temp table {work} as
        select record_key_left, record_key_right, edge_kind, strength, match_probability
        from {checked_name(edges)}
        """
    )
    try:
        comps = connected_components(con, records, work, method=method)
        comps, conflicted, refused = _split_conflicts(
            con, records, identifiers, blocked, work, comps, settings
        )
        comps, oversized = _guard_cluster_size(con, records, work, comps, settings, method)
    finally:
        con.execute(f"drop table if exists {work}")
    return Clustering(
        labels=comps.labels,
        method=comps.method,
        iterations=comps.iterations,
        conflicted_clusters=conflicted,
        refused_edges=refused,
        oversized_clusters=oversized,
    )


def _split_conflicts(
    con: duckdb.DuckDBPyConnection,
    records: str,
    identifiers: str,
    blocked: str,
    edges: str,
    comps: ComponentsResult,
    settings: Settings,
) -> tuple[ComponentsResult, int, pa.Table]:
    """Apply the cannot-link constraints of ``settings.exclusive_identifiers``."""
    record_columns = {"birth_date": "cast(birth_date as varchar)", "first_name": "first_name_key"}
    types = ", ".join(
        sql_literal(t) for t in settings.exclusive_identifiers if t not in record_columns
    )
    parts = []
    if types:
        parts.append(
            f"""
            select ids.record_key, ids.identifier_type as exclusive_type,
                ids.identifier_value as exclusive_value
            from {identifiers} as ids
            anti join {blocked} as b
                on ids.identifier_type = b.identifier_type
                and ids.identifier_value = b.identifier_value
            where ids.identifier_type in ({types})
            """
        )
    for column, expression in record_columns.items():
        if column in settings.exclusive_identifiers:
            parts.append(
                f"""
                select record_key, '{column}', {expression}
                from {records} where {expression} is not null
                """
            )
    if not parts:
        return comps, 0, empty_pairs()
    tag = uuid.uuid4().hex[:8]
    lab, excl, cand = f"cl_labels_{tag}", f"cl_excl_{tag}", f"cl_cand_{tag}"
    con.register(lab, comps.labels)
    try:
        con.execute(
            f"""
            create temp table {excl} as
            select x.*, l.component
            from ({" union all ".join(parts)}) as x
            inner join {lab} as l on x.record_key = l.record_key
            """
        )
        # Only components with two values of some exclusive type can conflict: the rest of
        # the graph never leaves the warehouse.
        con.execute(
            f"""
            create temp table {cand} as
            select distinct component from {excl}
            group by component, exclusive_type
            having count(distinct exclusive_value) > 1
            """
        )
        sub_labels = con.sql(
            f"select record_key, component from {lab} semi join {cand} using (component)"
        ).to_arrow_table()
        sub_edges = con.sql(
            f"""
            select e.record_key_left, e.record_key_right, e.strength, e.match_probability
            from {edges} as e
            inner join {lab} as l on e.record_key_left = l.record_key
            semi join {cand} as c on l.component = c.component
            """
        ).to_arrow_table()
        sub_exclusive = con.sql(
            f"""
            select record_key, exclusive_type, exclusive_value
            from {excl} semi join {cand} using (component)
            """
        ).to_arrow_table()
    finally:
        con.unregister(lab)
        con.execute(f"drop table if exists {excl}")
        con.execute(f"drop table if exists {cand}")
    new_sub, conflicted, refused = split_conflicts(sub_labels, sub_edges, sub_exclusive)
    if not conflicted:
        return comps, 0, refused
    labels = _replace_labels(comps.labels, new_sub)
    result = ComponentsResult(labels, comps.method + "+cannot_link", comps.iterations, True)
    # The guard below works on the edge table: drop the refused edges there.
    refused_name = f"refused_edges_{tag}"
    con.register(refused_name, refused)
    con.execute(
        f"""
        delete from {edges} as e
        where exists (
            select 1 from {refused_name} as r
            where r.record_key_left = e.record_key_left
                and r.record_key_right = e.record_key_right
        )
        """
    )
    con.unregister(refused_name)
    return result, conflicted, refused


def _replace_labels(labels: pa.Table, replacement: pa.Table) -> pa.Table:
    """``labels`` with the rows of ``replacement``'s records swapped in, sorted by key."""
    keep = pc.invert(
        pc.is_in(labels.column("record_key"), value_set=replacement.column("record_key"))
    )
    merged = pa.concat_tables(
        [
            labels.filter(keep).select(["record_key", "component"]),
            replacement.select(["record_key", "component"]).cast(
                labels.select(["record_key", "component"]).schema
            ),
        ]
    )
    return merged.sort_by("record_key")


def _guard_cluster_size(
    con: duckdb.DuckDBPyConnection,
    records: str,
    edges: str,
    comps: ComponentsResult,
    settings: Settings,
    method: str,
) -> tuple[ComponentsResult, int]:
    """Split clusters above ``max_cluster_size`` by dropping their probabilistic edges.

    A giant cluster is the signature of chaining (one bad link joining two people, repeated);
    the probabilistic links are the weakest evidence, so they go first. Returns the new
    components and how many clusters were too big.
    """
    tag = uuid.uuid4().hex[:8]
    lab, big = f"guard_labels_{tag}", f"guard_big_{tag}"
    con.register(lab, comps.labels)
    try:
        con.execute(
            f"""
            create temp table {big} as
            select component from {lab} group by component
            having count(*) > {int(settings.max_cluster_size)}
            """
        )
        oversized = con.sql(f"select count(*) from {big}").fetchall()[0][0]
        if not oversized:
            return comps, 0
        members = con.sql(
            f"select record_key from {lab} semi join {big} using (component) order by record_key"
        ).to_arrow_table()
        kept = con.sql(
            f"""
            select e.record_key_left, e.record_key_right
            from {edges} as e
            inner join {lab} as l on e.record_key_left = l.record_key
            semi join {big} as b on l.component = b.component
            where e.edge_kind <> 'probabilistic'
            """
        ).to_arrow_table()
        con.execute(
            f"""
            delete from {edges} as e
            where e.edge_kind = 'probabilistic'
                and e.record_key_left in (
                    select record_key from {lab} semi join {big} using (component)
                )
            """
        )
    finally:
        con.unregister(lab)
        con.execute(f"drop table if exists {big}")
    # Re-cluster only the oversized components, on their deterministic edges.
    keys = members.column("record_key").to_numpy(zero_copy_only=False)
    index = {k: i for i, k in enumerate(keys)}
    src = np.array([index[k] for k in kept.column("record_key_left").to_pylist()], dtype=np.int64)
    dst = np.array([index[k] for k in kept.column("record_key_right").to_pylist()], dtype=np.int64)
    first = union_find(len(keys), src, dst)
    relabelled = pa.table({"record_key": keys, "component": keys[first]})
    labels = _replace_labels(comps.labels, relabelled)
    return ComponentsResult(labels, comps.method, comps.iterations, True), int(oversized)
