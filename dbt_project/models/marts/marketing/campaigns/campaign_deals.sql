{#
    CRM deals attributed to a campaign: one row per deal whose source campaign (HubSpot's
    deal property `hs_campaign`) is set, valued in the reporting currency, on the golden
    customer of its primary contact. The deal's own campaign property decides attribution,
    not the contact's memberships: it is what HubSpot's closed-loop reports use.

    A deal is valued at the rate of its close date once closed, of its creation date while
    open. Its primary contact is the earliest-created associated contact (HubSpot's v4
    associations do not say which one is primary). A won deal that is the first won deal of
    its golden customer (by close time, any campaign or none) makes a *new* customer: the
    denominator of CAC. Archived deals are deleted in HubSpot and are left out.
#}

with

deals as (

    select * from {{ ref('stg_crm__deals') }}
    where not is_archived

),

associations as (

    select * from {{ ref('stg_crm__associations') }}
    where from_object_type = 'deals' and to_object_type = 'contacts'

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'crm' and source_table = 'contacts'

),

fx_rates as (

    select * from {{ ref('int_marketing__fx_rates') }}

),

deal_contacts as (

    select
        associations.from_crm_object_id as crm_deal_id,
        associations.to_crm_object_id as crm_contact_id,
        customer_keys.golden_id,
        row_number() over (
            partition by associations.from_crm_object_id
            order by contacts.created_at, associations.to_crm_object_id
        ) as contact_rank
    from associations
    left join contacts on associations.to_crm_object_id = contacts.crm_contact_id
    left join customer_keys on associations.to_crm_object_id = customer_keys.source_record_id

),

primary_contacts as (

    select
        crm_deal_id,
        crm_contact_id,
        golden_id
    from deal_contacts
    where contact_rank = 1

),

dated as (

    select
        deals.*,
        primary_contacts.crm_contact_id,
        primary_contacts.golden_id,
        cast(
            case when deals.is_closed then deals.closed_at else deals.created_at end as date
        ) as valued_on
    from deals
    left join primary_contacts on deals.crm_deal_id = primary_contacts.crm_deal_id

),

valued as (

    select
        dated.crm_deal_id,
        dated.crm_campaign_id,
        dated.crm_contact_id,
        dated.golden_id,
        dated.crm_owner_id,
        dated.deal_name,
        dated.deal_stage,
        dated.deal_pipeline,
        dated.is_closed,
        dated.is_won,
        dated.closed_lost_reason,
        dated.currency as original_currency,
        dated.amount,
        fx_rates.rate_to_reporting as fx_rate,
        dated.created_at,
        dated.closed_at,
        cast(dated.amount * fx_rates.rate_to_reporting as decimal(18, 2)) as deal_value,
        dated.is_closed and not dated.is_won as is_lost
    from dated
    left join fx_rates
        on
            dated.currency = fx_rates.currency_code
            and dated.valued_on >= fx_rates.valid_from
            and (fx_rates.valid_to is null or dated.valued_on < fx_rates.valid_to)

),

-- Every deal takes part, so a customer first won outside any campaign is not new later.
won_sequence as (

    select
        crm_deal_id,
        row_number() over (
            partition by golden_id order by closed_at, crm_deal_id
        ) as won_deal_seq_number
    from valued
    where is_won and golden_id is not null

),

final as (

    select
        valued.crm_deal_id,
        valued.crm_campaign_id,
        valued.crm_contact_id,
        valued.golden_id,
        valued.crm_owner_id,
        valued.deal_name,
        valued.deal_stage,
        valued.deal_pipeline,
        valued.is_closed,
        valued.is_won,
        valued.is_lost,
        valued.closed_lost_reason,
        valued.original_currency,
        valued.amount,
        valued.fx_rate,
        valued.deal_value,
        valued.created_at,
        valued.closed_at,
        coalesce(won_sequence.won_deal_seq_number = 1, false) as is_new_customer_deal
    from valued
    left join won_sequence on valued.crm_deal_id = won_sequence.crm_deal_id
    where valued.crm_campaign_id is not null

)

select * from final
