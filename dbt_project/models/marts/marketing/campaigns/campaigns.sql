{#
    CRM campaigns closed loop: one row per HubSpot campaign with its cost, its members and
    the leads, MQLs, SQLs, deals and revenue it brought, and the ratios marketing is judged
    by (ROI, cost per lead/MQL/SQL, CAC). Money is in the reporting currency; the budget
    and expected revenue convert at the rate of the campaign's start date.

    Attribution (how a result is credited to a campaign):
    - members: every contact associated with the campaign (influence, many-to-many);
    - leads, MQLs, SQLs: first touch — contacts created while the campaign ran and
      associated with it, one source campaign per contact (campaign_members);
    - deals, won revenue, lost reasons, new customers: the deal's own source campaign
      (`hs_campaign`, campaign_deals);
    - shop orders: the order's `utm_campaign` equals the campaign's slug (its name
      lower-cased, diacritics folded, other characters turned into '-'), a second,
      independent figure for campaigns that sell through the e-shop.
    Ratios whose denominator is zero are NULL, never an error or infinity.
#}

with

campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

members as (

    select * from {{ ref('campaign_members') }}

),

deals as (

    select * from {{ ref('campaign_deals') }}

),

orders as (

    select * from {{ ref('int_marketing__orders') }}
    where not is_cancelled and utm_campaign is not null

),

fx_rates as (

    select * from {{ ref('int_marketing__fx_rates') }}

),

converted as (

    select
        campaigns.crm_campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_status,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.currency as original_currency,
        campaigns.budget_amount,
        campaigns.expected_revenue_amount,
        fx_rates.rate_to_reporting as fx_rate,
        {{ regex_replace_all(
            regex_replace_all(fold_diacritics('campaigns.campaign_name'), '[^a-z0-9]+', '-'),
            '^-+|-+$',
            ''
        ) }} as utm_campaign,
        cast(
            coalesce(campaigns.budget_amount, 0) * fx_rates.rate_to_reporting as decimal(18, 2)
        ) as campaign_cost,
        cast(
            campaigns.expected_revenue_amount * fx_rates.rate_to_reporting as decimal(18, 2)
        ) as expected_revenue
    from campaigns
    left join fx_rates
        on
            campaigns.currency = fx_rates.currency_code
            and campaigns.start_date >= fx_rates.valid_from
            and (fx_rates.valid_to is null or campaigns.start_date < fx_rates.valid_to)

),

member_counts as (

    select
        crm_campaign_id,
        count(distinct golden_id) as member_count,
        count(distinct case when is_marketing_qualified then golden_id end) as member_mql_count,
        count(distinct case when is_sales_qualified then golden_id end) as member_sql_count,
        count(distinct case when is_customer then golden_id end) as member_customer_count,
        count(distinct case when is_attributed_source then golden_id end) as lead_count,
        count(
            distinct case when is_attributed_source and is_marketing_qualified then golden_id end
        ) as mql_count,
        count(
            distinct case when is_attributed_source and is_sales_qualified then golden_id end
        ) as sql_count,
        count(
            distinct case when is_attributed_source and is_customer then golden_id end
        ) as lead_customer_count
    from members
    group by 1

),

deal_counts as (

    select
        crm_campaign_id,
        count(*) as deal_count,
        count(case when not is_closed then 1 end) as open_deal_count,
        count(case when is_won then 1 end) as won_deal_count,
        count(case when is_lost then 1 end) as lost_deal_count,
        coalesce(sum(case when is_won then deal_value end), 0) as won_revenue,
        coalesce(sum(case when is_lost then deal_value end), 0) as lost_deal_value,
        coalesce(sum(case when not is_closed then deal_value end), 0) as open_pipeline_value,
        count(distinct case when is_new_customer_deal then golden_id end) as new_customer_count
    from deals
    group by 1

),

lost_reasons as (

    select
        crm_campaign_id,
        coalesce(closed_lost_reason, 'Unknown') as closed_lost_reason,
        count(*) as lost_deal_count
    from deals
    where is_lost
    group by 1, 2

),

top_lost_reasons as (

    select
        crm_campaign_id,
        closed_lost_reason,
        row_number() over (
            partition by crm_campaign_id order by lost_deal_count desc, closed_lost_reason asc
        ) as reason_rank
    from lost_reasons

),

-- Campaign names repeat now and then: an order goes to the namesake nearest its date.
utm_candidates as (

    select
        orders.shop_order_id,
        orders.total_value,
        orders.net_revenue,
        converted.crm_campaign_id,
        row_number() over (
            partition by orders.shop_order_id
            order by
                case when converted.start_date <= orders.placed_date then 0 else 1 end,
                abs({{ dbt.datediff('converted.start_date', 'orders.placed_date', 'day') }}),
                converted.crm_campaign_id
        ) as candidate_rank
    from orders
    inner join converted on lower(orders.utm_campaign) = converted.utm_campaign

),

utm_orders as (

    select
        crm_campaign_id,
        count(*) as utm_order_count,
        sum(total_value) as utm_revenue,
        sum(net_revenue) as utm_net_revenue
    from utm_candidates
    where candidate_rank = 1
    group by 1

),

joined as (

    select
        converted.*,
        top_lost_reasons.closed_lost_reason as top_lost_reason,
        cast(coalesce(deal_counts.won_revenue, 0) as decimal(18, 2)) as won_revenue,
        cast(coalesce(deal_counts.lost_deal_value, 0) as decimal(18, 2)) as lost_deal_value,
        cast(coalesce(deal_counts.open_pipeline_value, 0) as decimal(18, 2))
            as open_pipeline_value,
        cast(coalesce(utm_orders.utm_revenue, 0) as decimal(18, 2)) as utm_revenue,
        cast(coalesce(utm_orders.utm_net_revenue, 0) as decimal(18, 2)) as utm_net_revenue,
        cast(
            coalesce(deal_counts.won_revenue, 0) + coalesce(utm_orders.utm_revenue, 0)
            as decimal(18, 2)
        ) as closed_loop_revenue,
        coalesce(member_counts.member_count, 0) as member_count,
        coalesce(member_counts.member_mql_count, 0) as member_mql_count,
        coalesce(member_counts.member_sql_count, 0) as member_sql_count,
        coalesce(member_counts.member_customer_count, 0) as member_customer_count,
        coalesce(member_counts.lead_count, 0) as lead_count,
        coalesce(member_counts.mql_count, 0) as mql_count,
        coalesce(member_counts.sql_count, 0) as sql_count,
        coalesce(member_counts.lead_customer_count, 0) as lead_customer_count,
        coalesce(deal_counts.deal_count, 0) as deal_count,
        coalesce(deal_counts.open_deal_count, 0) as open_deal_count,
        coalesce(deal_counts.won_deal_count, 0) as won_deal_count,
        coalesce(deal_counts.lost_deal_count, 0) as lost_deal_count,
        coalesce(deal_counts.new_customer_count, 0) as new_customer_count,
        coalesce(utm_orders.utm_order_count, 0) as utm_order_count
    from converted
    left join member_counts on converted.crm_campaign_id = member_counts.crm_campaign_id
    left join deal_counts on converted.crm_campaign_id = deal_counts.crm_campaign_id
    left join top_lost_reasons
        on
            converted.crm_campaign_id = top_lost_reasons.crm_campaign_id
            and top_lost_reasons.reason_rank = 1
    left join utm_orders on converted.crm_campaign_id = utm_orders.crm_campaign_id

),

final as (

    select
        crm_campaign_id,
        campaign_name,
        campaign_status,
        start_date,
        end_date,
        utm_campaign,
        original_currency,
        budget_amount,
        expected_revenue_amount,
        fx_rate,
        campaign_cost,
        expected_revenue,
        member_count,
        member_mql_count,
        member_sql_count,
        member_customer_count,
        lead_count,
        mql_count,
        sql_count,
        lead_customer_count,
        deal_count,
        open_deal_count,
        won_deal_count,
        lost_deal_count,
        won_revenue,
        lost_deal_value,
        open_pipeline_value,
        new_customer_count,
        top_lost_reason,
        utm_order_count,
        utm_revenue,
        utm_net_revenue,
        closed_loop_revenue,
        {{ safe_ratio('won_deal_count', 'won_deal_count + lost_deal_count', 4) }} as win_rate,
        {{ safe_ratio('won_revenue - campaign_cost', 'campaign_cost', 4) }} as roi,
        {{ safe_ratio('won_revenue + utm_revenue - campaign_cost', 'campaign_cost', 4) }}
            as closed_loop_roi,
        {{ safe_ratio('expected_revenue - campaign_cost', 'campaign_cost', 4) }} as expected_roi,
        {{ safe_ratio('campaign_cost', 'lead_count', 2, 18) }} as cost_per_lead,
        {{ safe_ratio('campaign_cost', 'mql_count', 2, 18) }} as cost_per_mql,
        {{ safe_ratio('campaign_cost', 'sql_count', 2, 18) }} as cost_per_sql,
        {{ safe_ratio('campaign_cost', 'new_customer_count', 2, 18) }} as cac
    from joined

)

select * from final
