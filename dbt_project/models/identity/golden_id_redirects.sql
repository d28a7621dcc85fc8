{#
    Golden IDs retired by a merge, and the ID that took over most of their records. Appended
    by every build that retires IDs, never rebuilt: reverse-ETL replays these as merges in the
    CRM and ESP, and old IDs held elsewhere (exports, BI bookmarks) resolve through it.
#}

{{
    config(
        materialized='incremental',
        unique_key='old_golden_id',
        full_refresh=false,
    )
}}

with

golden_id_map as (

    select * from {{ ref('golden_id_map') }}

),

latest_run as (

    select max(resolved_at) as resolved_at
    from golden_id_map

),

-- Rows whose golden ID changed in the latest build because their old ID lost a merge.
merged_records as (

    select
        golden_id_map.previous_golden_id as old_golden_id,
        golden_id_map.golden_id as new_golden_id,
        golden_id_map.changed_run_id as run_id
    from golden_id_map
    inner join latest_run
        on golden_id_map.resolved_at = latest_run.resolved_at
    where
        golden_id_map.change_reason = 'merged'
        and golden_id_map.changed_run_id = golden_id_map.resolved_run_id

),

moves as (

    select
        old_golden_id,
        new_golden_id,
        run_id,
        count(*) as records_moved
    from merged_records
    group by 1, 2, 3

),

-- Where a retired ID's records went to several clusters, it points at the biggest share.
ranked as (

    select
        old_golden_id,
        new_golden_id,
        run_id,
        records_moved,
        row_number() over (
            partition by old_golden_id
            order by records_moved desc, new_golden_id asc
        ) as move_rank
    from moves

)

select
    old_golden_id,
    new_golden_id,
    'merged' as reason,
    records_moved,
    run_id
from ranked
where move_rank = 1
{% if is_incremental() %}
    and old_golden_id not in (select old_golden_id from {{ this }})
{% endif %}
