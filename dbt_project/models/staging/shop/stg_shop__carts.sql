with

source as (

    select * from {{ source('shop', 'carts') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_cart_id,
        cast(customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        anonymous_id,

        ---------- strings
        status as cart_status,
        {{ currency_iso4217('currency') }} as currency,

        ---------- numerics
        {{ safe_cast('value', 'numeric(18, 2)') }} as cart_value,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
