with

source as (

    select * from {{ source('crm', 'contacts') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as crm_contact_id,
        cast(associatedcompanyid as {{ dbt.type_string() }}) as crm_company_id,
        cast(hubspot_owner_id as {{ dbt.type_string() }}) as crm_owner_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        {{ email_canonical('email') }} as email_canonical,
        nullif(trim(firstname), '') as first_name,
        nullif(trim(lastname), '') as last_name,
        phone,
        phone_e164,
        mobilephone as mobile_phone,
        mobilephone_e164 as mobile_phone_e164,
        nullif(trim(jobtitle), '') as job_title,
        nullif(trim(company), '') as company_name,
        lifecyclestage as lifecycle_stage,
        hs_lead_status as lead_status,
        hs_analytics_source as analytics_source,
        nullif(trim(address), '') as street,
        nullif(trim(city), '') as city,
        nullif(trim(zip), '') as postal_code,
        nullif(trim(country), '') as country_name,
        {{ country_iso2('country') }} as country_code,

        ---------- dates
        {{ parse_date('date_of_birth') }} as birth_date,

        ---------- booleans
        phone_is_valid as is_phone_valid,
        mobilephone_is_valid as is_mobile_phone_valid,
        coalesce(archived, false) as is_archived,

        ---------- timestamps
        {{ to_utc_timestamp('hs_lifecyclestage_subscriber_date') }} as became_subscriber_at,
        {{ to_utc_timestamp('hs_lifecyclestage_lead_date') }} as became_lead_at,
        {{ to_utc_timestamp('hs_lifecyclestage_marketingqualifiedlead_date') }}
            as became_marketing_qualified_lead_at,
        {{ to_utc_timestamp('hs_lifecyclestage_salesqualifiedlead_date') }}
            as became_sales_qualified_lead_at,
        {{ to_utc_timestamp('hs_lifecyclestage_opportunity_date') }} as became_opportunity_at,
        {{ to_utc_timestamp('hs_lifecyclestage_customer_date') }} as became_customer_at,
        {{ to_utc_timestamp('hs_sa_first_engagement_date') }} as first_sales_engagement_at,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ to_utc_timestamp('archived_at') }} as archived_at

    from source

)

select * from renamed
