{#
    Source record → golden customer, with the record key split back into its parts so a mart
    joins on the source's own ID (`shop_customer_id`, `esp_profile_id`, …). Records that have
    left their source keep their last golden ID, so their history still counts.
#}

with

golden_id_map as (

    select * from {{ ref('golden_id_map') }}

),

split as (

    select
        record_key,
        golden_id,
        split_part(record_key, ':', 1) as source_system,
        split_part(record_key, ':', 2) as source_table
    from golden_id_map

)

select
    record_key,
    golden_id,
    source_system,
    source_table,
    -- IDs may be any text, so everything after the second colon, not a third split part.
    substr(record_key, length(source_system) + length(source_table) + 3) as source_record_id
from split
