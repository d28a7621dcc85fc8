{#
    Email flow performance (Klaviyo flows: welcome, abandoned cart, post-purchase…): one row
    per ESP flow with the same counts, rates and attributed revenue as `email_campaigns`.
    Flows and campaigns compete for the same orders under last-touch attribution, so an
    order is credited to a flow or to a campaign, never both. Flow links carry no campaign
    slug, so there is no UTM figure. Flows are behaviour-triggered, so the people a flow
    reached are listed in `automation_memberships`.
#}

with

flows as (

    select * from {{ ref('stg_esp__flows') }}

),

events as (

    select * from {{ ref('stg_esp__events') }}
    where esp_flow_id is not null

),

metrics as (

    select * from {{ ref('stg_esp__metrics') }}

),

conversions as (

    select * from {{ ref('email_attributed_conversions') }}
    where touch_type = 'flow'

),

flow_events as (

    {{ email_program_counts('esp_flow_id') }}

),

attributed as (

    select
        esp_flow_id,
        count(case when conversion_type = 'order' then 1 end) as attributed_order_count,
        coalesce(sum(revenue), 0) as attributed_revenue,
        coalesce(sum(net_revenue), 0) as attributed_net_revenue,
        count(case when conversion_type = 'unsubscribe' then 1 end) as attributed_unsubscribes
    from conversions
    group by 1

),

joined as (

    select
        flows.esp_flow_id,
        flows.flow_name,
        flows.flow_status,
        flows.trigger_type,
        flows.is_archived,
        flow_events.first_event_at,
        flow_events.last_event_at,
        cast(coalesce(attributed.attributed_revenue, 0) as decimal(18, 2)) as attributed_revenue,
        cast(coalesce(attributed.attributed_net_revenue, 0) as decimal(18, 2))
            as attributed_net_revenue,
        coalesce(flow_events.profile_count, 0) as profile_count,
        coalesce(flow_events.total_sends, 0) as total_sends,
        coalesce(flow_events.total_deliveries, 0) as total_deliveries,
        coalesce(flow_events.total_bounces, 0) as total_bounces,
        coalesce(flow_events.total_hard_bounces, 0) as total_hard_bounces,
        coalesce(flow_events.total_soft_bounces, 0) as total_soft_bounces,
        coalesce(flow_events.total_opens, 0) as total_opens,
        coalesce(flow_events.total_unique_opens, 0) as total_unique_opens,
        coalesce(flow_events.total_clicks, 0) as total_clicks,
        coalesce(flow_events.total_unique_clicks, 0) as total_unique_clicks,
        coalesce(flow_events.tagged_unsubscribes, 0)
        + coalesce(attributed.attributed_unsubscribes, 0) as total_unsubscribes,
        coalesce(flow_events.total_spam_reports, 0) as total_spam_reports,
        coalesce(attributed.attributed_order_count, 0) as attributed_order_count
    from flows
    left join flow_events on flows.esp_flow_id = flow_events.esp_flow_id
    left join attributed on flows.esp_flow_id = attributed.esp_flow_id

),

final as (

    select
        esp_flow_id,
        flow_name,
        flow_status,
        trigger_type,
        is_archived,
        first_event_at,
        last_event_at,
        profile_count,
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
        {{ email_rates() }}
    from joined

)

select * from final
