{#
    The MQLs sales did not respond to in time (`sla_response_hours`, seed
    lead_score_settings): answered late, or still waiting past the deadline. One row per
    contact, with who owns the follow-up and how long the lead has waited; the sales
    manager's work list. Rules in lead_scores.
#}

with

lead_scores as (

    select * from {{ ref('lead_scores') }}
    where is_sla_breached

),

breaches as (

    select
        *,
        cast(
            extract(epoch from coalesce(first_response_at, as_of_at) - sla_due_at) / 3600.0
            as double precision
        ) as hours_over_sla,
        first_response_at is null as is_awaiting_response
    from lead_scores

),

final as (

    select
        crm_contact_id,
        golden_id,
        email,
        first_name,
        last_name,
        company_name,
        lifecycle_stage,
        lead_grade,
        crm_owner_id,
        owner_name,
        owner_email,
        region_code,
        mql_at,
        mql_source,
        sla_due_at,
        first_response_at,
        is_awaiting_response,
        hours_waited,
        hours_over_sla,
        as_of_at
    from breaches

)

select * from final
