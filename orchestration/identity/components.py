"""Connected components of the identity graph, and the cluster-size guard.

Two implementations with one contract (``record_key`` → ``component``, the component being the
smallest record key in it, which is only a working label — golden IDs come later):

- :func:`components_sql`: min-label propagation with pointer jumping, run inside the
  warehouse; fine for identity graphs (under ten rounds), O(diameter) on long chains, so it
  stops at ``max_iterations`` and says it did not converge;
- :func:`components_union_find`: scipy's union-find on the edge list pulled into memory,
  O(edges) whatever the shape.

:func:`connected_components` runs SQL and falls back to union-find when SQL does not converge.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from orchestration.identity.frames import checked_name, define_macros, names_compatible

log = logging.getLogger(__name__)

# The exclusive "identifier" compared by compatibility (typos allowed), not equality.
FIRST_NAME = "first_name"


@dataclass(frozen=True)
class ComponentsResult:
    """Labels plus how they were found (reported by the identity checks)."""

    labels: pa.Table  # record_key, component
    method: str
    iterations: int
    converged: bool


def _temp(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _node_ids(con: duckdb.DuckDBPyConnection, nodes: str, edges: str, tmp: str) -> None:
    """Dense integer ids for the record keys, in key order (so labels are deterministic)."""
    con.execute(
        f"""
        create temp table {tmp}_nodes as
        select record_key, cast(row_number() over (order by record_key) - 1 as bigint) as node
        from (select distinct record_key from {nodes})
        """
    )
    con.execute(
        f"""
        create temp table {tmp}_edges as
        select l.node as src, r.node as dst
        from {edges} as e
        inner join {tmp}_nodes as l on e.record_key_left = l.record_key
        inner join {tmp}_nodes as r on e.record_key_right = r.record_key
        where l.node <> r.node
        """
    )


def _labels_table(con: duckdb.DuckDBPyConnection, tmp: str, label_table: str) -> pa.Table:
    return con.sql(
        f"""
        select n.record_key, c.record_key as component
        from {tmp}_nodes as n
        inner join {label_table} as l on n.node = l.node
        inner join {tmp}_nodes as c on l.label = c.node
        order by n.record_key
        """
    ).to_arrow_table()


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    for t in tables:
        con.execute(f"drop table if exists {t}")


# Identity graphs settle in a handful of rounds (measured: 4–6 at 20k and 1M records); a
# graph still changing more than this share of its labels after PROBE_ROUNDS has long chains
# and would need O(diameter) rounds, so the SQL version gives up early.
PROBE_ROUNDS = 5
STALL_SHARE = 0.001


def components_sql(
    con: duckdb.DuckDBPyConnection,
    nodes: str,
    edges: str,
    max_iterations: int = 40,
    *,
    stall_share: float | None = STALL_SHARE,
) -> ComponentsResult:
    """Connected components by min-label propagation with pointer jumping, in SQL.

    Each round every node takes the smallest label among itself and its neighbours, then the
    label of its label (pointer jumping). Stops when no label changes; gives up with
    ``converged=False`` (labels then unusable) after ``max_iterations`` rounds, or already
    after :data:`PROBE_ROUNDS` when more than ``stall_share`` of the labels still change
    (long chains: the union-find fallback is then far faster than finishing in SQL).

    Args:
        con: Connection holding the relations.
        nodes: Relation with ``record_key`` (every record, also those without edges).
        edges: Relation with ``record_key_left``, ``record_key_right``.
        max_iterations: Convergence guard.
        stall_share: Early give-up threshold (``None``: only ``max_iterations``).
    """
    tmp = _temp("cc")
    _node_ids(con, checked_name(nodes), checked_name(edges), tmp)
    con.execute(
        f"""
        create temp table {tmp}_sym as
        select src, dst from {tmp}_edges union all select dst, src from {tmp}_edges
        """
    )
    con.execute(f"create temp table {tmp}_lab as select node, node as label from {tmp}_nodes")
    iterations, converged = 0, False
    try:
        while iterations < max_iterations:
            iterations += 1
            con.execute(
                f"""
                create or replace temp table {tmp}_next as
                with hop as (
                    select l.node, min(least(l.label, n.label)) as label
                    from {tmp}_lab as l
                    left join {tmp}_sym as s on l.node = s.src
                    left join {tmp}_lab as n on s.dst = n.node
                    group by l.node
                )
                select h.node, least(h.label, j.label) as label
                from hop as h
                inner join hop as j on h.label = j.node
                """
            )
            changed = con.sql(
                f"""
                select count(*) from {tmp}_next as n
                inner join {tmp}_lab as l on n.node = l.node
                where n.label <> l.label
                """
            ).fetchall()[0][0]
            con.execute(f"drop table {tmp}_lab")
            con.execute(f"alter table {tmp}_next rename to {tmp}_lab")
            if changed == 0:
                converged = True
                break
            if stall_share is not None and iterations >= PROBE_ROUNDS:
                n_nodes = con.sql(f"select count(*) from {tmp}_lab").fetchall()[0][0]
                if changed > stall_share * n_nodes:
                    break
        labels = _labels_table(con, tmp, f"{tmp}_lab") if converged else pa.table({})
    finally:
        _drop(con, f"{tmp}_nodes", f"{tmp}_edges", f"{tmp}_sym", f"{tmp}_lab", f"{tmp}_next")
    return ComponentsResult(labels, "sql", iterations, converged)


def union_find(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Component index per node (0..k-1, numbered by each component's smallest node).

    Pure function over integer arrays; scipy's union-find does the work in C.
    """
    if n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(src.shape[0], dtype=np.int8), (src, dst)), shape=(n_nodes, n_nodes))
    _, raw = scipy_components(graph, directed=False)
    # scipy numbers components in discovery order; renumber by smallest member for stability.
    first = np.full(raw.max() + 1, n_nodes, dtype=np.int64)
    np.minimum.at(first, raw, np.arange(n_nodes))
    return first[raw]


