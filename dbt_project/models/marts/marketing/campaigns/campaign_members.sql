{#
    CRM campaign membership: one row per campaign and contact associated with it (HubSpot
    contacts→campaigns associations, many-to-many), on the golden customer, with the
    contact's funnel dates so the campaign mart can count members and the leads it sourced.

    Attribution rule (first touch): a contact is a lead *sourced* by a campaign when it is a
    member and was created on a day the campaign ran (start_date to end_date, inclusive).
    The associations API carries no membership time, so the contact's creation inside the
    campaign window stands for HubSpot's first-touch conversion. When several member
    campaigns ran that day, the one started last (closest to the conversion) wins, then the
    lowest campaign ID, so every contact has at most one source campaign. Archived contacts
    are deleted in HubSpot and leave its campaign reports, so they are left out here too.
#}

with

campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where not is_archived

),

associations as (

    select * from {{ ref('stg_crm__associations') }}
    where from_object_type = 'contacts' and to_object_type = 'campaigns'

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'crm' and source_table = 'contacts'

),

memberships as (

    select distinct
        associations.to_crm_object_id as crm_campaign_id,
        associations.from_crm_object_id as crm_contact_id
    from associations
    inner join contacts on associations.from_crm_object_id = contacts.crm_contact_id
    inner join campaigns on associations.to_crm_object_id = campaigns.crm_campaign_id

),

-- Member campaigns running on the day the contact was created, latest start first.
source_candidates as (

    select
        memberships.crm_contact_id,
        memberships.crm_campaign_id,
        row_number() over (
            partition by memberships.crm_contact_id
            order by campaigns.start_date desc, campaigns.crm_campaign_id asc
        ) as candidate_rank
    from memberships
    inner join contacts on memberships.crm_contact_id = contacts.crm_contact_id
    inner join campaigns on memberships.crm_campaign_id = campaigns.crm_campaign_id
    where
        cast(contacts.created_at as date) >= campaigns.start_date
        and (
            campaigns.end_date is null
            or cast(contacts.created_at as date) <= campaigns.end_date
        )

),

source_campaigns as (

    select
        crm_contact_id,
        crm_campaign_id
    from source_candidates
    where candidate_rank = 1

),

final as (

    select
        {{ dbt.concat(['memberships.crm_campaign_id', "':'", 'memberships.crm_contact_id']) }}
            as campaign_member_id,
        memberships.crm_campaign_id,
        memberships.crm_contact_id,
        customer_keys.golden_id,
        contacts.lifecycle_stage,
        contacts.created_at as contact_created_at,
        contacts.became_lead_at,
        contacts.became_marketing_qualified_lead_at,
        contacts.became_sales_qualified_lead_at,
        contacts.became_customer_at,
        source_campaigns.crm_contact_id is not null as is_attributed_source,
        contacts.became_marketing_qualified_lead_at is not null as is_marketing_qualified,
        contacts.became_sales_qualified_lead_at is not null as is_sales_qualified,
        contacts.became_customer_at is not null as is_customer
    from memberships
    inner join contacts on memberships.crm_contact_id = contacts.crm_contact_id
    left join customer_keys on memberships.crm_contact_id = customer_keys.source_record_id
    left join source_campaigns
        on
            memberships.crm_contact_id = source_campaigns.crm_contact_id
            and memberships.crm_campaign_id = source_campaigns.crm_campaign_id

)

select * from final
