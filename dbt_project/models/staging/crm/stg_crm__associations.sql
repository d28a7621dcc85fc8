with

source as (

    select * from {{ source('crm', 'associations') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat(
            ['from_type', "':'", 'from_id', "'->'", 'to_type', "':'", 'to_id']
        ) }} as crm_association_id,
        cast(from_id as {{ dbt.type_string() }}) as from_crm_object_id,
        cast(to_id as {{ dbt.type_string() }}) as to_crm_object_id,
        cast(association_type_id as {{ dbt.type_string() }}) as association_type_id,

        ---------- strings
        from_type as from_object_type,
        to_type as to_object_type,
        association_category

    from source

)

select * from renamed
