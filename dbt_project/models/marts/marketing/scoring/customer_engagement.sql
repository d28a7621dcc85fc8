{#
    One row per customer (golden record): how engaged they are across email, site and shop.
    `engagement_score` is a decayed weighted sum (seeds engagement_weights, engagement_settings):
    clicks weigh most; opens weigh little because Apple Mail Privacy Protection and scanners
    also open mail, and opens within seconds of delivery (int_engagement__email_events) are
    machine opens that count nothing, neither here nor in the email status.

    `email_engagement_status` follows Klaviyo's segments: engaged = a human open or a click in
    the last 90 days (30 for customers who receive email about daily); new = added to the ESP
    in the last 30 days and not engaged yet (Klaviyo counts them as engaged); unengaged =
    received at least 5 emails ever and no human open or click in 90 days; never_sent = never
    received one; neutral = neither engaged nor unengaged by these rules (few emails, or a
    daily recipient last engaged 30–90 days ago).

    `is_dormant`: no order, click or site visit (opens do not count) for longer than the
    customer's own threshold: twice their mean days between purchases for repeat buyers (at
    least `dormant_min_days`), `dormant_after_days` for everyone else; measured from when the
    customer was first seen if they never did any of these.
#}

with

customers as (

    select * from {{ ref('customers') }}

),

