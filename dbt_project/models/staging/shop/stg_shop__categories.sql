with

source as (

    select * from {{ source('shop', 'categories') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_category_id,
        cast(parent_id as {{ dbt.type_string() }}) as parent_shop_category_id,

        ---------- strings
        name as category_name,

        ---------- timestamps
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
