with

source as (

    select * from {{ source('helpdesk', 'tickets') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as helpdesk_ticket_id,
        cast(requester_id as {{ dbt.type_string() }}) as requester_helpdesk_user_id,
        cast(assignee_id as {{ dbt.type_string() }}) as assignee_helpdesk_user_id,

        ---------- strings
        subject,
        status as ticket_status,
        priority,
        channel,
        -- tags land as a JSON array; a comma-separated list keeps JSON functions (which
        -- differ per engine) out of SQL. Zendesk tags never contain spaces or commas.
        nullif(
            {{ regex_replace_all('cast(tags as ' ~ dbt.type_string() ~ ')', '[\\[\\]" ]', '') }},
            ''
        ) as tags,

        ---------- booleans
        status = 'deleted' as is_deleted,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ to_utc_timestamp('first_reply_at') }} as first_replied_at,
        {{ to_utc_timestamp('solved_at') }} as solved_at

    from source

)

select * from renamed