email_events as (

    select * from {{ ref('int_engagement__email_events') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

esp_profiles as (

    select * from {{ ref('stg_esp__profiles') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}

),

orders as (

    select * from {{ ref('int_marketing__orders') }}
    where not is_cancelled

),

engagement_weights as (

    select * from {{ ref('engagement_weights') }}

),

engagement_settings as (

    select * from {{ ref('engagement_settings') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

settings as (

    select
        {% for setting in [
            'half_life_days',
            'score_window_days',
            'engaged_window_days',
            'daily_recipient_engaged_window_days',
            'daily_recipient_min_received_30d',
            'new_after_added_days',
            'unengaged_min_received',
            'unengaged_window_days',
            'dormant_after_days',
            'dormant_purchase_cycle_multiple',
            'dormant_min_days',
        ] %}
            max(case when setting_name = '{{ setting }}' then setting_value end)
                as {{ setting }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from engagement_settings

),

site_visits as (

    select
        customer_keys.golden_id,
        web_events.session_id,
        min(web_events.event_at) as visited_at
    from web_events
    inner join customer_keys
        on
            customer_keys.source_system = 'web'
            and customer_keys.source_table = 'anonymous_ids'
            and web_events.anonymous_id = customer_keys.source_record_id
    group by 1, 2

),

activities as (

    select
        golden_id,
        case
            when email_event_type = 'click' then 'email_click'
            when email_event_type = 'received' then 'email_received'
            when is_machine_open then 'email_machine_open'
            else 'email_open'
        end as activity,
        event_at as activity_at
    from email_events
    where email_event_type in ('click', 'open', 'received')
    union all
    select
        golden_id,
        'site_visit' as activity,
        visited_at as activity_at
    from site_visits
    union all
    select
        golden_id,
        'order' as activity,
        placed_at as activity_at
    from orders

),

aged as (

    select
        activities.golden_id,
        activities.activity,
        activities.activity_at,
        cast(
            extract(epoch from as_of.as_of_at - activities.activity_at) / 86400.0
            as double precision
        ) as age_days
    from activities
    cross join as_of
    where activities.activity_at <= as_of.as_of_at

),

weighted as (

    select
        aged.golden_id,
        -- Rounded to 6 decimals: a parallel sum of doubles differs in the last bit from
        -- build to build, and a sync diffing against what it last sent must not see that.
        cast(
            cast(
                sum(
                    case
                        when aged.age_days < settings.score_window_days
                            then
                                engagement_weights.weight
                                * power(0.5, aged.age_days / settings.half_life_days)
                        else 0
                    end
                ) as decimal(18, 6)
            ) as double precision
        ) as engagement_score
    from aged
    cross join settings
    inner join engagement_weights on aged.activity = engagement_weights.activity
    group by 1

),

activity_summary as (

    select
        golden_id,
        count(case when activity = 'email_click' and age_days < 30 then 1 end) as email_clicks_30d,
        count(case when activity = 'email_click' and age_days < 90 then 1 end) as email_clicks_90d,
        count(case when activity = 'email_open' and age_days < 30 then 1 end) as email_opens_30d,
        count(case when activity = 'email_open' and age_days < 90 then 1 end) as email_opens_90d,
        count(case when activity = 'email_machine_open' and age_days < 90 then 1 end)
            as machine_opens_90d,
        count(case when activity = 'email_received' and age_days < 30 then 1 end)
            as emails_received_30d,
        count(case when activity = 'email_received' and age_days < 90 then 1 end)
            as emails_received_90d,
        count(case when activity = 'email_received' then 1 end) as emails_received_total,
        count(case when activity = 'site_visit' and age_days < 30 then 1 end) as site_visits_30d,
        count(case when activity = 'site_visit' and age_days < 90 then 1 end) as site_visits_90d,
        count(case when activity = 'order' and age_days < 30 then 1 end) as orders_30d,
        count(case when activity = 'order' and age_days < 90 then 1 end) as orders_90d,
        max(case when activity = 'email_open' then activity_at end) as last_email_open_at,
        max(case when activity = 'email_click' then activity_at end) as last_email_click_at,
        max(case when activity = 'site_visit' then activity_at end) as last_site_visit_at,
        max(case when activity = 'order' then activity_at end) as last_order_at,
        -- Youngest human open or click, in days: the email status rules compare it.
        min(case when activity in ('email_open', 'email_click') then age_days end)
            as days_since_email_engagement
    from aged
    group by 1

),

purchase_cycles as (

    select
        orders.golden_id,
        count(*) as order_count,
        case
            when count(*) > 1
                then cast(
                    extract(epoch from max(orders.placed_at) - min(orders.placed_at))
                    / 86400.0 / (count(*) - 1) as double precision
                )
        end as mean_days_between_orders
    from orders
    cross join as_of
    where orders.placed_at <= as_of.as_of_at
    group by 1

),

esp_added as (

    select
        customer_keys.golden_id,
        min(esp_profiles.created_at) as esp_added_at
    from esp_profiles
    inner join customer_keys
        on
            customer_keys.source_system = 'esp'
            and customer_keys.source_table = 'profiles'
            and esp_profiles.esp_profile_id = customer_keys.source_record_id
    group by 1

),

combined as (

    select
        customers.golden_id,
        activity_summary.days_since_email_engagement,
        activity_summary.last_email_open_at,
        activity_summary.last_email_click_at,
        activity_summary.last_site_visit_at,
        activity_summary.last_order_at,
        purchase_cycles.mean_days_between_orders,
        esp_added.esp_added_at,
        customers.first_seen_at,
        as_of.as_of_at,
        coalesce(weighted.engagement_score, 0) as engagement_score,
        coalesce(activity_summary.email_clicks_30d, 0) as email_clicks_30d,
        coalesce(activity_summary.email_clicks_90d, 0) as email_clicks_90d,
        coalesce(activity_summary.email_opens_30d, 0) as email_opens_30d,
        coalesce(activity_summary.email_opens_90d, 0) as email_opens_90d,
        coalesce(activity_summary.machine_opens_90d, 0) as machine_opens_90d,
        coalesce(activity_summary.emails_received_30d, 0) as emails_received_30d,
        coalesce(activity_summary.emails_received_90d, 0) as emails_received_90d,
        coalesce(activity_summary.emails_received_total, 0) as emails_received_total,
        coalesce(activity_summary.site_visits_30d, 0) as site_visits_30d,
        coalesce(activity_summary.site_visits_90d, 0) as site_visits_90d,
        coalesce(activity_summary.orders_30d, 0) as orders_30d,
        coalesce(activity_summary.orders_90d, 0) as orders_90d,
        coalesce(purchase_cycles.order_count, 0) as order_count,
        greatest(
            activity_summary.last_email_open_at,
            activity_summary.last_email_click_at,
            activity_summary.last_site_visit_at,
            activity_summary.last_order_at
        ) as last_engaged_at,
        greatest(
            activity_summary.last_email_click_at,
            activity_summary.last_site_visit_at,
            activity_summary.last_order_at
        ) as last_active_at
    from customers
    cross join as_of
    left join weighted on customers.golden_id = weighted.golden_id
    left join activity_summary on customers.golden_id = activity_summary.golden_id
    left join purchase_cycles on customers.golden_id = purchase_cycles.golden_id
    left join esp_added on customers.golden_id = esp_added.golden_id

),

classified as (

    select
        combined.*,
        cast(
            case
                when combined.order_count > 1
                    then greatest(
                        settings.dormant_purchase_cycle_multiple
                        * combined.mean_days_between_orders,
                        settings.dormant_min_days
                    )
                else settings.dormant_after_days
            end as double precision
        ) as dormant_after_days,
        cast(
            extract(
                epoch from
                combined.as_of_at - coalesce(combined.last_active_at, combined.first_seen_at)
            ) / 86400.0 as double precision
        ) as days_since_last_active,
        case
            when
                combined.days_since_email_engagement
                < case
                    when
                        combined.emails_received_30d
                        >= settings.daily_recipient_min_received_30d
                        then settings.daily_recipient_engaged_window_days
                    else settings.engaged_window_days
                end
                then 'engaged'
            when
                combined.esp_added_at <= combined.as_of_at
                and extract(epoch from combined.as_of_at - combined.esp_added_at) / 86400.0
                < settings.new_after_added_days
                then 'new'
            when
                combined.emails_received_total >= settings.unengaged_min_received
                and coalesce(
                    combined.days_since_email_engagement >= settings.unengaged_window_days,
                    true
                )
                then 'unengaged'
            when combined.emails_received_total = 0 then 'never_sent'
            else 'neutral'
        end as email_engagement_status
    from combined
    cross join settings

),

flagged as (

    select
        *,
        coalesce(days_since_last_active > dormant_after_days, true) as is_dormant
    from classified

),

final as (

    select
        golden_id,
        engagement_score,
        email_engagement_status,
        is_dormant,
        dormant_after_days,
        days_since_last_active,
        last_engaged_at,
        last_active_at,
        last_email_open_at,
        last_email_click_at,
        last_site_visit_at,
        last_order_at,
        email_clicks_30d,
        email_clicks_90d,
        email_opens_30d,
        email_opens_90d,
        machine_opens_90d,
        emails_received_30d,
        emails_received_90d,
        emails_received_total,
        site_visits_30d,
        site_visits_90d,
        orders_30d,
        orders_90d,
        order_count,
        mean_days_between_orders,
        esp_added_at,
        as_of_at
    from flagged

)

select * from final
