with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_order_id,
        cast(customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(billing_address_id as {{ dbt.type_string() }}) as billing_shop_address_id,
        cast(shipping_address_id as {{ dbt.type_string() }}) as shipping_shop_address_id,
        order_number,

        ---------- strings
        {{ normalize_email('email') }} as email,
        {{ email_canonical('email') }} as email_canonical,
        phone,
        phone_e164,
        status as order_status,
        {{ currency_iso4217('currency') }} as currency,
        nullif(trim(discount_code), '') as discount_code,
        nullif(trim(gclid), '') as gclid,
        nullif(trim(fbclid), '') as fbclid,
        nullif(trim(utm_source), '') as utm_source,
        nullif(trim(utm_medium), '') as utm_medium,
        nullif(trim(utm_campaign), '') as utm_campaign,
        nullif(trim(utm_content), '') as utm_content,
        nullif(trim(utm_term), '') as utm_term,

        ---------- numerics
        {{ safe_cast('subtotal', 'numeric(18, 2)') }} as subtotal_amount,
        {{ safe_cast('shipping', 'numeric(18, 2)') }} as shipping_amount,
        {{ safe_cast('tax', 'numeric(18, 2)') }} as tax_amount,
        {{ safe_cast('total', 'numeric(18, 2)') }} as total_amount,

        ---------- timestamps
        {{ to_utc_timestamp('placed_at') }} as placed_at,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
