"""Identity benchmark tasks, each run in its own child process by :mod:`benchmarks.identity`.

Every task reads the identity inputs (``intermediate.int_identity__records`` and
``int_identity__identifiers``, the blocklist seed) from a warehouse built by
:mod:`benchmarks.identity_input` into an in-memory DuckDB first, so that the timed steps
measure resolution, not file I/O, and the warehouse file is never written.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from orchestration.identity.evaluation import id_churn, pairwise_metrics
from orchestration.identity.golden_ids import assign_golden_ids
from orchestration.identity.resolve import first_seen, resolve
from orchestration.identity.settings import load_settings


def _load(
    warehouse: str, threads: int | None, where: str = "true", memory_limit: str | None = None
) -> tuple[duckdb.DuckDBPyConnection, float]:
    started = time.perf_counter()
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"set threads = {int(threads)}")
    if memory_limit:
        con.execute("set memory_limit = ?", [memory_limit])
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    con.execute(
        f"create table recs as select * from wh.intermediate.int_identity__records where {where}"
    )
    con.execute(
        """
        create table ids as select i.* from wh.intermediate.int_identity__identifiers as i
        semi join recs on i.record_key = recs.record_key
        """
    )
    con.execute("create table bl as select * from wh.seeds.identity_blocklist")
    con.execute("detach wh")
    return con, time.perf_counter() - started


def _truth(world: str) -> pd.DataFrame:
    truth = pd.read_parquet(Path(world) / "truth" / "records.parquet")
    truth["record_key"] = truth["system"] + ":" + truth["table"] + ":" + truth["record_id"]
    return truth[["record_key", "person_id"]]


def _metrics(
    con: duckdb.DuckDBPyConnection, labels: pd.DataFrame, label_col: str, world: str
) -> dict[str, Any]:
    """Metrics over all records, and over records carrying any evidence at all."""
    scored = labels.merge(_truth(world), on="record_key", how="left")
    evidence = set(
        con.sql(
            """
            select record_key from recs
            where first_name_key is not null or last_name_key is not null
            union select record_key from ids
            where identifier_type not in ('device')
            """
        ).df()["record_key"]
    )
    # Devices carry their own id as a 'device' identifier: that alone is no evidence.
    linked = scored[scored["record_key"].isin(evidence)]
    return {
        "all_records": pairwise_metrics(scored[label_col], scored["person_id"]).as_dict(),
        "records_with_evidence": pairwise_metrics(linked[label_col], linked["person_id"]).as_dict(),
    }


def task_identity_resolve(params: dict[str, Any]) -> dict[str, Any]:
    """The whole identity step (blocklist → edges → Splink → clusters → golden IDs)."""
    memory_limit = params.get("memory_limit")
    con, load_seconds = _load(params["warehouse"], params.get("threads"), memory_limit=memory_limit)
    records = con.sql("select count(*) from recs").fetchall()[0][0]
    started = time.perf_counter()
    result = resolve(
        con,
        "recs",
        "ids",
        "bl",
        load_settings(),
        probabilistic=bool(params.get("probabilistic", True)),
        components_method=params.get("components_method", "auto"),
        threads=params.get("threads"),
        memory_limit=memory_limit,
    )
    seconds = time.perf_counter() - started
    # Peak memory of the resolution itself, before the evaluation loads the truth.
    resolve_peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    labels = result.assignment.records[["record_key", "golden_id"]]
    edges = result.edges.to_pandas()
    return {
        "records": int(records),
        "load_seconds": load_seconds,
        "seconds": seconds,
        "resolve_peak_rss_mb": resolve_peak_rss_mb,
        "memory_limit": memory_limit,
        "timings": result.timings,
        "edges_by_rule": edges.groupby("rule").size().to_dict(),
        "blocked_values": result.blocked.num_rows,
        "possible_matches": result.possible_matches.num_rows,
        "clustering": {
            "method": result.clustering.method,
            "iterations": result.clustering.iterations,
            "conflicted_clusters": result.clustering.conflicted_clusters,
            "refused_edges": result.clustering.refused_edges.num_rows,
            "oversized_clusters": result.clustering.oversized_clusters,
        },
        "metrics": _metrics(con, labels, "golden_id", params["world"]),
    }


def _plain_splink_settings() -> dict[str, Any]:
    """Splink as its documentation sets it up: independent comparisons, no household logic.

    Blocking as in the published baseline of this population (email, phone, loyalty, login,
    last name + postcode, first + last name + city); blocking on first + last name alone
    needed more than 21 GB at 2.75M records.
    """
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return (
        SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=[
                cl.NameComparison("first_name_key"),
                cl.NameComparison("last_name_key"),
                cl.ExactMatch("birth_date"),
                cl.EmailComparison("email_canonical"),
                cl.ExactMatch("phone_e164"),
                cl.ExactMatch("postal_code_key"),
                cl.JaroWinklerAtThresholds("street_key", [0.9]),
                cl.ExactMatch("login_id"),
                cl.ExactMatch("loyalty_id"),
            ],
            blocking_rules_to_generate_predictions=[
                block_on("email_canonical"),
                block_on("phone_e164"),
                block_on("login_id"),
                block_on("loyalty_id"),
                block_on("last_name_key", "postal_code_key"),
                block_on("first_name_key", "last_name_key", "city_key"),
            ],
            retain_intermediate_calculation_columns=False,
        )
        .get_settings("duckdb")
        .as_dict()
    )


def task_identity_splink_baseline(params: dict[str, Any]) -> dict[str, Any]:
    """Splink's plain pipeline on the same records: train, predict, cluster at thresholds."""
    from splink import DuckDBAPI, Linker, block_on

    con, load_seconds = _load(params["warehouse"], params.get("threads"))
    data = con.sql(
        """
        select record_key as unique_id, first_name_key, last_name_key,
            cast(birth_date as varchar) as birth_date, email_canonical, phone_e164,
            postal_code_key, street_key, city_key, login_id, loyalty_id
        from recs
        """
    ).to_arrow_table()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    splink_con = duckdb.connect(":memory:")
    if params.get("threads"):
        splink_con.execute(f"set threads = {int(params['threads'])}")
    db_api = DuckDBAPI(connection=splink_con)
    linker = Linker(db_api.register(data, dataset_display_name="records"), _plain_splink_settings())
    t = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email_canonical"), block_on("first_name_key", "last_name_key", "birth_date")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in (
        block_on("email_canonical"),
        block_on("first_name_key", "last_name_key", "city_key"),
    ):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    timings["train"] = time.perf_counter() - t
    t = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    timings["predict"] = time.perf_counter() - t
    results: dict[str, Any] = {}
    for threshold in params.get("thresholds", [0.9, 0.999]):
        t = time.perf_counter()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        frame = splink_con.sql(
            f"select unique_id as record_key, cluster_id from {clusters.physical_name}"
        ).df()
        timings[f"cluster_{threshold}"] = time.perf_counter() - t
        results[str(threshold)] = _metrics(con, frame, "cluster_id", params["world"])
    seconds = time.perf_counter() - started
    return {
        "records": data.num_rows,
        "load_seconds": load_seconds,
        "seconds": seconds,
        "timings": timings,
        "metrics_by_threshold": results,
    }


