with

source as (

    select * from {{ source('esp', 'campaigns') }}

),

renamed as (

    select

        ---------- ids
        id as esp_campaign_id,

        ---------- strings
        name as campaign_name,
        status as campaign_status,
        channel,

        ---------- booleans
        coalesce(archived, false) as is_archived,

        ---------- timestamps
        {{ to_utc_timestamp('scheduled_at') }} as scheduled_at,
        {{ to_utc_timestamp('send_time') }} as sent_at,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
