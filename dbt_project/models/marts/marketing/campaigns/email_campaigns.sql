{#
    Email campaign performance (Klaviyo campaigns): one row per ESP campaign with its
    delivery and engagement counts, the usual rates, and the revenue it brought in, two
    ways:
    - attributed: orders credited to the campaign by last touch within the lookback window
      after an open or click (email_attributed_conversions; 120 hours by default, in the
      `attribution_settings` seed), Klaviyo's own figure;
    - UTM: orders whose `utm_campaign` is the campaign's slug (its name lower-cased,
      diacritics folded, other characters turned into '-'), which is what the campaign's
      links carry: the web-analytics figure, with no window.
    Counts come from the events the ESP tagged with the campaign. Unsubscribes also count
    the ones the ESP tied to no message but that last-touch attribution credits to the
    campaign. Rates use delivered emails as the denominator (Klaviyo), except the bounce
    rate (sent) and the click-to-open rate (unique opens); NULL when it is zero.
#}

with

campaigns as (

    select * from {{ ref('stg_esp__campaigns') }}

),

events as (

    select * from {{ ref('stg_esp__events') }}
    where esp_campaign_id is not null

),

metrics as (

    select * from {{ ref('stg_esp__metrics') }}

),

conversions as (

    select * from {{ ref('email_attributed_conversions') }}
    where touch_type = 'campaign'

),

orders as (

    select * from {{ ref('int_marketing__orders') }}
    where not is_cancelled and utm_campaign is not null

),

attribution_settings as (

    select * from {{ ref('attribution_settings') }}
    where is_enabled and touch_metric_name like '%Email'

),

attribution_window as (

    select max(lookback_hours) as attribution_window_hours
    from attribution_settings

),

campaign_events as (

    {{ email_program_counts('esp_campaign_id') }}

),

attributed as (

    select
        esp_campaign_id,
        count(case when conversion_type = 'order' then 1 end) as attributed_order_count,
        coalesce(sum(revenue), 0) as attributed_revenue,
        coalesce(sum(net_revenue), 0) as attributed_net_revenue,
        count(case when conversion_type = 'unsubscribe' then 1 end) as attributed_unsubscribes
    from conversions
    group by 1

),

slugged as (

    select
        esp_campaign_id,
        coalesce(sent_at, scheduled_at, created_at) as sent_or_planned_at,
        {{ regex_replace_all(
            regex_replace_all(fold_diacritics('campaign_name'), '[^a-z0-9]+', '-'),
            '^-+|-+$',
            ''
        ) }} as utm_campaign
    from campaigns

),

-- Should two campaigns share a slug, an order goes to the one sent last before it.
utm_candidates as (

    select
        orders.shop_order_id,
        orders.total_value,
        orders.net_revenue,
        slugged.esp_campaign_id,
        row_number() over (
            partition by orders.shop_order_id
            order by
                case when slugged.sent_or_planned_at <= orders.placed_at then 0 else 1 end,
                case
                    when slugged.sent_or_planned_at <= orders.placed_at
                        then slugged.sent_or_planned_at
                end desc,
                slugged.sent_or_planned_at asc,
                slugged.esp_campaign_id asc
        ) as candidate_rank
    from orders
    inner join slugged on lower(orders.utm_campaign) = slugged.utm_campaign

),

utm_orders as (

    select
        esp_campaign_id,
        count(*) as utm_order_count,
        sum(total_value) as utm_revenue,
        sum(net_revenue) as utm_net_revenue
    from utm_candidates
    where candidate_rank = 1
    group by 1

),

joined as (

    select
        campaigns.esp_campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_status,
        campaigns.channel,
        campaigns.is_archived,
        campaigns.sent_at,
        slugged.utm_campaign,
        attribution_window.attribution_window_hours,
        cast(coalesce(attributed.attributed_revenue, 0) as decimal(18, 2)) as attributed_revenue,
        cast(coalesce(attributed.attributed_net_revenue, 0) as decimal(18, 2))
            as attributed_net_revenue,
        cast(coalesce(utm_orders.utm_revenue, 0) as decimal(18, 2)) as utm_revenue,
        cast(coalesce(utm_orders.utm_net_revenue, 0) as decimal(18, 2)) as utm_net_revenue,
        coalesce(campaign_events.total_sends, 0) as total_sends,
        coalesce(campaign_events.total_deliveries, 0) as total_deliveries,
        coalesce(campaign_events.total_bounces, 0) as total_bounces,
        coalesce(campaign_events.total_hard_bounces, 0) as total_hard_bounces,
        coalesce(campaign_events.total_soft_bounces, 0) as total_soft_bounces,
        coalesce(campaign_events.total_opens, 0) as total_opens,
        coalesce(campaign_events.total_unique_opens, 0) as total_unique_opens,
        coalesce(campaign_events.total_clicks, 0) as total_clicks,
        coalesce(campaign_events.total_unique_clicks, 0) as total_unique_clicks,
        coalesce(campaign_events.tagged_unsubscribes, 0)
        + coalesce(attributed.attributed_unsubscribes, 0) as total_unsubscribes,
        coalesce(campaign_events.total_spam_reports, 0) as total_spam_reports,
        coalesce(attributed.attributed_order_count, 0) as attributed_order_count,
        coalesce(utm_orders.utm_order_count, 0) as utm_order_count
    from campaigns
    cross join attribution_window
    left join slugged on campaigns.esp_campaign_id = slugged.esp_campaign_id
    left join campaign_events on campaigns.esp_campaign_id = campaign_events.esp_campaign_id
    left join attributed on campaigns.esp_campaign_id = attributed.esp_campaign_id
    left join utm_orders on campaigns.esp_campaign_id = utm_orders.esp_campaign_id

),

final as (

    select
        esp_campaign_id,
        campaign_name,
        campaign_status,
        channel,
        is_archived,
        sent_at,
        utm_campaign,
        total_sends,
        total_deliveries,
        total_bounces,
        total_hard_bounces,
        total_soft_bounces,
        total_opens,
        total_unique_opens,
        total_clicks,
        total_unique_clicks,
        total_unsubscribes,
        total_spam_reports,
        attributed_order_count,
        attributed_revenue,
        attributed_net_revenue,
        attribution_window_hours,
        utm_order_count,
        utm_revenue,
        utm_net_revenue,
        {{ email_rates() }}
    from joined

)

select * from final
