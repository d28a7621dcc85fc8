{#
    Who is in which marketing program, CRM and marketing automation side by side: one row
    per golden customer and program, where a program is
    - a CRM campaign (`crm_campaign`): membership assigned in HubSpot (associations);
    - an ESP list (`esp_list`): the person subscribed or was added to a Klaviyo list;
    - an ESP flow (`esp_flow`): behaviour put the person into a Klaviyo flow (welcome,
      abandoned cart, post-purchase…), seen from the flow's messages to them.
    Several source records of one person (two CRM contacts, two ESP profiles) collapse into
    one row. HubSpot's associations carry no membership time, so `entered_at` is NULL for
    CRM campaigns; for lists it is the join time, for flows the first flow message.
#}

with

campaign_members as (

    select * from {{ ref('campaign_members') }}

),

crm_campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

list_members as (

    select * from {{ ref('stg_esp__list_members') }}

),

lists as (

    select * from {{ ref('stg_esp__lists') }}

),

events as (

    select * from {{ ref('stg_esp__events') }}
    where esp_flow_id is not null

),

flows as (

    select * from {{ ref('stg_esp__flows') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'esp' and source_table = 'profiles'

),

crm_campaign_rows as (

    select
        campaign_members.golden_id,
        'crm_campaign' as program_kind,
        campaign_members.crm_campaign_id as program_id,
        crm_campaigns.campaign_name as program_name,
        crm_campaigns.campaign_status as program_status,
        'assigned' as membership_basis,
        cast(null as {{ dbt.type_string() }}) as trigger_type,
        'crm' as source_system,
        campaign_members.crm_contact_id as source_record_id,
        cast(null as {{ dbt.type_timestamp() }}) as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_activity_at
    from campaign_members
    inner join crm_campaigns on campaign_members.crm_campaign_id = crm_campaigns.crm_campaign_id

),

esp_list_rows as (

    select
        customer_keys.golden_id,
        'esp_list' as program_kind,
        list_members.esp_list_id as program_id,
        lists.list_name as program_name,
        cast(null as {{ dbt.type_string() }}) as program_status,
        'subscribed' as membership_basis,
        cast(null as {{ dbt.type_string() }}) as trigger_type,
        'esp' as source_system,
        list_members.esp_profile_id as source_record_id,
        list_members.joined_at as entered_at,
        list_members.joined_at as last_activity_at
    from list_members
    inner join customer_keys on list_members.esp_profile_id = customer_keys.source_record_id
    left join lists on list_members.esp_list_id = lists.esp_list_id

),

esp_flow_rows as (

    select
        customer_keys.golden_id,
        'esp_flow' as program_kind,
        events.esp_flow_id as program_id,
        flows.flow_name as program_name,
        flows.flow_status as program_status,
        'triggered' as membership_basis,
        flows.trigger_type,
        'esp' as source_system,
        events.esp_profile_id as source_record_id,
        min(events.event_at) as entered_at,
        max(events.event_at) as last_activity_at
    from events
    inner join customer_keys on events.esp_profile_id = customer_keys.source_record_id
    left join flows on events.esp_flow_id = flows.esp_flow_id
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9

),

unioned as (

    select * from crm_campaign_rows
    union all
    select * from esp_list_rows
    union all
    select * from esp_flow_rows

),

final as (

    select
        {{ dbt.concat(['program_kind', "':'", 'program_id', "':'", 'golden_id']) }}
            as automation_membership_id,
        golden_id,
        program_kind,
        program_id,
        program_name,
        program_status,
        membership_basis,
        trigger_type,
        source_system,
        count(distinct source_record_id) as source_record_count,
        min(entered_at) as entered_at,
        max(last_activity_at) as last_activity_at
    from unioned
    where golden_id is not null
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9

)

select * from final
