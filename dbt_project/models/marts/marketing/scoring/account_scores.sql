{#
    One row per live HubSpot company: the account-based-marketing score. Fit is firmographic
    (seed account_fit_rules on industry, size, revenue, country and competitor domain, added
    to a base score and clamped to 0–100). Buying-group engagement is the mean of the top
    `buying_group_top_n` contacts' lead engagement scores (lead_scores; a missing contact
    counts 0, so one keen contact is not a buying group) plus `extra_engaged_contact_bonus`
    for every further engaged contact, at most 100. Intent is 0: no third-party intent feed
    is connected. The score blends the three by the weights of seed account_score_weights
    (divided by their sum) and is tiered hot / warm / cold by account_score_settings.
    Contacts belong to a company by their primary company or any contact→company
    association; deals by deal→company association.
#}

with

companies as (

    select * from {{ ref('stg_crm__companies') }}
    where not is_archived

),

associations as (

    select * from {{ ref('stg_crm__associations') }}

),

deals as (

    select * from {{ ref('stg_crm__deals') }}
    where not is_archived

),

lead_scores as (

    select * from {{ ref('lead_scores') }}

),

fx_rates as (

    select * from {{ ref('int_marketing__fx_rates') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

fit_rules as (

    select * from {{ ref('account_fit_rules') }}

),

competitor_domains as (

    select * from {{ ref('competitor_domains') }}

),

account_score_weights as (

    select * from {{ ref('account_score_weights') }}

),

account_score_settings as (

    select * from {{ ref('account_score_settings') }}

),

settings as (

    select
        max(case when setting_name = 'fit_base_score' then setting_value end)
            as fit_base_score,
        max(case when setting_name = 'buying_group_top_n' then setting_value end)
            as buying_group_top_n,
        max(case when setting_name = 'engaged_contact_min_score' then setting_value end)
            as engaged_contact_min_score,
        max(case when setting_name = 'extra_engaged_contact_bonus' then setting_value end)
            as extra_engaged_contact_bonus,
        max(case when setting_name = 'hot_min_score' then setting_value end) as hot_min_score,
        max(case when setting_name = 'warm_min_score' then setting_value end)
            as warm_min_score
    from account_score_settings

),

weights as (

    select
        coalesce(max(case when component = 'fit' then weight end), 0) as fit_weight,
        coalesce(max(case when component = 'engagement' then weight end), 0)
            as engagement_weight,
        coalesce(max(case when component = 'intent' then weight end), 0) as intent_weight
    from account_score_weights

),

-- Fit ------------------------------------------------------------------------------------

company_domains as (

    select
        crm_company_id,
        case
            when company_domain like 'www.%' then substr(company_domain, 5)
            else company_domain
        end as company_domain
    from companies

),

fit_attributes as (

    select
        crm_company_id,
        'industry' as attribute_name,
        industry as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from companies
    union all
    select
        crm_company_id,
        'employee_count' as attribute_name,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(employee_count as {{ dbt.type_numeric() }}) as number_value
    from companies
    union all
    select
        crm_company_id,
        'annual_revenue' as attribute_name,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(annual_revenue as {{ dbt.type_numeric() }}) as number_value
    from companies
    union all
    select
        crm_company_id,
        'country_code' as attribute_name,
        country_code as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from companies
    union all
    select
        company_domains.crm_company_id,
        'company_domain_class' as attribute_name,
        case
            when competitor_domains.domain is not null then 'competitor'
            when company_domains.company_domain is not null then 'business'
        end as text_value,
        cast(null as {{ dbt.type_numeric() }}) as number_value
    from company_domains
    left join competitor_domains
        on company_domains.company_domain = competitor_domains.domain

),

fit_points as (

    {{ fit_rule_points('fit_attributes', 'fit_rules', 'crm_company_id') }}

),

fit as (

    select
        companies.crm_company_id,
        fit_points.fit_rules_matched,
        cast(
            least(
                greatest(settings.fit_base_score + coalesce(fit_points.fit_points, 0), 0), 100
            ) as double precision
        ) as fit_score
    from companies
    cross join settings
    left join fit_points on companies.crm_company_id = fit_points.crm_company_id

),

-- Buying group ----------------------------------------------------------------------------

memberships as (

    select
        crm_company_id,
        crm_contact_id
    from lead_scores
    where crm_company_id is not null
    union
    select
        to_crm_object_id as crm_company_id,
        from_crm_object_id as crm_contact_id
    from associations
    where from_object_type = 'contacts' and to_object_type = 'companies'

),

ranked_members as (

    select
        memberships.crm_company_id,
        lead_scores.crm_contact_id,
        lead_scores.engagement_score,
        lead_scores.last_engaged_at,
        lead_scores.is_mql,
        lead_scores.is_sql,
        row_number() over (
            partition by memberships.crm_company_id
            order by lead_scores.engagement_score desc, lead_scores.crm_contact_id asc
        ) as engagement_rank
    from memberships
    inner join lead_scores on memberships.crm_contact_id = lead_scores.crm_contact_id

),

-- What each contact adds to the buying-group score: a share of the top-N mean, or the bonus.
members as (

    select
        ranked_members.*,
        ranked_members.engagement_score >= settings.engaged_contact_min_score as is_engaged,
        case
            when ranked_members.engagement_rank <= settings.buying_group_top_n
                then ranked_members.engagement_score / settings.buying_group_top_n
            when ranked_members.engagement_score >= settings.engaged_contact_min_score
                then settings.extra_engaged_contact_bonus
            else 0
        end as buying_group_points
    from ranked_members
    cross join settings

),

buying_groups as (

    select
        crm_company_id,
        cast(cast(least(sum(buying_group_points), 100) as decimal(18, 6)) as double precision)
            as buying_group_engagement_score,
        count(*) as contact_count,
        count(case when is_engaged then 1 end) as engaged_contact_count,
        count(case when is_mql then 1 end) as mql_contact_count,
        count(case when is_sql then 1 end) as sql_contact_count,
        max(last_engaged_at) as last_engaged_at
    from members
    group by 1

),

-- Deals -----------------------------------------------------------------------------------

company_deals as (

    select
        associations.to_crm_object_id as crm_company_id,
        deals.crm_deal_id,
        deals.is_closed,
        deals.is_won,
        deals.amount * fx_rates.rate_to_reporting as amount_reporting
    from deals
    inner join associations
        on
            associations.from_object_type = 'deals'
            and associations.to_object_type = 'companies'
            and deals.crm_deal_id = associations.from_crm_object_id
    cross join as_of
    left join fx_rates
        on
            deals.currency = fx_rates.currency_code
            -- Won deals convert on their close date, open ones at today's rate.
            and cast(case when deals.is_won then deals.closed_at else as_of.as_of_at end as date)
            >= fx_rates.valid_from
            and (
                fx_rates.valid_to is null
                or cast(case when deals.is_won then deals.closed_at else as_of.as_of_at end as date)
                < fx_rates.valid_to
            )

),

deal_summary as (

    select
        crm_company_id,
        count(case when not is_closed then 1 end) as open_deal_count,
        sum(case when not is_closed then amount_reporting end) as open_pipeline_value,
        count(case when is_won then 1 end) as won_deal_count,
        sum(case when is_won then amount_reporting end) as won_revenue
    from company_deals
    group by 1

),

-- Assembly --------------------------------------------------------------------------------

scored as (

    select
        companies.crm_company_id,
        companies.company_name,
        companies.company_domain,
        companies.industry,
        companies.country_code,
        companies.employee_count,
        companies.annual_revenue,
        companies.crm_owner_id,
        fit.fit_score,
        fit.fit_rules_matched,
        buying_groups.last_engaged_at,
        as_of.as_of_at,
        cast(0 as double precision) as intent_score,
        cast(coalesce(deal_summary.open_pipeline_value, 0) as decimal(18, 2))
            as open_pipeline_value,
        cast(coalesce(deal_summary.won_revenue, 0) as decimal(18, 2)) as won_revenue,
        cast(
            (
                weights.fit_weight * fit.fit_score
                + weights.engagement_weight
                * coalesce(buying_groups.buying_group_engagement_score, 0)
                + weights.intent_weight * 0
            )
            / nullif(weights.fit_weight + weights.engagement_weight + weights.intent_weight, 0)
            as double precision
        ) as account_score,
        coalesce(buying_groups.buying_group_engagement_score, 0)
            as buying_group_engagement_score,
        coalesce(buying_groups.contact_count, 0) as contact_count,
        coalesce(buying_groups.engaged_contact_count, 0) as engaged_contact_count,
        coalesce(buying_groups.mql_contact_count, 0) as mql_contact_count,
        coalesce(buying_groups.sql_contact_count, 0) as sql_contact_count,
        coalesce(deal_summary.open_deal_count, 0) as open_deal_count,
        coalesce(deal_summary.won_deal_count, 0) as won_deal_count
    from companies
    cross join weights
    cross join as_of
    left join fit on companies.crm_company_id = fit.crm_company_id
    left join buying_groups on companies.crm_company_id = buying_groups.crm_company_id
    left join deal_summary on companies.crm_company_id = deal_summary.crm_company_id

),

tiered as (

    select
        scored.*,
        case
            when scored.account_score >= settings.hot_min_score then 'hot'
            when scored.account_score >= settings.warm_min_score then 'warm'
            else 'cold'
        end as account_tier
    from scored
    cross join settings

),

final as (

    select
        crm_company_id,
        company_name,
        company_domain,
        industry,
        country_code,
        employee_count,
        annual_revenue,
        crm_owner_id,
        fit_score,
        fit_rules_matched,
        buying_group_engagement_score,
        intent_score,
        account_score,
        account_tier,
        contact_count,
        engaged_contact_count,
        mql_contact_count,
        sql_contact_count,
        open_deal_count,
        open_pipeline_value,
        won_deal_count,
        won_revenue,
        last_engaged_at,
        as_of_at
    from tiered

)

select * from final
