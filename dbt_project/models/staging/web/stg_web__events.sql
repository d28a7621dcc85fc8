with

source as (

    select * from {{ source('web', 'events') }}

),

renamed as (

    select

        ---------- ids
        event_id as web_event_id,
        anonymous_id,
        nullif(trim(login_id), '') as login_id,
        session_id,
        nullif(trim(experiment_id), '') as experiment_id,
        nullif(trim(form_id), '') as form_id,
        nullif(trim(order_number), '') as order_number,
        nullif(trim(sku), '') as sku,

        ---------- strings
        event_name,
        page_url,
        nullif(trim(referrer), '') as referrer,
        nullif(trim(utm_source), '') as utm_source,
        nullif(trim(utm_medium), '') as utm_medium,
        nullif(trim(utm_campaign), '') as utm_campaign,
        nullif(trim(utm_content), '') as utm_content,
        nullif(trim(utm_term), '') as utm_term,
        nullif(trim(gclid), '') as gclid,
        nullif(trim(fbclid), '') as fbclid,
        nullif(trim(variant), '') as experiment_variant,
        {{ normalize_email('email') }} as email,
        {{ email_canonical('email') }} as email_canonical,
        {{ currency_iso4217('currency') }} as currency,

        ---------- numerics
        {{ safe_cast('value', 'numeric(18, 2)') }} as event_value,

        ---------- timestamps
        {{ to_utc_timestamp('event_ts') }} as event_at

    from source

)

select * from renamed
