with

source as (

    select * from {{ source('esp', 'metrics') }}

),

renamed as (

    select

        ---------- ids
        id as esp_metric_id,

        ---------- strings
        name as metric_name,
        integration_name,
        integration_key,

        ---------- timestamps
        {{ to_utc_timestamp('created') }} as created_at,
        {{ to_utc_timestamp('updated') }} as updated_at

    from source

)

select * from renamed
