with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(loyalty_id as {{ dbt.type_string() }}) as loyalty_id,
        nullif(trim(login), '') as login_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        {{ email_canonical('email') }} as email_canonical,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        phone,
        phone_e164,

        ---------- dates
        {{ parse_date('date_of_birth') }} as birth_date,

        ---------- booleans
        coalesce({{ safe_cast('is_guest', dbt.type_boolean()) }}, false) as is_guest,
        coalesce(
            {{ safe_cast('accepts_marketing', dbt.type_boolean()) }}, false
        ) as accepts_marketing,
        deleted_at is not null as is_deleted,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ to_utc_timestamp('deleted_at') }} as deleted_at

    from source

)

select * from renamed
