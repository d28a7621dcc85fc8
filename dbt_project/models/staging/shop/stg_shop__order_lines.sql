with

source as (

    select * from {{ source('shop', 'order_lines') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_order_line_id,
        cast(order_id as {{ dbt.type_string() }}) as shop_order_id,
        cast(product_id as {{ dbt.type_string() }}) as shop_product_id,
        sku,

        ---------- numerics
        {{ safe_cast('quantity', dbt.type_int()) }} as quantity,
        {{ safe_cast('unit_price', 'numeric(18, 2)') }} as unit_price,
        {{ safe_cast('discount', 'numeric(18, 2)') }} as discount,
        {{ safe_cast('line_total', 'numeric(18, 2)') }} as line_total,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
