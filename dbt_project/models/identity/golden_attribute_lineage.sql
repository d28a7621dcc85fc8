{#
    Where every value of a golden record comes from: per (golden record, attribute) the record
    that won, under which rule, and which step of the ranking decided it. The rules are the
    `survivorship` var in dbt_project.yml; macros/survivorship.sql renders them.
#}

with

golden_id_map as (

    select * from {{ ref('golden_id_map') }}

),

records as (

    select * from {{ ref('int_identity__records') }}

),

identity_blocked_values as (

    select * from {{ ref('identity_blocked_values') }}

),

-- The map keeps the last assignment of records that are gone; only present ones compete.
candidates as (

    select
        records.*,
        golden_id_map.golden_id
    from golden_id_map
    inner join records on golden_id_map.record_key = records.record_key

),

-- Placeholders (blocklist entries, their patterns and typo'd variants) are no one's value.
-- Values blocked only for being shared (a family mailbox) stay valid: they are still real.
junk_values as (

    select
        identifier_type,
        identifier_value
    from identity_blocked_values
    where block_rule in (
        {%- for rule in var('survivorship')['invalid_block_rules'] -%}
            '{{ rule }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    )

),

scored as (

    {{ survivorship_candidates('candidates', 'junk_values') }}

),

-- How many records of the golden record carry the same value: the tie-break after the rule.
agreement as (

    select
        *,
        count(*) over (
            partition by golden_id, attribute_group, is_valid, value_key
        ) as agreeing_records
    from scored

),

-- The same order twice: over records (the survivor) and within each value (its best record).
ranked as (

    select
        *,
        row_number() over (
            partition by golden_id, attribute_group
            order by
                is_valid desc,
                completeness desc,
                source_rank asc,
                recency_at desc nulls last,
                agreeing_records desc,
                record_key asc
        ) as survivor_rank,
        row_number() over (
            partition by golden_id, attribute_group, is_valid, value_key
            order by
                completeness desc,
                source_rank asc,
                recency_at desc nulls last,
                record_key asc
        ) as value_rank,
        count(*) over (partition by golden_id, attribute_group) as candidates_considered,
        cast(
            sum(is_valid) over (partition by golden_id, attribute_group) as {{ dbt.type_int() }}
        ) as valid_candidates
    from agreement

),

-- Each value's best record next to the best record of the next value: the first sort key
-- on which they differ is what decided the survived value. A record without any value for
-- the attribute contests nothing; a present but invalid value does.
value_contest as (

    select
        *,
        lead(is_valid) over value_order as runner_up_is_valid,
        lead(completeness) over value_order as runner_up_completeness,
        lead(source_rank) over value_order as runner_up_source_rank,
        lead(recency_at) over value_order as runner_up_recency_at,
        lead(agreeing_records) over value_order as runner_up_agreeing_records,
        lead(record_key) over value_order as runner_up_record_key
    from ranked
    where value_rank = 1 and (has_value = 1 or is_valid = 1)
    window value_order as (partition by golden_id, attribute_group order by survivor_rank)

),

-- An invalid value never survives: without a valid candidate the attribute stays empty.
winners as (

    select
        golden_id,
        record_key,
        source_system,
        source_updated_at,
        attribute_group,
        survivorship_rule,
        {% for position in range(1, survivorship_width() + 1) %}
            value_{{ position }},
        {% endfor %}
        candidates_considered,
        valid_candidates,
        agreeing_records,
        case
            when runner_up_record_key is null then 'uncontested'
            when is_valid <> runner_up_is_valid then 'validity'
            when completeness <> runner_up_completeness then 'completeness'
            when source_rank <> runner_up_source_rank then 'source_priority'
            when
                recency_at > runner_up_recency_at
                or (recency_at is not null and runner_up_recency_at is null)
                then 'recency'
            when agreeing_records <> runner_up_agreeing_records then 'frequency'
            else 'record_key'
        end as decided_by
    from value_contest
    where survivor_rank = 1 and is_valid = 1

),

lineage as (

    {{ survivorship_values('winners') }}

)

select * from lineage
