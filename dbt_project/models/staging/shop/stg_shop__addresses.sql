with

source as (

    select * from {{ source('shop', 'addresses') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_address_id,
        cast(customer_id as {{ dbt.type_string() }}) as shop_customer_id,

        ---------- strings
        kind as address_kind,
        nullif(trim(street), '') as street,
        nullif(trim(city), '') as city,
        nullif(trim(postcode), '') as postal_code,
        {{ country_iso2('country_code') }} as country_code,
        phone,
        phone_e164,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
