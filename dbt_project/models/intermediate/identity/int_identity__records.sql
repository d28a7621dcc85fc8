{#
    Every person-bearing source record, one row each, in one shape: the input of identity
    resolution. `record_key` is `<system>:<table>:<id>` and never changes for a record.
    Only comparison keys are derived here; the values as typed stay for survivorship.
#}

with

crm_contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

shop_customers as (

    select * from {{ ref('stg_shop__customers') }}

),

shop_addresses as (

    select * from {{ ref('stg_shop__addresses') }}

),

esp_profiles as (

    select * from {{ ref('stg_esp__profiles') }}

),

helpdesk_users as (

    select * from {{ ref('stg_helpdesk__users') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

web_consents as (

    select * from {{ ref('stg_web__consents') }}

),

-- A shop customer's own address: billing first, then the most recently updated.
shop_address_ranked as (

    select
        shop_customer_id,
        street,
        city,
        postal_code,
        country_code,
        phone_e164,
        row_number() over (
            partition by shop_customer_id
            order by
                case when address_kind = 'billing' then 0 else 1 end,
                updated_at desc,
                shop_address_id desc
        ) as address_rank
    from shop_addresses
    where shop_customer_id is not null

),

-- Web visitors are devices (anonymous ids); what identifies a person on one is the login
-- used on it and the email typed into a form, collected in int_identity__identifiers.
web_device_events as (

    select
        anonymous_id,
        login_id,
        email,
        email_canonical,
        event_at
    from web_events

    union all

    select
        anonymous_id,
        login_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as email_canonical,
        consented_at as event_at
    from web_consents

),

web_devices as (

    select
        anonymous_id,
        max(login_id) as login_id,
        max(email) as email,
        max(email_canonical) as email_canonical,
        min(event_at) as created_at,
        max(event_at) as updated_at
    from web_device_events
    where anonymous_id is not null
    group by 1

),

unioned as (

    select
        'crm' as source_system,
        'contacts' as source_table,
        crm_contact_id as source_record_id,
        email,
        email_canonical,
        coalesce(mobile_phone_e164, phone_e164) as phone_e164,
        case when mobile_phone_e164 is not null then phone_e164 end as alt_phone_e164,
        first_name,
        last_name,
        birth_date,
        street,
        city,
        postal_code,
        country_code,
        cast(null as {{ dbt.type_string() }}) as login_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_id,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        is_archived as is_inactive,
        created_at,
        updated_at
    from crm_contacts

    union all

    select
        'shop' as source_system,
        'customers' as source_table,
        shop_customers.shop_customer_id as source_record_id,
        shop_customers.email,
        shop_customers.email_canonical,
        coalesce(shop_customers.phone_e164, shop_address_ranked.phone_e164) as phone_e164,
        case
            when shop_customers.phone_e164 is not null
                then shop_address_ranked.phone_e164
        end as alt_phone_e164,
        shop_customers.first_name,
        shop_customers.last_name,
        shop_customers.birth_date,
        shop_address_ranked.street,
        shop_address_ranked.city,
        shop_address_ranked.postal_code,
        shop_address_ranked.country_code,
        shop_customers.login_id,
        shop_customers.loyalty_id,
        -- Guest checkouts are rows of their own; only accounts are referenced elsewhere.
        case
            when not shop_customers.is_guest then shop_customers.shop_customer_id
        end as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        shop_customers.is_deleted as is_inactive,
        shop_customers.created_at,
        shop_customers.updated_at
    from shop_customers
    left join shop_address_ranked
        on
            shop_customers.shop_customer_id = shop_address_ranked.shop_customer_id
            and shop_address_ranked.address_rank = 1

    union all

    select
        'esp' as source_system,
        'profiles' as source_table,
        esp_profile_id as source_record_id,
        email,
        email_canonical,
        phone_e164,
        cast(null as {{ dbt.type_string() }}) as alt_phone_e164,
        first_name,
        last_name,
        cast(null as date) as birth_date,
        street,
        city,
        postal_code,
        country_code,
        cast(null as {{ dbt.type_string() }}) as login_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_id,
        -- Klaviyo's external_id is the shop's customer id for synced accounts.
        external_id as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        false as is_inactive,
        created_at,
        updated_at
    from esp_profiles

    union all

    select
        'helpdesk' as source_system,
        'users' as source_table,
        helpdesk_user_id as source_record_id,
        email,
        email_canonical,
        phone_e164,
        cast(null as {{ dbt.type_string() }}) as alt_phone_e164,
        -- Zendesk keeps one name field: the first word is the given name, the rest the surname.
        {{ dbt.split_part('full_name', "' '", 1) }} as first_name,
        nullif(
            trim(substr(full_name, length({{ dbt.split_part('full_name', "' '", 1) }}) + 2)),
            ''
        ) as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as street,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as login_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_id,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        false as is_inactive,
        created_at,
        updated_at
    from helpdesk_users
    where not is_agent

    union all

    select
        'web' as source_system,
        'anonymous_ids' as source_table,
        anonymous_id as source_record_id,
        email,
        email_canonical,
        cast(null as {{ dbt.type_string() }}) as phone_e164,
        cast(null as {{ dbt.type_string() }}) as alt_phone_e164,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as street,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as country_code,
        login_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_id,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        anonymous_id,
        false as is_inactive,
        created_at,
        updated_at
    from web_devices

),

-- Domain aliases and well-known domain typos fold into one mailbox (googlemail → gmail).
email_domain_aliases as (

    select * from {{ ref('email_domain_aliases') }}

),

keyed as (

    select
        unioned.source_system || ':' || unioned.source_table || ':' || unioned.source_record_id
            as record_key,
        unioned.source_system,
        unioned.source_table,
        unioned.source_record_id,
        unioned.email,
        case
            when email_domain_aliases.canonical_domain is not null
                then
                    -- Gmail ignores dots: a typo'd gmail domain was not stripped of them yet.
                    case
                        when email_domain_aliases.canonical_domain = 'gmail.com'
                            then replace(
                                {{ dbt.split_part('unioned.email_canonical', "'@'", 1) }}, '.', ''
                            )
                        else {{ dbt.split_part('unioned.email_canonical', "'@'", 1) }}
                    end
                    || '@' || email_domain_aliases.canonical_domain
            else unioned.email_canonical
        end as email_canonical,
        unioned.phone_e164,
        unioned.alt_phone_e164,
        unioned.first_name,
        unioned.last_name,
        -- An address typed into a name field (helpdesk users created from an email) names
        -- nobody; as a key it would contradict the person's real name.
        case
            when unioned.first_name not like '%@%'
                then {{ name_key('unioned.first_name') }}
        end as first_name_key,
        case
            when unioned.last_name not like '%@%'
                then {{ name_key('unioned.last_name') }}
        end as last_name_key,
        unioned.birth_date,
        unioned.street,
        unioned.city,
        unioned.postal_code,
        unioned.country_code,
        {{ text_key('unioned.street') }} as street_key,
        {{ text_key('unioned.city') }} as city_key,
        {{ postal_code_key('unioned.postal_code') }} as postal_code_key,
        unioned.login_id,
        unioned.loyalty_id,
        unioned.shop_customer_id,
        unioned.anonymous_id,
        unioned.is_inactive,
        unioned.created_at,
        unioned.updated_at
    from unioned
    left join email_domain_aliases
        on {{ dbt.split_part('unioned.email_canonical', "'@'", 2) }} = email_domain_aliases.domain

)

select
    *,
    {{ sha256_hex('email_canonical') }} as email_sha256
from keyed