def components_union_find(
    con: duckdb.DuckDBPyConnection, nodes: str, edges: str
) -> ComponentsResult:
    """Connected components with scipy's union-find (edge list pulled into memory)."""
    tmp = _temp("uf")
    _node_ids(con, checked_name(nodes), checked_name(edges), tmp)
    try:
        n_nodes = con.sql(f"select count(*) from {tmp}_nodes").fetchall()[0][0]
        e = con.sql(f"select src, dst from {tmp}_edges").to_arrow_table()
        label = union_find(
            n_nodes,
            e.column("src").to_numpy().astype(np.int64),
            e.column("dst").to_numpy().astype(np.int64),
        )
        lab = pa.table({"node": np.arange(n_nodes, dtype=np.int64), "label": label})
        con.register(f"{tmp}_lab", lab)
        labels = _labels_table(con, tmp, f"{tmp}_lab")
        con.unregister(f"{tmp}_lab")
    finally:
        _drop(con, f"{tmp}_nodes", f"{tmp}_edges")
    return ComponentsResult(labels, "union_find", 1, True)


def empty_pairs() -> pa.Table:
    """A ``record_key_left, record_key_right`` table with no rows (nothing refused)."""
    return pa.table(
        {
            "record_key_left": pa.array([], pa.string()),
            "record_key_right": pa.array([], pa.string()),
        }
    )


