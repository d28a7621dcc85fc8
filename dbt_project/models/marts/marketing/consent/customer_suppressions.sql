{#
    Why a golden customer must not be contacted: one row per customer × reason × channel
    scope, with when it started, where it came from and whether it stops every send or only
    promotions (seeds/suppression_reasons.csv). Consent says what the person allowed; this
    says what must not go out whatever consent says. Marketing syncs read it through
    customer_consent.is_sendable; transactional sends (order mail) read the rows whose
    `applies_to` is `all`. An unsubscribe or spam complaint stops once the person
    re-subscribes at the ESP; a hard bounce and an erasure never stop. Erasures also match a
    person who came back under another golden ID by the hash of an erased email, and carry
    no plaintext PII.
#}

with

customers as (

    select golden_id from {{ ref('customers') }}

),

consent_events as (

    select * from {{ ref('int_consent__events') }}

),

esp_events as (

    select * from {{ ref('stg_esp__events') }}

),

esp_metrics as (

    select * from {{ ref('stg_esp__metrics') }}

),

helpdesk_tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}

),

identity_records as (

    select * from {{ ref('int_identity__records') }}

),

identity_blocked_values as (

    select * from {{ ref('identity_blocked_values') }}

),

erasure_tombstones as (

    select * from {{ ref('erasure_tombstones') }}

),

suppression_reasons as (

    select * from {{ ref('suppression_reasons') }}

),

hard_bounces as (

    select
        customer_keys.golden_id,
        'hard_bounce' as reason,
        'email' as channel,
        'esp_bounce_event' as suppression_source,
        esp_events.esp_event_id as source_record_id,
        esp_events.event_at
    from esp_events
    inner join esp_metrics on esp_events.esp_metric_id = esp_metrics.esp_metric_id
    inner join customer_keys
        on
            customer_keys.source_system = 'esp'
            and customer_keys.source_table = 'profiles'
            and esp_events.esp_profile_id = customer_keys.source_record_id
    where esp_metrics.metric_name = 'Bounced Email' and esp_events.bounce_type = 'hard'

),

-- A subscription the ESP recorded after an opt-out is the person opting back in there.
esp_resubscriptions as (

    select
        golden_id,
        channel,
        max(decided_at) as resubscribed_at
    from consent_events
    where consent_source = 'esp_profile' and is_granted
    group by 1, 2

),

esp_opt_outs as (

    select
        consent_events.golden_id,
        consent_events.channel,
        consent_events.consent_source as suppression_source,
        consent_events.source_record_id,
        consent_events.decided_at as event_at,
        case
            when consent_events.consent_source = 'esp_spam_complaint' then 'spam_complaint'
            else 'unsubscribed'
        end as reason
    from consent_events
    left join esp_resubscriptions
        on
            consent_events.golden_id = esp_resubscriptions.golden_id
            and consent_events.channel = esp_resubscriptions.channel
    where
        consent_events.source_system = 'esp'
        and not consent_events.is_granted
        and (
            esp_resubscriptions.resubscribed_at is null
            or consent_events.decided_at >= esp_resubscriptions.resubscribed_at
        )

),

-- Zendesk's unsolved statuses; a solved ticket no longer holds promotions back.
open_tickets as (

    select
        customer_keys.golden_id,
        'open_support_ticket' as reason,
        'all' as channel,
        'helpdesk_ticket' as suppression_source,
        helpdesk_tickets.helpdesk_ticket_id as source_record_id,
        helpdesk_tickets.created_at as event_at
    from helpdesk_tickets
    inner join customer_keys
        on
            customer_keys.source_system = 'helpdesk'
            and customer_keys.source_table = 'users'
            and helpdesk_tickets.requester_helpdesk_user_id = customer_keys.source_record_id
    where
        helpdesk_tickets.ticket_status in ('new', 'open', 'pending', 'hold')
        and not helpdesk_tickets.is_deleted

),

-- Placeholder and widely shared addresses never tie a returning person to an erasure.
blocked_email_hashes as (

    select {{ sha256_hex('identifier_value') }} as email_sha256
    from identity_blocked_values
    where identifier_type = 'email'

),

golden_email_hashes as (

    select distinct
        customer_keys.golden_id,
        identity_records.email_sha256
    from identity_records
    inner join customer_keys on identity_records.record_key = customer_keys.record_key
    where identity_records.email_sha256 is not null

),

