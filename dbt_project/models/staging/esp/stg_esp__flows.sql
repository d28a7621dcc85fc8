with

source as (

    select * from {{ source('esp', 'flows') }}

),

renamed as (

    select

        ---------- ids
        id as esp_flow_id,

        ---------- strings
        name as flow_name,
        status as flow_status,
        trigger_type,

        ---------- booleans
        coalesce(archived, false) as is_archived,

        ---------- timestamps
        {{ to_utc_timestamp('created') }} as created_at,
        {{ to_utc_timestamp('updated') }} as updated_at

    from source

)

select * from renamed
