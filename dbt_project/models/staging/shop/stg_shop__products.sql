with

source as (

    select * from {{ source('shop', 'products') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_product_id,
        cast(category_id as {{ dbt.type_string() }}) as shop_category_id,
        sku,

        ---------- strings
        name as product_name,
        {{ currency_iso4217('currency') }} as currency,

        ---------- numerics
        {{ safe_cast('price', 'numeric(18, 2)') }} as price,
        {{ safe_cast('stock_qty', dbt.type_int()) }} as stock_quantity,

        ---------- booleans
        coalesce({{ safe_cast('is_active', dbt.type_boolean()) }}, false) as is_active,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