erasure_matches as (

    select
        customer_keys.golden_id,
        erasure_tombstones.erased_record_key,
        erasure_tombstones.erased_at,
        'golden_id' as matched_by
    from erasure_tombstones
    inner join customer_keys on erasure_tombstones.erased_record_key = customer_keys.record_key

    union all

    select
        golden_id,
        erased_record_key,
        erased_at,
        'golden_id' as matched_by
    from erasure_tombstones

    union all

    select
        golden_email_hashes.golden_id,
        erasure_tombstones.erased_record_key,
        erasure_tombstones.erased_at,
        'email_sha256' as matched_by
    from erasure_tombstones
    inner join golden_email_hashes
        on erasure_tombstones.email_sha256 = golden_email_hashes.email_sha256
    where
        erasure_tombstones.email_sha256 not in (
            select blocked_email_hashes.email_sha256 from blocked_email_hashes
        )

),

erasures as (

    select
        golden_id,
        'erasure' as reason,
        'all' as channel,
        'erasure_tombstone' as suppression_source,
        erased_record_key as source_record_id,
        erased_at as event_at,
        matched_by
    from erasure_matches

),

occurrences as (

    {% for occurrence in ['hard_bounces', 'esp_opt_outs', 'open_tickets'] %}
        select
            golden_id,
            reason,
            channel,
            suppression_source,
            source_record_id,
            event_at,
            cast(null as {{ dbt.type_string() }}) as matched_by
        from {{ occurrence }}
        union all
    {% endfor %}
    select
        golden_id,
        reason,
        channel,
        suppression_source,
        source_record_id,
        event_at,
        matched_by
    from erasures

),

-- The occurrence that started the suppression names it: the earliest, an event before the
-- profile state it left, a direct match before a match by email hash, then a stable order.
ranked as (

    select
        *,
        row_number() over (
            partition by golden_id, reason, channel
            order by
                event_at,
                case when suppression_source = 'esp_profile' then 1 else 0 end,
                case when matched_by = 'email_sha256' then 1 else 0 end,
                suppression_source,
                source_record_id
        ) as occurrence_rank
    from occurrences

),

summarised as (

    select
        golden_id,
        reason,
        channel,
        -- An unsubscribe event and the profile state it left are one occurrence.
        count(distinct event_at) as occurrence_count,
        max(event_at) as last_occurred_at,
        -- Only by hash: the person came back under a golden ID the erased record is not in.
        coalesce(
            bool_or(matched_by = 'email_sha256') and not bool_or(matched_by = 'golden_id'),
            false
        ) as is_matched_by_email_hash,
        cast(count(distinct event_at) as {{ dbt.type_string() }}) as occurrence_count_text
    from occurrences
    group by 1, 2, 3

),

final as (

    select
        ranked.golden_id,
        ranked.reason,
        ranked.channel,
        suppression_reasons.applies_to,
        ranked.event_at as suppressed_at,
        summarised.last_occurred_at,
        ranked.suppression_source,
        ranked.source_record_id,
        summarised.occurrence_count,
        summarised.is_matched_by_email_hash,
        suppression_reasons.priority as reason_priority,
        case ranked.reason
            when 'hard_bounce'
                then summarised.occurrence_count_text || ' hard bounce(s) reported by the ESP'
            when 'spam_complaint'
                then
                    summarised.occurrence_count_text
                    || ' spam complaint(s) since the last ESP subscription'
            when 'unsubscribed'
                then
                    'unsubscribed from ' || ranked.channel
                    || ' at the ESP, not re-subscribed since'
            when 'open_support_ticket'
                then
                    summarised.occurrence_count_text
                    || ' unsolved ticket(s), oldest ' || ranked.source_record_id
            when 'erasure'
                then
                    'erased record ' || ranked.source_record_id
                    || case
                        when summarised.is_matched_by_email_hash
                            then ', matched by the hash of its email'
                        else ''
                    end
        end as detail
    from ranked
    inner join summarised
        on
            ranked.golden_id = summarised.golden_id
            and ranked.reason = summarised.reason
            and ranked.channel = summarised.channel
    inner join suppression_reasons on ranked.reason = suppression_reasons.reason
    inner join customers on ranked.golden_id = customers.golden_id
    where ranked.occurrence_rank = 1

)

select * from final
