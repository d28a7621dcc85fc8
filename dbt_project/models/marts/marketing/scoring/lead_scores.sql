{#
    One row per live HubSpot contact: fit (who they are: seeded rules on title, company,
    country and email domain) and engagement (what they did: event points halving every
    `half_life_days`, nothing older than `window_days`, each event type capped per day,
    negative events subtracting), the A1–C3 grade, the marketing-qualified-lead hand-off and
    its follow-up SLA. Tunables are seeds (lead_score_settings, lead_fit_rules,
    lead_score_events, lead_score_web_rules, competitor_domains, free_email_domains).

    MQL: the earliest of the CRM's own MQL date, a hand-raiser event (demo request) and the
    first time the score met both MQL thresholds, evaluated at the end of each day with
    activity and at the as-of moment. Lifecycle stages only move forward, so a hand-raise or
    score after the contact was already sales-qualified or a customer does not make an MQL.
    SQL comes from the CRM only. The SLA clock runs from `mql_at` until the first response:
    the owner's first logged engagement or sales accepting the lead (SQL, opportunity),
    whichever is first; a contact who became a customer before the deadline without a
    response needed none (`converted`).
#}

with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where not is_archived

),

companies as (

    select * from {{ ref('stg_crm__companies') }}

),

owners as (

    select * from {{ ref('stg_crm__owners') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'crm' and source_table = 'contacts'

),

lead_score_events as (

    select * from {{ ref('int_lead_score__events') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

fit_rules as (

    select * from {{ ref('lead_fit_rules') }}

),

competitor_domains as (

    select * from {{ ref('competitor_domains') }}

),

free_email_domains as (

    select * from {{ ref('free_email_domains') }}

),

email_domain_aliases as (

    select * from {{ ref('email_domain_aliases') }}

),

lead_score_settings as (

    select * from {{ ref('lead_score_settings') }}

),

settings as (

    select
        max(case when setting_name = 'half_life_days' then setting_value end)
            as half_life_days,
        max(case when setting_name = 'window_days' then setting_value end) as window_days,
        max(case when setting_name = 'fit_base_score' then setting_value end)
            as fit_base_score,
        max(case when setting_name = 'fit_band_a_min' then setting_value end)
            as fit_band_a_min,
        max(case when setting_name = 'fit_band_b_min' then setting_value end)
            as fit_band_b_min,
        max(case when setting_name = 'engagement_band_1_min' then setting_value end)
            as engagement_band_1_min,
        max(case when setting_name = 'engagement_band_2_min' then setting_value end)
            as engagement_band_2_min,
        max(case when setting_name = 'mql_min_fit_score' then setting_value end)
            as mql_min_fit_score,
        max(case when setting_name = 'mql_min_engagement_score' then setting_value end)
            as mql_min_engagement_score,
        max(case when setting_name = 'sla_response_hours' then setting_value end)
            as sla_response_hours
    from lead_score_settings

),

-- Fit ------------------------------------------------------------------------------------

contact_domains as (

    select
        contacts.crm_contact_id,
        coalesce(
            email_domain_aliases.canonical_domain,
            nullif(split_part(contacts.email_canonical, '@', 2), '')
        ) as email_domain,
        case
            when companies.company_domain like 'www.%'
                then substr(companies.company_domain, 5)
            else companies.company_domain
        end as company_domain
    from contacts
    left join companies on contacts.crm_company_id = companies.crm_company_id
    left join email_domain_aliases
        on split_part(contacts.email_canonical, '@', 2) = email_domain_aliases.domain

),

domain_classes as (

    select
        contact_domains.crm_contact_id,
        case
            when
                email_competitors.domain is not null
                or company_competitors.domain is not null
                then 'competitor'
            when contact_domains.email_domain is null then null
            when free_email_domains.domain is not null then 'free'
            else 'business'
        end as email_domain_class
    from contact_domains
    left join competitor_domains as email_competitors
        on contact_domains.email_domain = email_competitors.domain
    left join competitor_domains as company_competitors
        on contact_domains.company_domain = company_competitors.domain
    left join free_email_domains
        on contact_domains.email_domain = free_email_domains.domain

),

fit_attributes as (

    select
        contacts.crm_contact_id,
        'job_title' as attribute_name,
        contacts.job_title as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from contacts
    union all
    select
        contacts.crm_contact_id,
        'industry' as attribute_name,
        companies.industry as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from contacts
    left join companies on contacts.crm_company_id = companies.crm_company_id
    union all
    select
        contacts.crm_contact_id,
        'employee_count' as attribute_name,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(companies.employee_count as {{ dbt.type_numeric() }}) as number_value
    from contacts
    left join companies on contacts.crm_company_id = companies.crm_company_id
    union all
    select
        contacts.crm_contact_id,
        'annual_revenue' as attribute_name,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(companies.annual_revenue as {{ dbt.type_numeric() }}) as number_value
    from contacts
    left join companies on contacts.crm_company_id = companies.crm_company_id
    union all
    select
        contacts.crm_contact_id,
        'country_code' as attribute_name,
        coalesce(contacts.country_code, companies.country_code) as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from contacts
    left join companies on contacts.crm_company_id = companies.crm_company_id
    union all
    select
        crm_contact_id,
        'email_domain_class' as attribute_name,
        email_domain_class as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from domain_classes

),

fit_points as (

    {{ fit_rule_points('fit_attributes', 'fit_rules', 'crm_contact_id') }}

),

fit as (

    select
        contacts.crm_contact_id,
        fit_points.fit_rules_matched,
        cast(
            least(
                greatest(settings.fit_base_score + coalesce(fit_points.fit_points, 0), 0), 100
            ) as double precision
        ) as fit_score
    from contacts
    cross join settings
    left join fit_points on contacts.crm_contact_id = fit_points.crm_contact_id

),

-- Engagement ------------------------------------------------------------------------------

-- One row per contact, event type and day: the day's points, capped in absolute value.
daily_points as (

    select
        lead_score_events.crm_contact_id,
        lead_score_events.event_type,
        lead_score_events.event_date,
        max(lead_score_events.event_at) as last_event_at,
        case
            when max(lead_score_events.daily_cap) is null
                then sum(lead_score_events.points)
            when sum(lead_score_events.points) >= 0
                then least(sum(lead_score_events.points), max(lead_score_events.daily_cap))
            else greatest(sum(lead_score_events.points), -max(lead_score_events.daily_cap))
        end as capped_points
    from lead_score_events
    cross join as_of
    where lead_score_events.event_at <= as_of.as_of_at
    group by 1, 2, 3

),

-- The score is evaluated at the end of every day with activity (as of its last event) and at
-- the as-of moment.
evaluation_days as (

    select
        crm_contact_id,
        event_date as evaluated_date,
        max(last_event_at) as evaluated_at,
        false as is_as_of
    from daily_points
    group by 1, 2
    union all
    select distinct
        daily_points.crm_contact_id,
        as_of.as_of_date as evaluated_date,
        as_of.as_of_at as evaluated_at,
        true as is_as_of
    from daily_points
    cross join as_of

),

evaluations as (

    select
        crm_contact_id,
        evaluated_date,
        coalesce(
            max(case when not is_as_of then evaluated_at end), max(evaluated_at)
        ) as evaluated_at
    from evaluation_days
    group by 1, 2

),

aged_points as (

    select
        evaluations.crm_contact_id,
        evaluations.evaluated_date,
        evaluations.evaluated_at,
        daily_points.capped_points,
        {{ dbt.datediff('daily_points.event_date', 'evaluations.evaluated_date', 'day') }}
            as age_days
    from evaluations
    inner join daily_points
        on
            evaluations.crm_contact_id = daily_points.crm_contact_id
            and evaluations.evaluated_date >= daily_points.event_date

),

decayed_points as (

    select
        aged_points.crm_contact_id,
        aged_points.evaluated_date,
        aged_points.evaluated_at,
        aged_points.capped_points * power(
            0.5, cast(aged_points.age_days as double precision) / settings.half_life_days
        ) as decayed_points
    from aged_points
    cross join settings
    where aged_points.age_days < settings.window_days

),

scores_over_time as (

    select
        crm_contact_id,
        evaluated_date,
        evaluated_at,
        -- Rounded to 6 decimals: a parallel sum of doubles differs in the last bit from
        -- build to build (and would reorder ties in account_scores' ranking).
        cast(
            cast(least(greatest(sum(decayed_points), 0), 100) as decimal(18, 6))
            as double precision
        ) as engagement_score
    from decayed_points
    group by 1, 2, 3

),

current_scores as (

    select
        scores_over_time.crm_contact_id,
        scores_over_time.engagement_score
    from scores_over_time
    inner join as_of on scores_over_time.evaluated_date = as_of.as_of_date

),

activity as (

    select
        lead_score_events.crm_contact_id,
        max(case when lead_score_events.points > 0 then lead_score_events.event_at end)
            as last_engaged_at,
        min(case when lead_score_events.is_hand_raiser then lead_score_events.event_at end)
            as hand_raised_at
    from lead_score_events
    cross join as_of
    where lead_score_events.event_at <= as_of.as_of_at
    group by 1

),

-- Hand-off --------------------------------------------------------------------------------

stages as (

    select
        contacts.crm_contact_id,
        case
            when contacts.became_marketing_qualified_lead_at <= as_of.as_of_at
                then contacts.became_marketing_qualified_lead_at
        end as crm_mql_at,
        -- From here on the contact is past MQL: sales accepted it or it bought.
        least(
            contacts.became_sales_qualified_lead_at,
            contacts.became_opportunity_at,
            contacts.became_customer_at
        ) as past_mql_at,
        least(
            case
                when contacts.first_sales_engagement_at <= as_of.as_of_at
                    then contacts.first_sales_engagement_at
            end,
            case
                when contacts.became_sales_qualified_lead_at <= as_of.as_of_at
                    then contacts.became_sales_qualified_lead_at
            end,
            case
                when contacts.became_opportunity_at <= as_of.as_of_at
                    then contacts.became_opportunity_at
            end
        ) as first_response_at,
        case
            when contacts.became_customer_at <= as_of.as_of_at
                then contacts.became_customer_at
        end as became_customer_at
    from contacts
    cross join as_of

),

score_qualifications as (

    select
        scores_over_time.crm_contact_id,
        min(scores_over_time.evaluated_at) as score_mql_at
    from scores_over_time
    cross join settings
    inner join fit on scores_over_time.crm_contact_id = fit.crm_contact_id
    inner join stages on scores_over_time.crm_contact_id = stages.crm_contact_id
    where
        fit.fit_score >= settings.mql_min_fit_score
        and scores_over_time.engagement_score >= settings.mql_min_engagement_score
        and (stages.past_mql_at is null or scores_over_time.evaluated_at < stages.past_mql_at)
    group by 1

),

qualifications as (

    select
        stages.crm_contact_id,
        stages.crm_mql_at,
        score_qualifications.score_mql_at,
        case
            when stages.past_mql_at is null or activity.hand_raised_at < stages.past_mql_at
                then activity.hand_raised_at
        end as hand_raise_mql_at
    from stages
    left join activity on stages.crm_contact_id = activity.crm_contact_id
    left join score_qualifications
        on stages.crm_contact_id = score_qualifications.crm_contact_id

),

mqls as (

    select
        crm_contact_id,
        crm_mql_at,
        score_mql_at,
        least(crm_mql_at, hand_raise_mql_at, score_mql_at) as mql_at,
        case least(crm_mql_at, hand_raise_mql_at, score_mql_at)
            when crm_mql_at then 'crm'
            when hand_raise_mql_at then 'hand_raiser'
            when score_mql_at then 'score'
        end as mql_source
    from qualifications

),

-- Assembly --------------------------------------------------------------------------------

scored as (

    select
        contacts.crm_contact_id,
        customer_keys.golden_id,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.job_title,
        contacts.crm_company_id,
        coalesce(companies.company_name, contacts.company_name) as company_name,
        coalesce(contacts.country_code, companies.country_code) as country_code,
        contacts.lifecycle_stage,
        contacts.lead_status,
        owners.crm_owner_id,
        owners.first_name || ' ' || owners.last_name as owner_name,
        owners.email as owner_email,
        owners.region_code,
        fit.fit_score,
        case
            when fit.fit_score >= settings.fit_band_a_min then 'A'
            when fit.fit_score >= settings.fit_band_b_min then 'B'
            else 'C'
        end as fit_band,
        fit.fit_rules_matched,
        coalesce(current_scores.engagement_score, 0) as engagement_score,
        case
            when coalesce(current_scores.engagement_score, 0) >= settings.engagement_band_1_min
                then '1'
            when coalesce(current_scores.engagement_score, 0) >= settings.engagement_band_2_min
                then '2'
            else '3'
        end as engagement_band,
        activity.last_engaged_at,
        fit.fit_score >= settings.mql_min_fit_score
        and coalesce(current_scores.engagement_score, 0) >= settings.mql_min_engagement_score
            as meets_mql_threshold,
        activity.hand_raised_at is not null as is_hand_raiser,
        activity.hand_raised_at,
        mqls.crm_mql_at,
        mqls.score_mql_at,
        mqls.mql_at is not null as is_mql,
        mqls.mql_at,
        mqls.mql_source,
        coalesce(
            contacts.lifecycle_stage in ('salesqualifiedlead', 'opportunity', 'customer')
            or contacts.became_sales_qualified_lead_at is not null,
            false
        ) as is_sql,
        least(
            contacts.became_sales_qualified_lead_at,
            contacts.became_opportunity_at,
            contacts.became_customer_at
        ) as sql_at,
        case when mqls.mql_at is not null then stages.first_response_at end as first_response_at,
        stages.became_customer_at,
        {{ dbt.dateadd('hour', 'settings.sla_response_hours', 'mqls.mql_at') }} as sla_due_at,
        as_of.as_of_at
    from contacts
    cross join settings
    cross join as_of
    left join customer_keys on contacts.crm_contact_id = customer_keys.source_record_id
    left join companies on contacts.crm_company_id = companies.crm_company_id
    -- The contact's owner; an unowned contact is routed to its company's owner.
    left join owners
        on coalesce(contacts.crm_owner_id, companies.crm_owner_id) = owners.crm_owner_id
    left join fit on contacts.crm_contact_id = fit.crm_contact_id
    left join current_scores on contacts.crm_contact_id = current_scores.crm_contact_id
    left join activity on contacts.crm_contact_id = activity.crm_contact_id
    left join stages on contacts.crm_contact_id = stages.crm_contact_id
    left join mqls on contacts.crm_contact_id = mqls.crm_contact_id

),

service_levels as (

    select
        *,
        case
            when not is_mql then null
            when first_response_at <= sla_due_at then 'met'
            when became_customer_at >= mql_at and became_customer_at <= sla_due_at
                then 'converted'
            when first_response_at is not null or as_of_at > sla_due_at then 'breached'
            else 'pending'
        end as sla_status,
        case
            when first_response_at is not null
                then cast(
                    greatest(extract(epoch from first_response_at - mql_at) / 3600.0, 0)
                    as double precision
                )
        end as hours_to_first_response,
        case
            when is_mql
                then cast(
                    greatest(
                        extract(epoch from coalesce(first_response_at, as_of_at) - mql_at)
                        / 3600.0,
                        0
                    ) as double precision
                )
        end as hours_waited
    from scored

),

graded as (

    select
        *,
        fit_band || engagement_band as lead_grade,
        coalesce(sla_status = 'breached', false) as is_sla_breached
    from service_levels

),

final as (

    select
        crm_contact_id,
        golden_id,
        email,
        first_name,
        last_name,
        job_title,
        crm_company_id,
        company_name,
        country_code,
        lifecycle_stage,
        lead_status,
        crm_owner_id,
        owner_name,
        owner_email,
        region_code,
        fit_score,
        fit_band,
        fit_rules_matched,
        engagement_score,
        engagement_band,
        lead_grade,
        last_engaged_at,
        meets_mql_threshold,
        is_hand_raiser,
        hand_raised_at,
        crm_mql_at,
        score_mql_at,
        is_mql,
        mql_at,
        mql_source,
        is_sql,
        sql_at,
        first_response_at,
        sla_due_at,
        hours_to_first_response,
        hours_waited,
        sla_status,
        is_sla_breached,
        as_of_at
    from graded

)

select * from final
