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
from orchestration.identity.components import (
    ComponentsResult,
    connected_components,
    split_conflicts,
)
from orchestration.identity.edges import deterministic_edges
from orchestration.identity.frames import (
    IDENTIFIER_COLUMNS,
    RECORD_COLUMNS,
    checked_name,
    define_macros,
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
    possible_matches: pa.Table
    components: ComponentsResult
    assignment: Assignment
    guarded_clusters: int
    conflicted_clusters: int
    refused_edges: pa.Table
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[step] = round(time.perf_counter() - start, 3)


def accepted_probabilistic_edges(
    con: duckdb.DuckDBPyConnection, scored: str, records: str, settings: Settings
) -> duckdb.DuckDBPyRelation:
    """Scored pairs that become edges: strict probability *and* person-level agreement.

    Agreement: compatible first names, the same family name (or one typo of it), no
    conflicting birth dates, and one corroborating fact beyond the name — the same birth date,
    mailbox, phone or address. A name, however rare it looks to the model, is shared by
    namesakes; the same name at another mail domain most often is a namesake too (measured
    on generated worlds: 9 in 10 such pairs were two people). A household's shared phone and
    address corroborate only together with a compatible first name, which siblings and
    partners lack.
    """
    define_macros(con)
    sc, recs = checked_name(scored), checked_name(records)
    return con.sql(
        f"""
        select
            s.record_key_left,
            s.record_key_right,
            'probabilistic' as edge_kind,
            'splink_person_v{settings.version}' as rule,
            cast(null as varchar) as identifier_type,
            cast(null as varchar) as evidence_sha256,
            s.match_weight,
            s.match_probability,
            100 as strength
        from {sc} as s
        inner join {recs} as l on s.record_key_left = l.record_key
        inner join {recs} as r on s.record_key_right = r.record_key
        where s.match_probability >= {float(settings.match_probability)}
            and names_compatible(l.first_name_key, r.first_name_key)
            and damerau_levenshtein(l.last_name_key, r.last_name_key) <= 1
            and (l.birth_date is null or r.birth_date is null or l.birth_date = r.birth_date)
            and (
                l.birth_date = r.birth_date
                or l.email_canonical = r.email_canonical
                or l.phone_e164 = r.phone_e164
                or (l.postal_code_key = r.postal_code_key and l.street_key = r.street_key)
            )
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
    """
    require_columns(con, records, RECORD_COLUMNS)
    require_columns(con, identifiers, IDENTIFIER_COLUMNS)
    timings: dict[str, float] = {}
    tag = uuid.uuid4().hex[:8]
    t_blocked, t_det, t_scored, t_edges = (f"{n}_{tag}" for n in ("blk", "det", "scr", "edg"))
    try:
        with _timed(timings, "blocklist"):
            con.execute(
                f"create temp table {t_blocked} as "
                + blocked_values(con, identifiers, records, blocklist, settings).sql_query()
            )
        with _timed(timings, "deterministic_edges"):
            con.execute(
                f"create temp table {t_det} as "
                + deterministic_edges(con, identifiers, records, t_blocked).sql_query()
            )
        with _timed(timings, "splink_scoring"):
            if probabilistic:
                scored = score_pairs(
                    splink_input(con, records),
                    settings.splink_model,
                    min_probability=settings.review_probability,
                    threads=threads,
                )
            else:
                scored = pa.table(
                    {
                        "record_key_left": pa.array([], pa.string()),
                        "record_key_right": pa.array([], pa.string()),
                        "match_weight": pa.array([], pa.float64()),
                        "match_probability": pa.array([], pa.float64()),
                    }
                )
            con.register(f"{t_scored}_arrow", scored)
            con.execute(f"create temp table {t_scored} as select * from {t_scored}_arrow")
            con.unregister(f"{t_scored}_arrow")
        with _timed(timings, "accept_edges"):
            con.execute(
                f"create temp table {t_edges} as select * from {t_det} union all "
                + accepted_probabilistic_edges(con, t_scored, records, settings).sql_query()
            )
        with _timed(timings, "components"):
            comps = connected_components(con, records, t_edges, method=components_method)
        with _timed(timings, "conflict_split"):
            comps, conflicted, refused = _split_conflicts(
                con, records, identifiers, t_blocked, t_edges, comps, settings
            )
        with _timed(timings, "cluster_guard"):
            comps, guarded = _guard_cluster_size(
                con, records, t_edges, comps, settings, components_method
            )
        with _timed(timings, "golden_ids"):
            labels = comps.labels.to_pandas()
            first_seen = con.sql(
                f"select record_key, coalesce(created_at, updated_at) as first_seen from {records}"
            ).df()
            current = labels.merge(first_seen, on="record_key", how="left")
            current["first_seen"] = current["first_seen"].fillna(pd.Timestamp.max)
            assignment = assign_golden_ids(current, prior)
        with _timed(timings, "possible_matches"):
            con.register(f"lab_{tag}", comps.labels)
            possible = con.sql(
                f"""
                select s.*
                from {t_scored} as s
                inner join lab_{tag} as l on s.record_key_left = l.record_key
                inner join lab_{tag} as r on s.record_key_right = r.record_key
                where l.component <> r.component
                order by s.match_probability desc, s.record_key_left, s.record_key_right
                """
            ).to_arrow_table()
            con.unregister(f"lab_{tag}")
        return Resolution(
            blocked=con.sql(f"select * from {t_blocked}").to_arrow_table(),
            edges=con.sql(f"select * from {t_edges} order by all").to_arrow_table(),
            possible_matches=possible,
            components=comps,
            assignment=assignment,
            guarded_clusters=guarded,
            conflicted_clusters=conflicted,
            refused_edges=refused,
            timings=timings,
        )
    finally:
        for t in (t_blocked, t_det, t_scored, t_edges):
            con.execute(f"drop table if exists {t}")


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
    types = ", ".join(f"'{t}'" for t in settings.exclusive_identifiers if t != "birth_date")
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
    if "birth_date" in settings.exclusive_identifiers:
        parts.append(
            f"""
            select record_key, 'birth_date', cast(birth_date as varchar)
            from {records} where birth_date is not null
            """
        )
    if not parts:
        return comps, 0, pa.table({"record_key_left": [], "record_key_right": []})
    exclusive = con.sql(" union all ".join(parts)).to_arrow_table()
    edge_table = con.sql(
        f"select record_key_left, record_key_right, strength, match_probability from {edges}"
    ).to_arrow_table()
    labels, conflicted, refused = split_conflicts(comps.labels, edge_table, exclusive)
    if not conflicted:
        return comps, 0, refused
    result = ComponentsResult(labels, comps.method + "+cannot_link", comps.iterations, True)
    # The guard below recomputes components from the edge table: drop the refused edges there.
    con.register("refused_edges", refused)
    con.execute(
        f"""
        delete from {edges} as e
        where exists (
            select 1 from refused_edges as r
            where r.record_key_left = e.record_key_left
                and r.record_key_right = e.record_key_right
        )
        """
    )
    con.unregister("refused_edges")
    return result, conflicted, refused


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
    con.register("guard_labels", comps.labels)
    try:
        big = con.sql(
            f"""
            select component from guard_labels group by component
            having count(*) > {int(settings.max_cluster_size)}
            """
        ).fetchall()
        if not big:
            return comps, 0
        con.execute(
            f"""
            delete from {edges}
            where edge_kind = 'probabilistic'
                and record_key_left in (
                    select record_key from guard_labels
                    where component in (
                        select component from guard_labels group by component
                        having count(*) > {int(settings.max_cluster_size)}
                    )
                )
            """
        )
    finally:
        con.unregister("guard_labels")
    return connected_components(con, records, edges, method=method), len(big)
