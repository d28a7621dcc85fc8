{#
    How sure we are that the records of a golden record are one person: the evidence that
    links them (identifier types, deterministic or probabilistic, the weakest pair) and a
    0–1 score. Weights and the size penalty are the `golden_confidence` var; the formula is in
    _identity__models.yml.
#}

{%- set confidence = var('golden_confidence') -%}
{%- set weights = confidence['weights'] -%}
{%- set full_types = confidence['full_diversity_types'] -%}
{%- set size_from = confidence['size_penalty_from'] -%}

with

golden_id_map as (

    select * from {{ ref('golden_id_map') }}

),

records as (

    select * from {{ ref('int_identity__records') }}

),

identity_edges as (

    select * from {{ ref('identity_edges') }}

),

-- The map keeps the last assignment of records that are gone; only present ones count.
members as (

    select
        golden_id_map.golden_id,
        records.record_key,
        records.source_system
    from golden_id_map
    inner join records on golden_id_map.record_key = records.record_key

),

golden_records as (

    select
        golden_id,
        count(*) as record_count,
        count(distinct source_system) as source_system_count
    from members
    group by 1

),

-- Only edges inside one golden record are evidence for it; an edge the cluster-size guard
-- cut runs between two golden records and vouches for neither.
cluster_edges as (

    select
        left_members.golden_id,
        identity_edges.record_key_left,
        identity_edges.record_key_right,
        identity_edges.edge_kind,
        identity_edges.identifier_type,
        identity_edges.match_probability
    from identity_edges
    inner join members as left_members
        on identity_edges.record_key_left = left_members.record_key
    inner join members as right_members
        on identity_edges.record_key_right = right_members.record_key
    where left_members.golden_id = right_members.golden_id

),

-- A pair linked by several edges (one per shared identifier, maybe a probabilistic one too)
-- is as strong as its strongest evidence.
linked_pairs as (

    select
        golden_id,
        record_key_left,
        record_key_right,
        max(match_probability) as pair_probability,
        max(case when edge_kind = 'deterministic' then 1 else 0 end) as is_deterministic
    from cluster_edges
    group by 1, 2, 3

),

pair_evidence as (

    select
        golden_id,
        count(*) as linked_pairs,
        sum(is_deterministic) as deterministic_pairs,
        min(pair_probability) as weakest_link_probability
    from linked_pairs
    group by 1

),

edge_evidence as (

    select
        golden_id,
        count(case when edge_kind = 'deterministic' then 1 end) as deterministic_edges,
        count(case when edge_kind = 'probabilistic' then 1 end) as probabilistic_edges,
        count(distinct identifier_type) as identifier_type_count
    from cluster_edges
    group by 1

),

identifier_types as (

    select distinct
        golden_id,
        identifier_type
    from cluster_edges
    where identifier_type is not null

),

identifier_type_lists as (

    select
        golden_id,
        {{ dbt.listagg('identifier_type', "','", 'order by identifier_type') }} as identifier_types
    from identifier_types
    group by 1

),

evidence as (

    select
        golden_records.golden_id,
        golden_records.record_count,
        golden_records.source_system_count,
        identifier_type_lists.identifier_types,
        coalesce(edge_evidence.identifier_type_count, 0) as identifier_type_count,
        coalesce(edge_evidence.deterministic_edges, 0) as deterministic_edges,
        coalesce(edge_evidence.probabilistic_edges, 0) as probabilistic_edges,
        coalesce(pair_evidence.linked_pairs, 0) as linked_pairs,
        case
            when pair_evidence.linked_pairs > 0
                then 1.0 * pair_evidence.deterministic_pairs / pair_evidence.linked_pairs
        end as deterministic_share,
        case
            when golden_records.record_count > 1
                then coalesce(pair_evidence.weakest_link_probability, 0)
        end as weakest_link_probability
    from golden_records
    left join edge_evidence on golden_records.golden_id = edge_evidence.golden_id
    left join pair_evidence on golden_records.golden_id = pair_evidence.golden_id
    left join identifier_type_lists
        on golden_records.golden_id = identifier_type_lists.golden_id

),

-- A single record cannot be a wrong merge: full confidence. Several records without an edge
-- between them (not expected) score 0, so they surface rather than pass.
scored as (

    select
        *,
        case
            when record_count = 1 then 1.0
            else
                (
                    {{ weights['weakest_link'] }} * weakest_link_probability
                    + {{ weights['deterministic_share'] }} * coalesce(deterministic_share, 0)
                    + {{ weights['identifier_diversity'] }}
                    * least(identifier_type_count, {{ full_types }}) / (1.0 * {{ full_types }})
                )
                * case
                    when record_count <= {{ size_from }} then 1.0
                    else 1.0 * {{ size_from }} / record_count
                end
        end as raw_confidence_score
    from evidence

),

final as (

    select
        golden_id,
        record_count,
        source_system_count,
        identifier_type_count,
        identifier_types,
        deterministic_edges,
        probabilistic_edges,
        linked_pairs,
        cast(deterministic_share as {{ dbt.type_numeric() }}) as deterministic_share,
        cast(weakest_link_probability as {{ dbt.type_numeric() }}) as weakest_link_probability,
        -- One fixed scale on every engine: Postgres' round() keeps the scale it rounded to.
        cast(
            round(cast(raw_confidence_score as {{ dbt.type_numeric() }}), 4)
            as {{ dbt.type_numeric() }}
        ) as confidence_score
    from scored

)

select * from final
