{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns'
    )
}}

{#
    One row per source record whose person asked to be forgotten, kept for good: a source
    purges an erased record (and its email) sooner or later, and the person may come back
    through another source, so the suppression must outlive the record. Rows are only ever
    added, a full refresh keeps them, and they hold no plaintext PII: the golden customer at
    erasure and the SHA-256 of the canonical email, the keys customer_suppressions matches a
    returning person by (not the phone: a household landline would suppress the family).
    The only erasure signal in the sources is a deleted shop account: the CRM archives,
    which is reversible, and the helpdesk and ESP expose no deletion.
#}

with

shop_customers as (

    select * from {{ ref('stg_shop__customers') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'shop' and source_table = 'customers'

),

erased as (

    select
        customer_keys.record_key as erased_record_key,
        customer_keys.golden_id,
        'shop_customer_deleted' as erasure_source,
        coalesce(shop_customers.deleted_at, shop_customers.updated_at) as erased_at,
        case
            when shop_customers.email_canonical is not null
                then {{ sha256_hex('shop_customers.email_canonical') }}
        end as email_sha256
    from shop_customers
    inner join customer_keys on shop_customers.shop_customer_id = customer_keys.source_record_id
    where shop_customers.is_deleted

)

select erased.* from erased
{% if is_incremental() %}
    left join {{ this }} as recorded on erased.erased_record_key = recorded.erased_record_key
    where recorded.erased_record_key is null
{% endif %}
