with

source as (

    select * from {{ source('helpdesk', 'users') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as helpdesk_user_id,

        ---------- strings
        nullif(trim(name), '') as full_name,
        {{ normalize_email('email') }} as email,
        {{ email_canonical('email') }} as email_canonical,
        phone,
        phone_e164,
        role as user_role,

        ---------- booleans
        role = 'agent' as is_agent,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
