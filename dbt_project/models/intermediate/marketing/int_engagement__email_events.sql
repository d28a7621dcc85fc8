{#
    The email events engagement is measured on (received, open, click, bounce, unsubscribe,
    spam complaint), on the golden customer, with automatic opens flagged. The ESP gives opens
    no user agent, so Apple Mail Privacy Protection and link scanners cannot be recognised
    by client; what can be recognised is their timing: an open at most
    `machine_open_max_seconds` (seed engagement_settings) after the same profile received the
    same campaign or flow email is fetched by a machine, not read. Later automatic opens stay
    indistinguishable from people, which is why the marts also weight every open down.
#}

with

events as (

    select * from {{ ref('stg_esp__events') }}

),

metrics as (

    select * from {{ ref('stg_esp__metrics') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'esp' and source_table = 'profiles'

),

engagement_settings as (

    select * from {{ ref('engagement_settings') }}

),

settings as (

    select
        max(
            case when setting_name = 'machine_open_max_seconds' then setting_value end
        ) as machine_open_max_seconds
    from engagement_settings

),

typed as (

    select
        events.esp_event_id,
        customer_keys.golden_id,
        events.esp_profile_id,
        events.esp_campaign_id,
        events.esp_flow_id,
        events.bounce_type,
        events.clicked_url,
        events.event_at,
        case metrics.metric_name
            when 'Received Email' then 'received'
            when 'Opened Email' then 'open'
            when 'Clicked Email' then 'click'
            when 'Bounced Email' then 'bounce'
            when 'Unsubscribed' then 'unsubscribe'
            when 'Marked Email as Spam' then 'spam_complaint'
        end as email_event_type
    from events
    inner join metrics on events.esp_metric_id = metrics.esp_metric_id
    inner join customer_keys on events.esp_profile_id = customer_keys.source_record_id

),

receipts as (

    select
        esp_profile_id,
        esp_campaign_id,
        esp_flow_id,
        event_at
    from typed
    where email_event_type = 'received'

),

machine_opens as (

    select distinct opens.esp_event_id
    from typed as opens
    inner join receipts
        on
            opens.esp_profile_id = receipts.esp_profile_id
            and coalesce(opens.esp_campaign_id, '') = coalesce(receipts.esp_campaign_id, '')
            and coalesce(opens.esp_flow_id, '') = coalesce(receipts.esp_flow_id, '')
            and opens.event_at >= receipts.event_at
    cross join settings
    where
        opens.email_event_type = 'open'
        and extract(epoch from opens.event_at - receipts.event_at)
        <= settings.machine_open_max_seconds

),

final as (

    select
        typed.esp_event_id,
        typed.golden_id,
        typed.esp_profile_id,
        typed.esp_campaign_id,
        typed.esp_flow_id,
        typed.email_event_type,
        typed.bounce_type,
        typed.clicked_url,
        typed.event_at,
        cast(typed.event_at as date) as event_date,
        machine_opens.esp_event_id is not null as is_machine_open
    from typed
    left join machine_opens on typed.esp_event_id = machine_opens.esp_event_id
    where typed.email_event_type is not null

)

select * from final
