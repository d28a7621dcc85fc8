with

source as (

    select * from {{ source('crm', 'campaigns') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as crm_campaign_id,

        ---------- strings
        nullif(trim(hs_name), '') as campaign_name,
        hs_campaign_status as campaign_status,
        {{ currency_iso4217('hs_currency_code') }} as currency,

        ---------- numerics
        {{ safe_cast('hs_budget_items_sum_amount', 'numeric(18, 2)') }} as budget_amount,
        {{ safe_cast('hs_expected_revenue', 'numeric(18, 2)') }} as expected_revenue_amount,

        ---------- dates
        {{ safe_cast('hs_start_date', 'date') }} as start_date,
        {{ safe_cast('hs_end_date', 'date') }} as end_date,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