def task_identity_components(params: dict[str, Any]) -> dict[str, Any]:
    """Connected components: SQL vs union-find on the identity graph, and on long chains."""
    from orchestration.identity.blocklist import blocked_values
    from orchestration.identity.components import (
        components_sql,
        components_union_find,
        connected_components,
    )
    from orchestration.identity.edges import deterministic_edges

    con, _ = _load(params["warehouse"], params.get("threads"))
    settings = load_settings()
    con.execute(
        "create table blk as " + blocked_values(con, "ids", "recs", "bl", settings).sql_query()
    )
    con.execute("create table edg as " + deterministic_edges(con, "ids", "recs", "blk").sql_query())
    out: dict[str, Any] = {
        "graph": {
            "nodes": con.sql("select count(*) from recs").fetchall()[0][0],
            "edges": con.sql("select count(*) from edg").fetchall()[0][0],
        }
    }
    t = time.perf_counter()
    sql = components_sql(con, "recs", "edg")
    out["graph"]["sql_seconds"] = time.perf_counter() - t
    out["graph"]["sql_iterations"] = sql.iterations
    t = time.perf_counter()
    components_union_find(con, "recs", "edg")
    out["graph"]["union_find_seconds"] = time.perf_counter() - t

    # Adversarial: chains of `length` nodes with shuffled ids, the O(diameter) worst case.
    chains, length = int(params.get("chains", 1000)), int(params.get("chain_length", 1000))
    n = chains * length
    rng = np.random.default_rng(7)
    ids = rng.permutation(n)
    keys = np.array([f"n{i:08d}" for i in ids], dtype=object).reshape(chains, length)
    left, right = keys[:, :-1].ravel(), keys[:, 1:].ravel()
    chain_nodes = pd.DataFrame({"record_key": keys.ravel()})
    chain_edges = pd.DataFrame(
        {
            "record_key_left": np.where(left < right, left, right),
            "record_key_right": np.where(left < right, right, left),
        }
    )
    con.register("chain_nodes_frame", chain_nodes)
    con.register("chain_edges_frame", chain_edges)
    con.execute("create table chain_nodes as select * from chain_nodes_frame")
    con.execute("create table chain_edges as select * from chain_edges_frame")
    t = time.perf_counter()
    auto = connected_components(con, "chain_nodes", "chain_edges", max_iterations=40)
    auto_seconds = time.perf_counter() - t
    t = time.perf_counter()
    components_union_find(con, "chain_nodes", "chain_edges")
    uf_seconds = time.perf_counter() - t
    components = len(set(auto.labels.column("component").to_pylist()))
    out["chains"] = {
        "chains": chains,
        "length": length,
        "auto_seconds": auto_seconds,
        "auto_method": auto.method,
        "sql_rounds_before_fallback": auto.iterations,
        "union_find_seconds": uf_seconds,
        "components_found": components,
    }
    return out


