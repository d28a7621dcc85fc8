{#
    Why a campaign's deals were lost: one row per CRM campaign and closed-lost reason, with
    the deals and value lost for it (reporting currency) and its share of the campaign's
    lost deals. Deals are attributed by their own source campaign, as in `campaigns`; a lost
    deal without a reason is counted under 'Unknown' so the shares add up to 1.
#}

with

deals as (

    select * from {{ ref('campaign_deals') }}
    where is_lost

),

reasons as (

    select
        crm_campaign_id,
        coalesce(closed_lost_reason, 'Unknown') as closed_lost_reason,
        count(*) as lost_deal_count,
        sum(deal_value) as lost_deal_value,
        max(closed_at) as last_lost_at
    from deals
    group by 1, 2

),

final as (

    select
        {{ dbt.concat(['crm_campaign_id', "':'", 'closed_lost_reason']) }}
            as campaign_lost_reason_id,
        crm_campaign_id,
        closed_lost_reason,
        lost_deal_count,
        cast(lost_deal_value as decimal(18, 2)) as lost_deal_value,
        last_lost_at,
        {{ safe_ratio(
            'lost_deal_count', 'sum(lost_deal_count) over (partition by crm_campaign_id)', 4
        ) }} as share_of_lost_deals
    from reasons

)

select * from final
