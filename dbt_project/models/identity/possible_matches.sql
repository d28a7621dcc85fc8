{#
    The stewards' review queue: record pairs that might be one person but were not linked.
    Either the model scored them in the middle band, or above the threshold without
    person-level agreement, or they were linked but the link was refused because it joined
    two shop accounts, loyalty ids or birth dates (cannot-link), or split off an oversized
    cluster. Pairs whose records ended up in one cluster anyway are not listed.
#}

with

scored_pairs as (

    select * from {{ ref('int_identity__scored_pairs') }}

),

identity_edges as (

    select * from {{ ref('identity_edges') }}

),

clusters as (

    select * from {{ ref('int_identity__clusters') }}

),

records as (

    select * from {{ ref('int_identity__records') }}

),

edge_pairs as (

    select
        record_key_left,
        record_key_right,
        max(edge_kind) as edge_kind,
        max(match_probability) as match_probability
    from identity_edges
    group by 1, 2

),

candidates as (

    select
        scored_pairs.match_weight,
        coalesce(scored_pairs.record_key_left, edge_pairs.record_key_left) as record_key_left,
        coalesce(scored_pairs.record_key_right, edge_pairs.record_key_right) as record_key_right,
        coalesce(scored_pairs.match_probability, edge_pairs.match_probability)
            as match_probability,
        case
            when edge_pairs.record_key_left is not null
                then
                    'linked, but the link would join two shop accounts, loyalty ids, '
                    || 'birth dates or incompatible first names, or an oversized cluster'
            when scored_pairs.meets_threshold
                then 'scored above the threshold without person-level agreement'
            else 'scored in the review band'
        end as review_reason
    from scored_pairs
    full outer join edge_pairs
        on
            scored_pairs.record_key_left = edge_pairs.record_key_left
            and scored_pairs.record_key_right = edge_pairs.record_key_right

),

unresolved as (

    select candidates.*
    from candidates
    inner join clusters as left_cluster
        on candidates.record_key_left = left_cluster.record_key
    inner join clusters as right_cluster
        on candidates.record_key_right = right_cluster.record_key
    where left_cluster.component <> right_cluster.component

)

select
    unresolved.record_key_left,
    unresolved.record_key_right,
    unresolved.match_probability,
    unresolved.match_weight,
    unresolved.review_reason,
    left_record.source_system as source_system_left,
    right_record.source_system as source_system_right,
    left_record.first_name as first_name_left,
    right_record.first_name as first_name_right,
    left_record.last_name as last_name_left,
    right_record.last_name as last_name_right,
    left_record.email as email_left,
    right_record.email as email_right,
    left_record.phone_e164 as phone_e164_left,
    right_record.phone_e164 as phone_e164_right,
    left_record.birth_date as birth_date_left,
    right_record.birth_date as birth_date_right
from unresolved
inner join records as left_record on unresolved.record_key_left = left_record.record_key
inner join records as right_record on unresolved.record_key_right = right_record.record_key
