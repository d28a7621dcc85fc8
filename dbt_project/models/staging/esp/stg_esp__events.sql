with

source as (

    select * from {{ source('esp', 'events') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as esp_event_id,
        profile_id as esp_profile_id,
        metric_id as esp_metric_id,
        nullif(trim(campaign_id), '') as esp_campaign_id,
        nullif(trim(flow_id), '') as esp_flow_id,
        uuid as event_uuid,

        ---------- strings
        campaign_name,
        subject as email_subject,
        url as clicked_url,
        bounce_type,

        ---------- timestamps
        {{ to_utc_timestamp('datetime') }} as event_at

    from source

)

select * from renamed
