"""Identifier values that must never link records, each with the reason it was blocked.

Three sources, as in every identity tool that survived production (Segment's blocked values
and limits, dbt_idr's exclusion list and ``max_group_size``):

- the blocklist seed: exact values and regex patterns of placeholders (``test@test.com``,
  ``000000000``), plus every value within a small edit distance of an exact entry, because
  junk gets typo'd too (``test@tset.com``);
- values naming more distinct people than the per-type cap (shared family or office values);
- values on more records than the per-type record cap.
"""

from __future__ import annotations

import duckdb

from orchestration.identity.frames import checked_name, define_macros, sql_literal
from orchestration.identity.settings import Settings


def _cap_values(caps: dict[str, int]) -> str:
    rows = ", ".join(f"({sql_literal(t)}, {int(n)})" for t, n in sorted(caps.items()))
    return f"(values {rows}) as caps(identifier_type, cap)"


def _pattern_case(patterns: list[tuple[str, str, str]]) -> str:
    """One CASE over literal regexes: DuckDB compiles a literal pattern once, whereas a
    pattern joined in from a table is compiled per row (measured 10× slower)."""
    if not patterns:
        return "cast(null as varchar)"
    arms = [
        f"when v.identifier_type = {sql_literal(kind)} "
        f"and regexp_matches(v.identifier_value, {sql_literal(pattern)}) "
        f"then {sql_literal(f'{reason} ({pattern})')}"
        for kind, pattern, reason in patterns
    ]
    return "case " + " ".join(arms) + " end"


def blocked_values(
    con: duckdb.DuckDBPyConnection,
    identifiers: str,
    records: str,
    blocklist: str,
    settings: Settings,
) -> duckdb.DuckDBPyRelation:
    """Every blocked (identifier type, value), one row each, with the first reason found.

    Args:
        con: Connection on which the relations are visible.
        identifiers: Relation in the identifiers shape.
        records: Relation in the records shape (for the people a value names).
        blocklist: Relation with ``identifier_type``, ``match_kind`` (``exact`` or
            ``pattern``), ``blocked_value``, ``reason``.
        settings: Caps and the fuzzy distance.

    Returns:
        Relation ``identifier_type, identifier_value, block_rule, block_reason,
        records_affected, distinct_names``, sorted.
    """
    define_macros(con)
    ids, recs, bl = checked_name(identifiers), checked_name(records), checked_name(blocklist)
    distance = int(settings.fuzzy_block_distance)
    patterns = con.sql(
        f"""
        select identifier_type, blocked_value, reason from {bl}
        where match_kind = 'pattern' order by identifier_type, blocked_value
        """
    ).fetchall()
    pattern_reason = _pattern_case(patterns)
    return con.sql(
        f"""
        with
        named as (
            select ids.identifier_type, ids.identifier_value, ids.record_key, recs.first_name_key
            from {ids} as ids
            inner join {recs} as recs on ids.record_key = recs.record_key
        ),
        value_names as (
            select
                identifier_type,
                identifier_value,
                first_name_key,
                count(*) over (partition by identifier_type, identifier_value) as names_seen
            from (
                select distinct identifier_type, identifier_value, first_name_key
                from named
                where first_name_key is not null
            )
        ),
        -- People a value names, told apart by first name: a name counts unless a smaller
        -- compatible one (its typo, its diacritics-free spelling) is already counted. Only
        -- values seen with several names need the pairwise check (a small share of them).
        several_names as (
            select * from value_names where names_seen > 1
        ),
        name_classes as (
            select identifier_type, identifier_value, 1 as distinct_names
            from value_names
            where names_seen = 1
            union all
            select identifier_type, identifier_value, count(*) as distinct_names
            from several_names as a
            where not exists (
                select 1 from several_names as b
                where b.identifier_type = a.identifier_type
                    and b.identifier_value = a.identifier_value
                    and b.first_name_key < a.first_name_key
                    and names_compatible(a.first_name_key, b.first_name_key)
            )
            group by identifier_type, identifier_value
        ),
        value_stats as (
            select
                named.identifier_type,
                named.identifier_value,
                count(distinct named.record_key) as records_affected,
                coalesce(max(name_classes.distinct_names), 0) as distinct_names
            from named
            left join name_classes
                on named.identifier_type = name_classes.identifier_type
                and named.identifier_value = name_classes.identifier_value
            group by named.identifier_type, named.identifier_value
        ),
        entries as (
            select
                identifier_type,
                match_kind,
                case when match_kind = 'exact' then lower(trim(blocked_value))
                    else blocked_value end as blocked_value,
                reason
            from {bl}
        ),
        exact_hits as (
            select v.*, 1 as rule_order, 'blocklist' as block_rule, e.reason as block_reason
            from value_stats as v
            inner join entries as e
                on v.identifier_type = e.identifier_type
                and e.match_kind = 'exact'
                and lower(v.identifier_value) = e.blocked_value
        ),
        pattern_hits as (
            select * from (
                select v.*, 2, 'blocklist_pattern', {pattern_reason} as block_reason
                from value_stats as v
            )
            where block_reason is not null
        ),
        fuzzy_hits as (
            select v.*, 3, 'blocklist_variant', 'variant of blocked value ' || e.blocked_value
            from value_stats as v
            inner join entries as e
                on v.identifier_type = e.identifier_type
                and e.match_kind = 'exact'
                and abs(length(v.identifier_value) - length(e.blocked_value)) <= {distance}
                and damerau_levenshtein(lower(v.identifier_value), e.blocked_value)
                    between 1 and {distance}
        ),
        shared_hits as (
            select v.*, 4, 'shared_value',
                'names ' || v.distinct_names || ' different people (cap '
                || caps.cap || ')'
            from value_stats as v
            inner join {_cap_values(settings.max_names_per_value)}
                on v.identifier_type = caps.identifier_type
            where v.distinct_names > caps.cap
        ),
        crowded_hits as (
            select v.*, 5, 'too_many_records',
                'on ' || v.records_affected || ' records (cap ' || caps.cap || ')'
            from value_stats as v
            inner join {_cap_values(settings.max_records_per_value)}
                on v.identifier_type = caps.identifier_type
            where v.records_affected > caps.cap
        ),
        hits as (
            select * from exact_hits
            union all select * from pattern_hits
            union all select * from fuzzy_hits
            union all select * from shared_hits
            union all select * from crowded_hits
        ),
        first_hit as (
            select
                *,
                row_number() over (
                    partition by identifier_type, identifier_value
                    order by rule_order, block_reason
                ) as hit_rank
            from hits
        )
        select
            identifier_type,
            identifier_value,
            block_rule,
            block_reason,
            records_affected,
            distinct_names
        from first_hit
        where hit_rank = 1
        order by identifier_type, identifier_value
        """
    )
