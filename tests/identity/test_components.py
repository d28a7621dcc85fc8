"""Connected components (``identity.components``): union-find, the SQL version and its
convergence guard, the ``auto`` fallback, and the cannot-link split of conflicted clusters."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from orchestration.identity.components import (
    PROBE_ROUNDS,
    components_sql,
    components_union_find,
    connected_components,
    split_conflicts,
    union_find,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


def _arr(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def reference_labels(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, str]:
    """Plain-Python components, labelled by their smallest key (the engine's contract)."""
    parent = {k: k for k in keys}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for left, right in edges:
        if left in parent and right in parent:
            a, b = find(left), find(right)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {k: find(k) for k in keys}


def load_graph(
    con: duckdb.DuckDBPyConnection, keys: list[str], edges: list[tuple[str, str]]
) -> None:
    con.register("node_rows", pa.table({"record_key": pa.array(keys, pa.string())}))
    con.register(
        "edge_rows",
        pa.table(
            {
                "record_key_left": pa.array([e[0] for e in edges], pa.string()),
                "record_key_right": pa.array([e[1] for e in edges], pa.string()),
            }
        ),
    )
    con.execute("create or replace table nodes as select * from node_rows")
    con.execute("create or replace table edges as select * from edge_rows")
    con.unregister("node_rows")
    con.unregister("edge_rows")


def as_dict(labels: pa.Table) -> dict[str, str]:
    return dict(
        zip(
            labels.column("record_key").to_pylist(),
            labels.column("component").to_pylist(),
            strict=True,
        )
    )


def temp_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}


# --- union_find -------------------------------------------------------------------------


def test_union_find_small_graphs() -> None:
    assert union_find(0, _arr([]), _arr([])).tolist() == []
    assert union_find(4, _arr([]), _arr([])).tolist() == [0, 1, 2, 3]
    # 0-1, 3-4; 2 alone.
    assert union_find(5, _arr([0, 4]), _arr([1, 3])).tolist() == [0, 0, 2, 3, 3]
    # Direction, duplicates and self-loops do not matter; label = smallest member.
    assert union_find(6, _arr([5, 2, 2, 3, 1]), _arr([2, 5, 2, 1, 1])).tolist() == [
        0,
        1,
        2,
        1,
        4,
        2,
    ]
    # A star and a cycle.
    star = union_find(7, _arr([3, 3, 3]), _arr([0, 5, 6]))
    assert star.tolist() == [0, 1, 2, 0, 4, 0, 0]
    cycle = union_find(4, _arr([1, 2, 3, 0]), _arr([2, 3, 0, 1]))
    assert cycle.tolist() == [0, 0, 0, 0]


def test_union_find_million_nodes_in_long_shuffled_chains() -> None:
    chains, length = 1_000, 1_000
    n = chains * length
    rng = np.random.default_rng(7)
    ids = rng.permutation(n).astype(np.int64).reshape(chains, length)
    src = ids[:, :-1].ravel()
    dst = ids[:, 1:].ravel()
    order = rng.permutation(src.shape[0])
    label = union_find(n, src[order], dst[order])

    assert label.shape == (n,)
    assert np.unique(label).shape[0] == chains
    # Every chain is one component labelled by its smallest node.
    chain_labels = label[ids]
    assert (chain_labels == chain_labels[:, :1]).all()
    assert (chain_labels[:, 0] == ids.min(axis=1)).all()


# --- SQL and union-find over relations ----------------------------------------------------


def test_both_methods_on_a_small_graph(con: duckdb.DuckDBPyConnection) -> None:
    keys = ["e", "d", "c", "b", "a", "f", "g"]
    edges = [("e", "c"), ("c", "a"), ("d", "f"), ("b", "b"), ("a", "zz_unknown")]
    load_graph(con, keys, edges)
    expected = {"a": "a", "c": "a", "e": "a", "b": "b", "d": "d", "f": "d", "g": "g"}
    before = temp_tables(con)
    for result in (
        components_sql(con, "nodes", "edges"),
        components_union_find(con, "nodes", "edges"),
    ):
        assert result.converged
        assert as_dict(result.labels) == expected
        assert result.labels.column("record_key").to_pylist() == sorted(keys)
    assert temp_tables(con) == before  # working tables are dropped