def task_identity_churn(params: dict[str, Any]) -> dict[str, Any]:
    """Golden-ID churn on an increment: records created before a cut-off, then all of them.

    The same method as measured for the anchors: run 1 sees the records created before the
    cut-off (the ``quantile`` of creation times), run 2 all records with run 1's map as prior.
    Also reports what a min(record_key)-per-cluster ID would have done on the same clusters.
    """
    settings = load_settings()
    con_all, _ = _load(params["warehouse"], params.get("threads"))
    cutoff = con_all.sql(
        f"select quantile_disc(created_at, {float(params.get('quantile', 0.87))}) from recs"
    ).fetchall()[0][0]
    con_all.close()
    con1, _ = _load(params["warehouse"], params.get("threads"), f"created_at < '{cutoff}'")
    run1 = resolve(con1, "recs", "ids", "bl", settings, threads=params.get("threads"))
    map1 = run1.assignment.records
    con2, _ = _load(params["warehouse"], params.get("threads"))
    prior = map1[["record_key", "golden_id", "assignments"]]
    t = time.perf_counter()
    run2 = resolve(con2, "recs", "ids", "bl", settings, prior=prior, threads=params.get("threads"))
    seconds = time.perf_counter() - t
    map2 = run2.assignment.records
    ours = id_churn(map1, map2)

    def min_key_ids(labels: pd.DataFrame) -> pd.DataFrame:
        # The representative-record scheme of Splink/dbt_idr: the cluster's smallest key.
        frame = labels.rename(columns={"component": "golden_id"})
        return frame[["record_key", "golden_id"]]

    l1 = run1.clustering.labels.to_pandas()
    l2 = run2.clustering.labels.to_pandas()
    baseline = id_churn(min_key_ids(l1), min_key_ids(l2))
    # Determinism: the same inputs again give the same golden IDs.
    again = assign_golden_ids(l2.merge(first_seen(con2, "recs"), on="record_key"), prior).records
    identical = bool((again["golden_id"].to_numpy() == map2["golden_id"].to_numpy()).all())
    return {
        "cutoff": str(cutoff),
        "records_run1": int(map1.shape[0]),
        "records_run2": int(map2.shape[0]),
        "run2_seconds": seconds,
        "ours": ours.as_dict(),
        "min_record_key": baseline.as_dict(),
        "redirects": int(run2.assignment.redirects.shape[0]),
        "identical_on_rerun": identical,
    }


TASKS = {
    "identity_resolve": task_identity_resolve,
    "identity_splink_baseline": task_identity_splink_baseline,
    "identity_components": task_identity_components,
    "identity_churn": task_identity_churn,
}
