with

source as (

    select * from {{ source('shop', 'refunds') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_refund_id,
        cast(order_id as {{ dbt.type_string() }}) as shop_order_id,

        ---------- strings
        {{ currency_iso4217('currency') }} as currency,
        reason as refund_reason,

        ---------- numerics
        {{ safe_cast('amount', 'numeric(18, 2)') }} as amount,

        ---------- timestamps
        {{ to_utc_timestamp('refunded_at') }} as refunded_at,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
