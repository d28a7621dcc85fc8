with

source as (

    select * from {{ source('helpdesk', 'nps_responses') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as helpdesk_nps_response_id,
        cast(user_id as {{ dbt.type_string() }}) as helpdesk_user_id,

        ---------- strings
        nullif(trim(comment), '') as response_comment,

        ---------- numerics
        {{ safe_cast('rating', dbt.type_int()) }} as nps_score,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
