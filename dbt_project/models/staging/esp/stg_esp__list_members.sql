with

source as (

    select * from {{ source('esp', 'list_members') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat(['list_id', "':'", 'profile_id']) }} as esp_list_member_id,
        list_id as esp_list_id,
        profile_id as esp_profile_id,

        ---------- timestamps
        {{ to_utc_timestamp('joined_at') }} as joined_at

    from source

)

select * from renamed
