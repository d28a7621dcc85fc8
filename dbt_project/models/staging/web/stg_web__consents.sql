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
        case
            when analytics = 'granted' then true
            when analytics = 'denied' then false
        end as is_analytics_granted,
        case
            when marketing_email = 'granted' then true
            when marketing_email = 'denied' then false
        end as is_marketing_email_granted,
        case
            when sms = 'granted' then true
            when sms = 'denied' then false
        end as is_sms_granted,
        case
            when ad_user_data = 'granted' then true
            when ad_user_data = 'denied' then false
        end as is_ad_user_data_granted,
        case
            when ad_personalization = 'granted' then true
            when ad_personalization = 'denied' then false
        end as is_ad_personalization_granted,

        ---------- timestamps
        {{ to_utc_timestamp('event_ts') }} as consented_at

    from source

)

select * from renamed
