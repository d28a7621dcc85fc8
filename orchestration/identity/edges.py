"""Deterministic identity edges: a shared identifier plus person-level agreement.

A shared value is person evidence only when the records also agree on *who*: their first
names are compatible (:func:`frames.define_macros`) and their birth dates do not differ.
Where one side has no first name, the value still links it — unless the value is already
seen with two incompatible names (a household mailbox, a family phone): then nobody can tell
whose record it is, and it stays apart (Splink may still propose it for review).
"""

from __future__ import annotations

import duckdb

from orchestration.identity.frames import checked_name, define_macros

EDGE_COLUMNS: tuple[str, ...] = (
    "record_key_left",
    "record_key_right",
    "edge_kind",
    "rule",
    "identifier_type",
    "evidence_sha256",
    "match_weight",
    "match_probability",
    "strength",
)


def deterministic_edges(
    con: duckdb.DuckDBPyConnection, identifiers: str, records: str, blocked: str
) -> duckdb.DuckDBPyRelation:
    """Record pairs linked by an unblocked shared identifier with person-level agreement.

    One row per (pair, identifier type), ``record_key_left < record_key_right``; the shared
    value itself is not stored, only its SHA-256 (the audit table must not become a second
    copy of the PII).

    Args:
        con: Connection on which the relations are visible.
        identifiers: Relation in the identifiers shape.
        records: Relation in the records shape.
        blocked: Output of :func:`blocklist.blocked_values` (or any relation with
            ``identifier_type, identifier_value``).

    Returns:
        Relation with :data:`EDGE_COLUMNS` (``edge_kind = 'deterministic'``, probability 1).
    """
    define_macros(con)
    ids, recs, blk = checked_name(identifiers), checked_name(records), checked_name(blocked)
    return con.sql(
        f"""
        with
        usable as (
            select
                ids.record_key,
                ids.identifier_type,
                ids.identifier_value,
                ids.identifier_priority,
                recs.first_name_key,
                recs.birth_date
            from {ids} as ids
            inner join {recs} as recs on ids.record_key = recs.record_key
            anti join {blk} as blk
                on ids.identifier_type = blk.identifier_type
                and ids.identifier_value = blk.identifier_value
        ),
        value_names as (
            select distinct identifier_type, identifier_value, first_name_key
            from usable
            where first_name_key is not null
        ),
        contested as (
            select distinct a.identifier_type, a.identifier_value
            from value_names as a
            inner join value_names as b
                on a.identifier_type = b.identifier_type
                and a.identifier_value = b.identifier_value
                and a.first_name_key < b.first_name_key
            where not names_compatible(a.first_name_key, b.first_name_key)
        ),
        pairs as (
            select
                a.record_key as record_key_left,
                b.record_key as record_key_right,
                a.identifier_type,
                a.identifier_value,
                a.identifier_priority,
                a.first_name_key is null or b.first_name_key is null as has_unnamed_side
            from usable as a
            inner join usable as b
                on a.identifier_type = b.identifier_type
                and a.identifier_value = b.identifier_value
                and a.record_key < b.record_key
            where
                (a.birth_date is null or b.birth_date is null or a.birth_date = b.birth_date)
                and (
                    a.first_name_key is null
                    or b.first_name_key is null
                    or names_compatible(a.first_name_key, b.first_name_key)
                )
        )
        select
            pairs.record_key_left,
            pairs.record_key_right,
            'deterministic' as edge_kind,
            'shared_' || pairs.identifier_type as rule,
            pairs.identifier_type,
            sha256(pairs.identifier_type || ':' || pairs.identifier_value) as evidence_sha256,
            cast(null as double) as match_weight,
            1.0 as match_probability,
            pairs.identifier_priority as strength
        from pairs
        anti join contested
            on pairs.has_unnamed_side
            and pairs.identifier_type = contested.identifier_type
            and pairs.identifier_value = contested.identifier_value
        """
    )