def split_conflicts(
    labels: pa.Table,
    edges: pa.Table,
    exclusive: pa.Table,
) -> tuple[pa.Table, int, pa.Table]:
    """Re-cluster components holding two values of an identifier a person has only one of.

    Two birth dates, two shop accounts, or two first names that cannot be one person's (see
    :func:`frames.names_compatible`; pass them as type ``first_name``) in one component mean
    two people were chained together — typically through a record without a name, such as a
    shared device. Inside each such component the edges are replayed strongest first (deterministic
    by identifier priority, then probabilistic by probability) through a union-find that
    refuses any union joining two different values of an exclusive identifier — a cannot-link
    constraint. Components without a conflict are left as they are (the common case, so the
    Python loop only ever sees a small share of the graph).

    Args:
        labels: ``record_key, component``.
        edges: ``record_key_left, record_key_right, strength`` (smaller = stronger),
            ``match_probability``.
        exclusive: ``record_key, exclusive_type, exclusive_value``.

    Returns:
        New labels, the number of components split, and the refused edges
        (``record_key_left, record_key_right``).
    """
    con = duckdb.connect(":memory:")
    try:
        con.register("labels", labels)
        con.register("edges", edges)
        con.register("exclusive", exclusive)
        define_macros(con)
        conflicted = con.sql(
            f"""
            with valued as (
                select distinct l.component, x.exclusive_type, x.exclusive_value
                from exclusive as x
                inner join labels as l on x.record_key = l.record_key
            )
            select distinct component from valued
            where exclusive_type <> '{FIRST_NAME}'
            group by component, exclusive_type
            having count(*) > 1
            union
            select distinct a.component
            from valued as a
            inner join valued as b
                on a.component = b.component
                and a.exclusive_type = b.exclusive_type
                and a.exclusive_value < b.exclusive_value
            where a.exclusive_type = '{FIRST_NAME}'
                and not names_compatible(a.exclusive_value, b.exclusive_value)
            order by 1
            """
        ).to_arrow_table()
        if conflicted.num_rows == 0:
            return labels, 0, empty_pairs()
        con.register("conflicted", conflicted)
        members = con.sql(
            """
            select l.record_key, l.component
            from labels as l semi join conflicted as c on l.component = c.component
            order by l.record_key
            """
        ).fetchall()
        inner = con.sql(
            """
            select e.record_key_left, e.record_key_right
            from edges as e
            inner join labels as l on e.record_key_left = l.record_key
            semi join conflicted as c on l.component = c.component
            order by e.strength, e.match_probability desc, e.record_key_left, e.record_key_right
            """
        ).fetchall()
        values = con.sql(
            """
            select distinct x.record_key, x.exclusive_type, x.exclusive_value
            from exclusive as x
            inner join labels as l on x.record_key = l.record_key
            semi join conflicted as c on l.component = c.component
            """
        ).fetchall()
        rest = con.sql(
            "select * from labels anti join conflicted using (component)"
        ).to_arrow_table()
    finally:
        con.close()

    parent = {key: key for key, _ in members}
    owned: dict[str, dict[str, set[str]]] = {key: {} for key, _ in members}
    for key, kind, value in values:
        owned[key].setdefault(kind, set()).add(value)

    def clash(va: dict[str, set[str]], vb: dict[str, set[str]]) -> bool:
        for kind in va.keys() & vb.keys():
            a, b = va[kind], vb[kind]
            if kind == FIRST_NAME:
                if any(not names_compatible(x, y) for x in a for y in b):
                    return True
            elif not (a <= b or b <= a):
                # A union may not bring a second account (birth date, ...) into either side.
                return True
        return False

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    refused: list[tuple[str, str]] = []
    for left, right in inner:
        a, b = find(left), find(right)
        if a == b:
            continue
        if clash(owned[a], owned[b]):
            refused.append((left, right))
            continue
        # Union by smallest key keeps the working label deterministic.
        root, child = (a, b) if a < b else (b, a)
        parent[child] = root
        merged = owned[root]
        for kind, vals in owned.pop(child).items():
            merged.setdefault(kind, set()).update(vals)
    keys = [key for key, _ in members]
    split = pa.table({"record_key": keys, "component": [find(k) for k in keys]})
    # A component's label is its smallest record key (union by smallest key guarantees it).
    new_labels = pa.concat_tables(
        [rest.select(["record_key", "component"]), split.cast(rest.schema)]
    )
    refused_table = pa.table(
        {
            "record_key_left": pa.array([r[0] for r in refused], pa.string()),
            "record_key_right": pa.array([r[1] for r in refused], pa.string()),
        }
    )
    return new_labels.sort_by("record_key"), conflicted.num_rows, refused_table


def connected_components(
    con: duckdb.DuckDBPyConnection,
    nodes: str,
    edges: str,
    *,
    method: str = "auto",
    max_iterations: int = 40,
) -> ComponentsResult:
    """Components by ``method``: ``sql``, ``union_find``, or ``auto`` (SQL, then fallback).

    Raises:
        RuntimeError: ``method='sql'`` and the SQL version did not converge.
        ValueError: Unknown method.
    """
    if method == "union_find":
        return components_union_find(con, nodes, edges)
    if method not in {"sql", "auto"}:
        raise ValueError(f"unknown components method {method!r}")
    # Pure SQL was asked for: keep going to max_iterations rather than give up early.
    stall = None if method == "sql" else STALL_SHARE
    result = components_sql(con, nodes, edges, max_iterations, stall_share=stall)
    if result.converged:
        return result
    if method == "sql":
        raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")
    log.warning(
        "SQL components still changing after %d rounds (long chains); using union-find",
        result.iterations,
    )
    fallback = components_union_find(con, nodes, edges)
    return ComponentsResult(fallback.labels, "sql→union_find", result.iterations, True)
