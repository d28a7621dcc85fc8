{#
    One row per person (golden record): the survived attributes, every source ID attached,
    when the person was first and last seen, and how confident the resolution is. The
    attribute columns follow the `survivorship` var; their lineage is in
    golden_attribute_lineage.
#}

with

golden_id_map as (

    select * from {{ ref('golden_id_map') }}

),

records as (

    select * from {{ ref('int_identity__records') }}

),

golden_attribute_lineage as (

    select * from {{ ref('golden_attribute_lineage') }}

),

golden_confidence as (

    select * from {{ ref('golden_confidence') }}

),

-- The map keeps the last assignment of records that are gone; a customer is what is present.
members as (

    select
        golden_id_map.golden_id,
        records.source_system,
        records.source_record_id,
        records.is_inactive,
        records.created_at,
        records.updated_at
    from golden_id_map
    inner join records on golden_id_map.record_key = records.record_key

),

source_ids as (

    select
        golden_id,
        {{ dbt.listagg(
            "case when source_system = 'crm' then source_record_id end",
            "','",
            'order by source_record_id'
        ) }} as crm_contact_ids,
        {{ dbt.listagg(
            "case when source_system = 'shop' then source_record_id end",
            "','",
            'order by source_record_id'
        ) }} as shop_customer_ids,
        {{ dbt.listagg(
            "case when source_system = 'esp' then source_record_id end",
            "','",
            'order by source_record_id'
        ) }} as esp_profile_ids,
        {{ dbt.listagg(
            "case when source_system = 'helpdesk' then source_record_id end",
            "','",
            'order by source_record_id'
        ) }} as helpdesk_user_ids,
        {{ dbt.listagg(
            "case when source_system = 'web' then source_record_id end",
            "','",
            'order by source_record_id'
        ) }} as web_anonymous_ids,
        count(case when source_system = 'crm' then 1 end) as crm_contact_count,
        count(case when source_system = 'shop' then 1 end) as shop_customer_count,
        count(case when source_system = 'esp' then 1 end) as esp_profile_count,
        count(case when source_system = 'helpdesk' then 1 end) as helpdesk_user_count,
        count(case when source_system = 'web' then 1 end) as web_anonymous_id_count,
        min(created_at) as first_seen_at,
        max(updated_at) as last_seen_at,
        -- Archived CRM contacts and deleted shop accounts are kept; one live record suffices.
        max(case when is_inactive then 0 else 1 end) = 1 as is_active
    from members
    group by 1

),

survived as (

    select
        golden_attribute_lineage.golden_id,
        {{ survivorship_pivot('golden_attribute_lineage') }}
    from golden_attribute_lineage
    group by 1

),

final as (

    select
        source_ids.golden_id,
        {% for column in survivorship_columns() %}
            survived.{{ column }},
        {% endfor %}
        source_ids.crm_contact_ids,
        source_ids.shop_customer_ids,
        source_ids.esp_profile_ids,
        source_ids.helpdesk_user_ids,
        source_ids.web_anonymous_ids,
        source_ids.crm_contact_count,
        source_ids.shop_customer_count,
        source_ids.esp_profile_count,
        source_ids.helpdesk_user_count,
        source_ids.web_anonymous_id_count,
        golden_confidence.record_count,
        golden_confidence.source_system_count,
        source_ids.first_seen_at,
        source_ids.last_seen_at,
        source_ids.is_active,
        golden_confidence.identifier_type_count,
        golden_confidence.identifier_types,
        golden_confidence.deterministic_share,
        golden_confidence.weakest_link_probability,
        golden_confidence.confidence_score
    from source_ids
    left join survived on source_ids.golden_id = survived.golden_id
    left join golden_confidence on source_ids.golden_id = golden_confidence.golden_id

)

select * from final
