{#
    Every behavioural event of a live CRM contact with the points it scores (seed
    lead_score_events): email opens, clicks, unsubscribes, hard bounces and spam complaints
    from the ESP, web page views, product views, carts, checkouts and form submits classified
    by the seeded web rules (lead_score_web_rules, the first matching rule wins), and shop
    orders. Events reach the contact through the person (golden ID), so a contact scores what
    the person did under any email address or device. History is complete here; the hard
    window, daily caps and decay are applied in lead_scores.
#}

with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where not is_archived

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}

),

email_events as (

    select * from {{ ref('int_engagement__email_events') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

orders as (

    select * from {{ ref('int_marketing__orders') }}
    where not is_cancelled

),

web_rules as (

    select * from {{ ref('lead_score_web_rules') }}

),

event_points as (

    select * from {{ ref('lead_score_events') }}

),

contact_people as (

    select
        contacts.crm_contact_id,
        customer_keys.golden_id
    from contacts
    inner join customer_keys
        on
            customer_keys.source_system = 'crm'
            and customer_keys.source_table = 'contacts'
            and contacts.crm_contact_id = customer_keys.source_record_id

),

email_typed as (

    select
        golden_id,
        'esp' as event_source,
        esp_event_id as source_event_id,
        event_at,
        case
            when email_event_type = 'open' and is_machine_open then 'email_machine_open'
            when email_event_type = 'open' then 'email_open'
            when email_event_type = 'click' then 'email_click'
            when email_event_type = 'unsubscribe' then 'email_unsubscribe'
            when email_event_type = 'spam_complaint' then 'email_spam_complaint'
            when email_event_type = 'bounce' and bounce_type = 'hard' then 'email_hard_bounce'
        end as event_type
    from email_events

),

web_matches as (

    select
        customer_keys.golden_id,
        web_events.web_event_id,
        web_events.event_at,
        web_rules.event_type,
        row_number() over (
            partition by web_events.web_event_id
            order by web_rules.rule_order, web_rules.event_type
        ) as match_rank
    from web_events
    inner join customer_keys
        on
            customer_keys.source_system = 'web'
            and customer_keys.source_table = 'anonymous_ids'
            and web_events.anonymous_id = customer_keys.source_record_id
    inner join web_rules
        on
            web_events.event_name = web_rules.event_name
            and (web_rules.form_id is null or web_events.form_id = web_rules.form_id)
            and (
                web_rules.url_pattern is null
                or lower(web_events.page_url) like lower(web_rules.url_pattern)
            )

),

web_typed as (

    select
        golden_id,
        'web' as event_source,
        web_event_id as source_event_id,
        event_at,
        event_type
    from web_matches
    where match_rank = 1

),

order_typed as (

    select
        golden_id,
        'shop' as event_source,
        shop_order_id as source_event_id,
        placed_at as event_at,
        'order_placed' as event_type
    from orders

),

person_events as (

    select * from email_typed
    where event_type is not null
    union all
    select * from web_typed
    union all
    select * from order_typed

),

contact_events as (

    select
        contact_people.crm_contact_id,
        contact_people.golden_id,
        person_events.event_type,
        person_events.event_source,
        person_events.source_event_id,
        person_events.event_at,
        event_points.is_hand_raiser,
        cast(person_events.event_at as date) as event_date,
        cast(event_points.points as double precision) as points,
        cast(event_points.daily_cap as double precision) as daily_cap,
        contact_people.crm_contact_id
        || ':' || person_events.event_source
        || ':' || person_events.source_event_id as lead_score_event_id
    from person_events
    inner join contact_people on person_events.golden_id = contact_people.golden_id
    inner join event_points on person_events.event_type = event_points.event_type

),

final as (

    select
        lead_score_event_id,
        crm_contact_id,
        golden_id,
        event_type,
        event_source,
        source_event_id,
        event_at,
        event_date,
        points,
        daily_cap,
        is_hand_raiser
    from contact_events

)

select * from final
