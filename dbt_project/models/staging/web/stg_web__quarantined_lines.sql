with

source as (

    select * from {{ source('web', 'quarantine') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            'stream', "':'", 'file_name', "':'", 'cast(line_number as ' ~ dbt.type_string() ~ ')'
        ]) }} as web_quarantined_line_id,

        ---------- strings
        stream as web_stream,
        file_name,
        raw_line,
        reason as quarantine_reason,

        ---------- numerics
        line_number

    from source

)

select * from renamed
