with

source as (

    select * from {{ source('crm', 'companies') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as crm_company_id,
        cast(hubspot_owner_id as {{ dbt.type_string() }}) as crm_owner_id,

        ---------- strings
        nullif(trim(name), '') as company_name,
        nullif(lower(trim(domain)), '') as company_domain,
        nullif(trim(industry), '') as industry,
        nullif(trim(city), '') as city,
        nullif(trim(country), '') as country_name,
        {{ country_iso2('country') }} as country_code,

        ---------- numerics
        {{ safe_cast('numberofemployees', dbt.type_bigint()) }} as employee_count,
        {{ safe_cast('annualrevenue', 'numeric(18, 2)') }} as annual_revenue,

        ---------- booleans
        coalesce(archived, false) as is_archived,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ to_utc_timestamp('archived_at') }} as archived_at

    from source

)

select * from renamed
