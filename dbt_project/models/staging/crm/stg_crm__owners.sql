with

source as (

    select * from {{ source('crm', 'owners') }}

),

renamed as (

    select

        ---------- ids
        cast(id as {{ dbt.type_string() }}) as crm_owner_id,
        cast(user_id as {{ dbt.type_string() }}) as crm_user_id,
        cast(team_id as {{ dbt.type_string() }}) as crm_team_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        upper(trim(region)) as region_code,

        ---------- booleans
        coalesce(archived, false) as is_archived,

        ---------- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at

    from source

)

select * from renamed
