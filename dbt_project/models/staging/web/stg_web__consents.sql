with

source as (

    select * from {{ source('web', 'consent') }}

),

renamed as (

    select

        ---------- ids
        consent_id as web_consent_id,
        anonymous_id,
        nullif(trim(login_id), '') as login_id,

        ---------- strings
        source as consent_source,
        policy_version,

        ---------- booleans
        {{ consent_flag('analytics') }} as is_analytics_granted,
        {{ consent_flag('marketing_email') }} as is_marketing_email_granted,
        {{ consent_flag('sms') }} as is_sms_granted,
        {{ consent_flag('ad_user_data') }} as is_ad_user_data_granted,
        {{ consent_flag('ad_personalization') }} as is_ad_personalization_granted,

        ---------- timestamps
        {{ to_utc_timestamp('event_ts') }} as consented_at

    from source

)

select * from renamed
