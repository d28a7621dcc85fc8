{#
    Every consent decision any source recorded, one row per decision × channel × purpose,
    attached to its golden customer: the input of the consent precedence in
    customer_consent. Only decisions are events: an ESP profile that never subscribed or a
    shop checkout with the marketing box left unticked has no consent, which is the default,
    not a withdrawal. Unsubscribes and spam complaints are withdrawals of email marketing
    (the ESP unsubscribes a complainer). The CRM carries no consent property, so it has no
    events here.
#}

with

web_consents as (

    select * from {{ ref('stg_web__consents') }}

),

esp_profiles as (

    select * from {{ ref('stg_esp__profiles') }}

),

esp_events as (

    select * from {{ ref('stg_esp__events') }}

),

esp_metrics as (

    select * from {{ ref('stg_esp__metrics') }}

),

shop_customers as (

    select * from {{ ref('stg_shop__customers') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}

),

-- A decision taken while signed in belongs to the account holder even on a shared device;
-- otherwise to whoever the device resolved to.
cmp_decisions as (

    select
        web_consents.web_consent_id,
        web_consents.policy_version,
        web_consents.consented_at,
        web_consents.is_analytics_granted,
        web_consents.is_marketing_email_granted,
        web_consents.is_sms_granted,
        web_consents.is_ad_user_data_granted,
        web_consents.is_ad_personalization_granted,
        'cmp_' || web_consents.consent_source as consent_source,
        coalesce(login_keys.golden_id, device_keys.golden_id) as golden_id
    from web_consents
    left join shop_customers
        on
            web_consents.login_id = shop_customers.login_id
            and not shop_customers.is_guest
    left join customer_keys as login_keys
        on
            login_keys.source_system = 'shop'
            and login_keys.source_table = 'customers'
            and shop_customers.shop_customer_id = login_keys.source_record_id
    left join customer_keys as device_keys
        on
            device_keys.source_system = 'web'
            and device_keys.source_table = 'anonymous_ids'
            and web_consents.anonymous_id = device_keys.source_record_id

),

cmp_events as (

    {% for channel, purpose, flag in [
        ('email', 'marketing', 'is_marketing_email_granted'),
        ('sms', 'marketing', 'is_sms_granted'),
        ('ads', 'ad_user_data', 'is_ad_user_data_granted'),
        ('ads', 'ad_personalization', 'is_ad_personalization_granted'),
        ('web', 'analytics', 'is_analytics_granted'),
    ] %}
        select
            golden_id,
            '{{ channel }}' as channel,
            '{{ purpose }}' as purpose,
            {{ flag }} as is_granted,
            consented_at as decided_at,
            consent_source,
            'web' as source_system,
            web_consent_id as source_record_id,
            policy_version
        from cmp_decisions
        where {{ flag }} is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

esp_profile_keys as (

    select
        esp_profiles.*,
        customer_keys.golden_id
    from esp_profiles
    inner join customer_keys
        on
            customer_keys.source_system = 'esp'
            and customer_keys.source_table = 'profiles'
            and esp_profiles.esp_profile_id = customer_keys.source_record_id

),

-- The profile's current subscription per channel, as of its last change. NEVER_SUBSCRIBED
-- is no decision.
esp_profile_events as (

    {% for channel in ['email', 'sms'] %}
        select
            golden_id,
            '{{ channel }}' as channel,
            'marketing' as purpose,
            {{ channel }}_consent = 'SUBSCRIBED' as is_granted,
            coalesce({{ channel }}_consent_changed_at, updated_at) as decided_at,
            'esp_profile' as consent_source,
            'esp' as source_system,
            esp_profile_id as source_record_id,
            cast(null as {{ dbt.type_string() }}) as policy_version
        from esp_profile_keys
        where {{ channel }}_consent in ('SUBSCRIBED', 'UNSUBSCRIBED')
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

esp_withdrawal_events as (

    select
        esp_profile_keys.golden_id,
        'email' as channel,
        'marketing' as purpose,
        false as is_granted,
        esp_events.event_at as decided_at,
        case
            when esp_metrics.metric_name = 'Unsubscribed' then 'esp_unsubscribe_event'
            else 'esp_spam_complaint'
        end as consent_source,
        'esp' as source_system,
        esp_events.esp_event_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as policy_version
    from esp_events
    inner join esp_metrics on esp_events.esp_metric_id = esp_metrics.esp_metric_id
    inner join esp_profile_keys on esp_events.esp_profile_id = esp_profile_keys.esp_profile_id
    where esp_metrics.metric_name in ('Unsubscribed', 'Marked Email as Spam')

),

-- The checkbox is ticked at checkout or sign-up; an unticked box is the default, no decision.
shop_events as (

    select
        customer_keys.golden_id,
        'email' as channel,
        'marketing' as purpose,
        true as is_granted,
        shop_customers.created_at as decided_at,
        'shop_checkbox' as consent_source,
        'shop' as source_system,
        shop_customers.shop_customer_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as policy_version
    from shop_customers
    inner join customer_keys
        on
            customer_keys.source_system = 'shop'
            and customer_keys.source_table = 'customers'
            and shop_customers.shop_customer_id = customer_keys.source_record_id
    where shop_customers.accepts_marketing

),

unioned as (

    select * from cmp_events
    union all
    select * from esp_profile_events
    union all
    select * from esp_withdrawal_events
    union all
    select * from shop_events

),

keyed as (

    select
        *,
        consent_source || ':' || source_record_id || ':' || channel || ':' || purpose
            as consent_event_id
    from unioned
    where golden_id is not null and decided_at is not null

)

select
    consent_event_id,
    golden_id,
    channel,
    purpose,
    is_granted,
    decided_at,
    consent_source,
    source_system,
    source_record_id,
    policy_version
from keyed