def test_empty_edge_list_gives_singletons(con: duckdb.DuckDBPyConnection) -> None:
    load_graph(con, ["b", "a", "c"], [])
    for result in (
        components_sql(con, "nodes", "edges"),
        components_union_find(con, "nodes", "edges"),
    ):
        assert as_dict(result.labels) == {"a": "a", "b": "b", "c": "c"}
    sql = components_sql(con, "nodes", "edges")
    assert sql.iterations == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_and_union_find_agree_on_a_random_graph(
    con: duckdb.DuckDBPyConnection, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = 3_000
    # Keys whose sort order is unrelated to how the graph was built.
    keys = [f"rec:{v:08x}" for v in rng.choice(16**8, size=n, replace=False)]
    m = 2_400
    left, right = rng.integers(0, n, size=m), rng.integers(0, n, size=m)
    edges = [(keys[a], keys[b]) for a, b in zip(left, right, strict=True)]
    load_graph(con, keys, edges)

    # stall_share=None: run to convergence (this graph has long paths, see the stall test).
    sql = components_sql(con, "nodes", "edges", max_iterations=1_000, stall_share=None)
    uf = components_union_find(con, "nodes", "edges")
    assert sql.converged
    assert uf.converged
    assert sql.method == "sql"
    assert uf.method == "union_find"
    assert sql.labels.equals(uf.labels)
    assert as_dict(sql.labels) == reference_labels(keys, edges)
    assert len(set(as_dict(uf.labels).values())) > 100  # a graph with real structure
    # Whichever way ``auto`` goes, it gives the same labels.
    assert connected_components(con, "nodes", "edges").labels.equals(uf.labels)


def _long_chain(n: int, seed: int) -> tuple[list[str], list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    keys = [f"k{v:06d}" for v in rng.permutation(n)]
    return keys, list(pairwise(keys))


def test_sql_stops_at_max_iterations_on_a_long_chain(con: duckdb.DuckDBPyConnection) -> None:
    keys, edges = _long_chain(300, seed=5)
    load_graph(con, keys, edges)
    before = temp_tables(con)
    result = components_sql(con, "nodes", "edges", max_iterations=3, stall_share=None)
    assert not result.converged
    assert result.iterations == 3
    assert result.labels.num_rows == 0
    assert temp_tables(con) == before
    # Given enough rounds (and no early give-up) the same chain converges to one component.
    full = components_sql(con, "nodes", "edges", max_iterations=1_000, stall_share=None)
    assert full.converged
    assert full.iterations > PROBE_ROUNDS
    assert set(as_dict(full.labels).values()) == {min(keys)}


def test_sql_gives_up_early_while_labels_keep_changing(con: duckdb.DuckDBPyConnection) -> None:
    keys, edges = _long_chain(300, seed=8)
    load_graph(con, keys, edges)
    result = components_sql(con, "nodes", "edges", max_iterations=1_000)
    assert not result.converged
    assert result.iterations == PROBE_ROUNDS
    # ``auto`` falls back after the probe rounds; ``sql`` keeps going to max_iterations.
    auto = connected_components(con, "nodes", "edges", max_iterations=1_000)
    assert auto.method == "sql→union_find"
    assert auto.iterations == PROBE_ROUNDS
    assert set(as_dict(auto.labels).values()) == {min(keys)}
    sql = connected_components(con, "nodes", "edges", method="sql", max_iterations=1_000)
    assert sql.method == "sql"
    assert sql.iterations > PROBE_ROUNDS
    assert sql.labels.equals(auto.labels)
    with pytest.raises(RuntimeError, match="did not converge"):
        connected_components(con, "nodes", "edges", method="sql", max_iterations=PROBE_ROUNDS + 1)


def test_sql_settles_small_graphs_within_the_probe(con: duckdb.DuckDBPyConnection) -> None:
    # Identity-like graph: many small stars and pairs, shuffled keys.
    rng = np.random.default_rng(4)
    keys = [f"rec:{v:06d}" for v in rng.permutation(5_000)]
    edges = []
    for start in range(0, 5_000, 5):
        hub, *spokes = keys[start : start + 5]
        edges += [(hub, s) for s in spokes[: int(rng.integers(0, 5))]]
    load_graph(con, keys, edges)
    result = connected_components(con, "nodes", "edges")
    assert result.method == "sql"
    assert result.converged
    assert result.iterations <= PROBE_ROUNDS
    assert as_dict(result.labels) == reference_labels(keys, edges)


def test_auto_falls_back_to_union_find_and_sql_raises(con: duckdb.DuckDBPyConnection) -> None:
    keys, edges = _long_chain(300, seed=6)
    extra = ["z_alone_1", "z_alone_2"]
    load_graph(con, keys + extra, edges)

    auto = connected_components(con, "nodes", "edges", method="auto", max_iterations=3)
    assert "union_find" in auto.method
    assert auto.converged
    assert auto.iterations == 3
    assert as_dict(auto.labels) == {
        **dict.fromkeys(keys, min(keys)),
        "z_alone_1": "z_alone_1",
        "z_alone_2": "z_alone_2",
    }

    with pytest.raises(RuntimeError, match="did not converge"):
        connected_components(con, "nodes", "edges", method="sql", max_iterations=3)
    with pytest.raises(ValueError, match="unknown components method"):
        connected_components(con, "nodes", "edges", method="louvain")

    assert connected_components(con, "nodes", "edges", method="union_find").labels.equals(
        auto.labels
    )


def test_auto_uses_sql_when_it_converges(con: duckdb.DuckDBPyConnection) -> None:
    load_graph(con, ["a", "b", "c"], [("a", "b")])
    result = connected_components(con, "nodes", "edges")
    assert result.method == "sql"
    assert as_dict(result.labels) == {"a": "a", "b": "a", "c": "c"}


def test_relation_names_are_checked(con: duckdb.DuckDBPyConnection) -> None:
    load_graph(con, ["a"], [])
    with pytest.raises(ValueError, match="not a plain relation name"):
        components_sql(con, "nodes; drop table nodes", "edges")


# --- split_conflicts ---------------------------------------------------------------------


def labels_table(components: dict[str, list[str]]) -> pa.Table:
    keys = sorted(k for members in components.values() for k in members)
    where = {k: c for c, members in components.items() for k in members}
    return pa.table({"record_key": keys, "component": [where[k] for k in keys]})


def edges_table(rows: list[tuple[str, str, int, float]]) -> pa.Table:
    return pa.table(
        {
            "record_key_left": pa.array([r[0] for r in rows], pa.string()),
            "record_key_right": pa.array([r[1] for r in rows], pa.string()),
            "strength": pa.array([r[2] for r in rows], pa.int64()),
            "match_probability": pa.array([r[3] for r in rows], pa.float64()),
        }
    )


def exclusive_table(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table(
        {
            "record_key": pa.array([r[0] for r in rows], pa.string()),
            "exclusive_type": pa.array([r[1] for r in rows], pa.string()),
            "exclusive_value": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def refused_pairs(refused: pa.Table) -> list[tuple[str, str]]:
    return list(
        zip(
            refused.column("record_key_left").to_pylist(),
            refused.column("record_key_right").to_pylist(),
            strict=True,
        )
    )


def test_split_at_the_weak_probabilistic_edge() -> None:
    # a-b and c-d share an email (priority 5); a Splink edge chains b to c. Two birth dates.
    labels = labels_table({"a": ["a", "b", "c", "d"], "e": ["e", "f"]})
    edges = edges_table(
        [("a", "b", 5, 1.0), ("b", "c", 100, 0.9995), ("c", "d", 5, 1.0), ("e", "f", 7, 1.0)]
    )
    exclusive = exclusive_table(
        [
            ("a", "birth_date", "1980-01-01"),
            ("b", "birth_date", "1980-01-01"),
            ("c", "birth_date", "1975-06-30"),
            ("e", "birth_date", "1990-02-02"),
        ]
    )
    new_labels, conflicted, refused = split_conflicts(labels, edges, exclusive)
    assert conflicted == 1
    assert refused_pairs(refused) == [("b", "c")]
    assert as_dict(new_labels) == {"a": "a", "b": "a", "c": "c", "d": "c", "e": "e", "f": "e"}
    assert new_labels.column("record_key").to_pylist() == ["a", "b", "c", "d", "e", "f"]


def test_split_refuses_the_weakest_edge_not_the_first_met() -> None:
    # Chain a - b - c - d; a and d hold different shop accounts. The weakest edge is a-b
    # (strength 7 = phone), though it is the first in key order.
    labels = labels_table({"a": ["a", "b", "c", "d"]})
    edges = edges_table([("a", "b", 7, 1.0), ("b", "c", 2, 1.0), ("c", "d", 5, 1.0)])
    exclusive = exclusive_table([("a", "shop_customer", "S1"), ("d", "shop_customer", "S2")])
    new_labels, conflicted, refused = split_conflicts(labels, edges, exclusive)
    assert conflicted == 1
    assert refused_pairs(refused) == [("a", "b")]
    assert as_dict(new_labels) == {"a": "a", "b": "b", "c": "b", "d": "b"}


def test_split_among_probabilistic_edges_drops_the_least_probable() -> None:
    labels = labels_table({"a": ["a", "b", "c", "d"]})
    edges = edges_table(
        [("a", "b", 100, 0.99995), ("b", "c", 100, 0.9991), ("c", "d", 100, 0.9997)]
    )
    exclusive = exclusive_table(
        [("a", "birth_date", "1980-01-01"), ("d", "birth_date", "1981-01-01")]
    )
    new_labels, _, refused = split_conflicts(labels, edges, exclusive)
    assert refused_pairs(refused) == [("b", "c")]
    assert as_dict(new_labels) == {"a": "a", "b": "a", "c": "c", "d": "c"}


def test_split_keeps_each_value_in_one_part() -> None:
    # A star around "hub" (no birth date) with three people of three birth dates: the hub joins
    # the strongest, the others are refused and stay apart from each other.
    labels = labels_table({"hub": ["hub", "p1", "p2", "p3", "p3b"]})
    edges = edges_table(
        [
            ("hub", "p1", 7, 1.0),
            ("hub", "p2", 5, 1.0),
            ("hub", "p3", 6, 1.0),
            ("p3", "p3b", 1, 1.0),
        ]
    )
    exclusive = exclusive_table(
        [
            ("p1", "birth_date", "1970-01-01"),
            ("p2", "birth_date", "1980-01-01"),
            ("p3", "birth_date", "1990-01-01"),
            ("p3b", "birth_date", "1990-01-01"),
        ]
    )
    new_labels, conflicted, refused = split_conflicts(labels, edges, exclusive)
    assert conflicted == 1
    assert sorted(refused_pairs(refused)) == [("hub", "p1"), ("hub", "p3")]
    assert as_dict(new_labels) == {
        "hub": "hub",
        "p2": "hub",
        "p1": "p1",
        "p3": "p3",
        "p3b": "p3",
    }
    # However it splits, no part holds two values of one exclusive type.
    parts: dict[str, set[str]] = {}
    values = dict(
        zip(
            exclusive.column("record_key").to_pylist(),
            exclusive.column("exclusive_value").to_pylist(),
            strict=True,
        )
    )
    for key, comp in as_dict(new_labels).items():
        if key in values:
            parts.setdefault(comp, set()).add(values[key])
    assert all(len(v) == 1 for v in parts.values())


def test_no_conflict_leaves_labels_untouched() -> None:
    labels = labels_table({"a": ["a", "b"], "c": ["c", "d", "e"]})
    edges = edges_table([("a", "b", 5, 1.0), ("c", "d", 100, 0.9995), ("d", "e", 7, 1.0)])
    # Same value twice in one component, and different types: no conflict.
    exclusive = exclusive_table(
        [
            ("a", "birth_date", "1980-01-01"),
            ("b", "birth_date", "1980-01-01"),
            ("c", "loyalty", "L1"),
            ("d", "shop_customer", "S1"),
        ]
    )
    new_labels, conflicted, refused = split_conflicts(labels, edges, exclusive)
    assert conflicted == 0
    assert refused.num_rows == 0
    assert new_labels.equals(labels)


def test_only_conflicted_components_are_reclustered() -> None:
    # Component "m" has no conflict but its edges would not reconnect it on their own (its
    # labels came from elsewhere): it must be left exactly as it was.
    labels = labels_table({"a": ["a", "b"], "m": ["m", "n", "o"]})
    edges = edges_table([("a", "b", 100, 0.9995)])
    exclusive = exclusive_table([("a", "loyalty", "L1"), ("b", "loyalty", "L2")])
    new_labels, conflicted, refused = split_conflicts(labels, edges, exclusive)
    assert conflicted == 1
    assert refused_pairs(refused) == [("a", "b")]
    assert as_dict(new_labels) == {"a": "a", "b": "b", "m": "m", "n": "m", "o": "m"}
