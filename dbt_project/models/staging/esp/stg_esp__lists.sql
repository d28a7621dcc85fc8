with

source as (

    select * from {{ source('esp', 'lists') }}

),

renamed as (

    select

        ---------- ids
        id as esp_list_id,

        ---------- strings
        name as list_name,
        opt_in_process,

        ---------- timestamps
        {{ to_utc_timestamp('created') }} as created_at,
        {{ to_utc_timestamp('updated') }} as updated_at

    from source

)

select * from renamed
