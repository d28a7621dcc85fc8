with

source as (

    select * from {{ source('helpdesk', 'satisfaction_ratings') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as helpdesk_satisfaction_rating_id,
        cast(ticket_id as {{ dbt.type_string() }}) as helpdesk_ticket_id,
        cast(requester_id as {{ dbt.type_string() }}) as requester_helpdesk_user_id,

        ---------- strings
        score as rating,
        nullif(trim(comment), '') as rating_comment,

        ---------- booleans
        score = 'good' as is_good,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
