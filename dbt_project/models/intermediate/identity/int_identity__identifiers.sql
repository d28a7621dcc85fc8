{#
    The identifiers of every record, one row per (record, type, value): the deterministic
    evidence of identity resolution. Types are ordered by how strongly they name one person
    (`identifier_priority`, 1 = strongest, from the `identity_identifier_types` seed), as
    Segment and RudderStack rank theirs.
    Blocklists and caps are applied later (int_identity__blocked_values), so that what was
    blocked stays visible.
#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

web_consents as (

    select * from {{ ref('stg_web__consents') }}

),

shop_orders as (

    select * from {{ ref('stg_shop__orders') }}

),

shop_carts as (

    select * from {{ ref('stg_shop__carts') }}

),

identifier_types as (

    select * from {{ ref('identity_identifier_types') }}

),

-- An order number is on the shop customer (account or guest row) that placed the order and
-- on the web device its purchase event came from: it ties the device to the buyer.
order_identifiers as (

    select distinct
        'shop:customers:' || shop_customer_id as record_key,
        'order' as identifier_type,
        order_number as identifier_value
    from shop_orders
    where shop_customer_id is not null and order_number is not null

    union

    select distinct
        'web:anonymous_ids:' || anonymous_id as record_key,
        'order' as identifier_type,
        order_number as identifier_value
    from web_events
    where anonymous_id is not null and order_number is not null and event_name = 'purchase'

),

-- A signed-in cart names the device it was filled on; the device record names itself.
device_identifiers as (

    select distinct
        'shop:customers:' || shop_customer_id as record_key,
        'device' as identifier_type,
        anonymous_id as identifier_value
    from shop_carts
    where
        shop_customer_id is not null
        and shop_customer_id <> '0'
        and anonymous_id is not null

    union

    select distinct
        'web:anonymous_ids:' || anonymous_id as record_key,
        'device' as identifier_type,
        anonymous_id as identifier_value
    from web_events
    where anonymous_id is not null

),

-- A device can see several logins; every one is an identifier of it.
web_device_identifiers as (

    select distinct
        'web:anonymous_ids:' || anonymous_id as record_key,
        'login' as identifier_type,
        login_id as identifier_value
    from web_events
    where anonymous_id is not null and login_id is not null

    union

    select distinct
        'web:anonymous_ids:' || anonymous_id as record_key,
        'login' as identifier_type,
        login_id as identifier_value
    from web_consents
    where anonymous_id is not null and login_id is not null

),

record_identifiers as (

    select
        record_key,
        'email' as identifier_type,
        email_canonical as identifier_value
    from records
    where email_canonical is not null

    union all

    select
        record_key,
        'phone' as identifier_type,
        phone_e164 as identifier_value
    from records
    where phone_e164 is not null

    union all

    select
        record_key,
        'phone' as identifier_type,
        alt_phone_e164 as identifier_value
    from records
    where alt_phone_e164 is not null and alt_phone_e164 <> phone_e164

    union all

    select
        record_key,
        'loyalty' as identifier_type,
        loyalty_id as identifier_value
    from records
    where loyalty_id is not null

    union all

    select
        record_key,
        'login' as identifier_type,
        login_id as identifier_value
    from records
    where login_id is not null and source_system <> 'web'

    union all

    select
        record_key,
        'shop_customer' as identifier_type,
        shop_customer_id as identifier_value
    from records
    where shop_customer_id is not null

    union all

    select
        record_key,
        identifier_type,
        identifier_value
    from web_device_identifiers

    union all

    select
        record_key,
        identifier_type,
        identifier_value
    from order_identifiers

    union all

    select
        record_key,
        identifier_type,
        identifier_value
    from device_identifiers

)

select
    record_identifiers.record_key,
    record_identifiers.identifier_type,
    record_identifiers.identifier_value,
    identifier_types.identifier_priority
from record_identifiers
-- Left join: a type missing from the seed fails the not_null test instead of vanishing.
left join identifier_types
    on record_identifiers.identifier_type = identifier_types.identifier_type
