with

source as (

    select * from {{ source('esp', 'profiles') }}

),

renamed as (

    select

        ---------- ids
        id as esp_profile_id,
        nullif(trim(external_id), '') as external_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        {{ email_canonical('email') }} as email_canonical,
        phone_number as phone,
        phone_number_e164 as phone_e164,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(organization), '') as organization_name,
        nullif(trim(title), '') as job_title,
        nullif(trim(address1), '') as street,
        nullif(trim(city), '') as city,
        nullif(trim(zip), '') as postal_code,
        nullif(trim(country), '') as country_name,
        {{ country_iso2('country') }} as country_code,
        email_consent,
        sms_consent,

        ---------- booleans
        phone_number_is_valid as is_phone_valid,
        coalesce(email_can_receive_marketing, false) as can_receive_email_marketing,
        coalesce(sms_can_receive_marketing, false) as can_receive_sms_marketing,

        ---------- timestamps
        {{ to_utc_timestamp('email_consent_timestamp') }} as email_consent_changed_at,
        {{ to_utc_timestamp('sms_consent_timestamp') }} as sms_consent_changed_at,
        {{ to_utc_timestamp('created') }} as created_at,
        {{ to_utc_timestamp('updated') }} as updated_at

    from source

)

select * from renamed
