{#
    Conversions credited to an email, Klaviyo style: one row per conversion that had an
    email touch before it. The conversions are shop orders (not cancelled) and unsubscribes
    the ESP did not tie to a message; a touch is an open or a click (the enabled metrics of
    the `attribution_settings` seed) of a campaign or flow email by the same golden
    customer, on any of their profiles.

    Rule: last touch. A conversion goes to the latest touch at or before it whose lookback
    window still covers it (120 hours after an email open or click by default; the
    boundary counts). A click beats an open at the same instant. So an order is credited
    to at most one campaign or flow, and touches of several campaigns compete: the later
    one wins. Revenue is the order's total as placed (`total_value`, Klaviyo's Placed
    Order value) and, beside it, what was left after refunds (`net_revenue`).
#}

with

events as (

    select * from {{ ref('stg_esp__events') }}

),

metrics as (

    select * from {{ ref('stg_esp__metrics') }}

),

attribution_settings as (

    select * from {{ ref('attribution_settings') }}
    where is_enabled

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'esp' and source_table = 'profiles'

),

orders as (

    select * from {{ ref('int_marketing__orders') }}
    where not is_cancelled

),

named_events as (

    select
        events.esp_event_id,
        events.esp_campaign_id,
        events.esp_flow_id,
        events.event_at,
        metrics.metric_name,
        customer_keys.golden_id
    from events
    inner join metrics on events.esp_metric_id = metrics.esp_metric_id
    inner join customer_keys on events.esp_profile_id = customer_keys.source_record_id

),

touches as (

    select
        named_events.esp_event_id as touch_esp_event_id,
        named_events.golden_id,
        named_events.esp_campaign_id,
        named_events.esp_flow_id,
        named_events.metric_name as touch_metric_name,
        named_events.event_at as touched_at,
        attribution_settings.lookback_hours,
        case when named_events.esp_campaign_id is not null then 'campaign' else 'flow' end
            as touch_type,
        -- A click is the stronger signal when two touches share a timestamp.
        case when named_events.metric_name like 'Clicked%' then 0 else 1 end as touch_strength
    from named_events
    inner join attribution_settings
        on named_events.metric_name = attribution_settings.touch_metric_name
    where named_events.esp_campaign_id is not null or named_events.esp_flow_id is not null

),

conversions as (

    select
        'order' as conversion_type,
        shop_order_id as conversion_id,
        shop_order_id,
        golden_id,
        placed_at as converted_at,
        total_value as revenue,
        net_revenue
    from orders
    where golden_id is not null

    union all

    select
        'unsubscribe' as conversion_type,
        esp_event_id as conversion_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        golden_id,
        event_at as converted_at,
        cast(null as {{ dbt.type_numeric() }}) as revenue,
        cast(null as {{ dbt.type_numeric() }}) as net_revenue
    from named_events
    where
        metric_name = 'Unsubscribed'
        and esp_campaign_id is null
        and esp_flow_id is null

),

candidates as (

    select
        conversions.conversion_type,
        conversions.conversion_id,
        conversions.shop_order_id,
        conversions.golden_id,
        conversions.converted_at,
        conversions.revenue,
        conversions.net_revenue,
        touches.touch_type,
        touches.esp_campaign_id,
        touches.esp_flow_id,
        touches.touch_esp_event_id,
        touches.touch_metric_name,
        touches.touched_at,
        touches.lookback_hours,
        -- Hours to the hundredth, rounded half up with floor() on hundredths (seconds / 36)
        -- in double precision: the same digits on DuckDB and Postgres.
        cast(
            floor(
                cast(
                    extract(epoch from (conversions.converted_at - touches.touched_at))
                    as double precision
                ) / 36 + 0.5
            ) / 100 as decimal(12, 2)
        ) as hours_after_touch,
        row_number() over (
            partition by conversions.conversion_type, conversions.conversion_id
            order by
                touches.touched_at desc,
                touches.touch_strength asc,
                touches.touch_esp_event_id desc
        ) as touch_rank
    from conversions
    inner join touches
        on
            conversions.golden_id = touches.golden_id
            and conversions.converted_at >= touches.touched_at
            and extract(epoch from (conversions.converted_at - touches.touched_at))
            <= touches.lookback_hours * 3600

),

final as (

    select
        {{ dbt.concat(['conversion_type', "':'", 'conversion_id']) }}
            as email_attributed_conversion_id,
        conversion_type,
        conversion_id,
        shop_order_id,
        golden_id,
        converted_at,
        touch_type,
        esp_campaign_id,
        esp_flow_id,
        touch_esp_event_id,
        touch_metric_name,
        touched_at,
        hours_after_touch,
        lookback_hours,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(net_revenue as decimal(18, 2)) as net_revenue
    from candidates
    where touch_rank = 1

)

select * from final
