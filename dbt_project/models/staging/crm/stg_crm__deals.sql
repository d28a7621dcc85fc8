with

source as (

    select * from {{ source('crm', 'deals') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as crm_deal_id,
        cast(hubspot_owner_id as {{ dbt.type_string() }}) as crm_owner_id,
        cast(hs_campaign as {{ dbt.type_string() }}) as crm_campaign_id,

        ---------- strings
        nullif(trim(dealname), '') as deal_name,
        dealstage as deal_stage,
        pipeline as deal_pipeline,
        nullif(trim(closed_lost_reason), '') as closed_lost_reason,
        {{ currency_iso4217('deal_currency_code') }} as currency,

        ---------- numerics
        {{ safe_cast('amount', 'numeric(18, 2)') }} as amount,

        ---------- booleans
        dealstage in ('closedwon', 'closedlost') as is_closed,
        dealstage = 'closedwon' as is_won,
        coalesce(archived, false) as is_archived,

        ---------- timestamps
        {{ to_utc_timestamp('closedate') }} as closed_at,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ to_utc_timestamp('archived_at') }} as archived_at

    from source

)

select * from renamed
