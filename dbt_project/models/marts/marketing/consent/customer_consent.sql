{#
    The current consent of every golden customer for every channel × purpose of
    seeds/consent_purposes.csv, one row each even without any decision (`unknown`, never
    granted), so a sync inner-joins its pair and sends only where `is_sendable`.

    Precedence (editable in seeds/consent_source_precedence.csv):
    1. Each system's own latest decision is its current state: a later CMP answer replaces
       an earlier one on any device, a later ESP unsubscribe or spam complaint replaces the
       profile's subscription, an ESP re-subscription replaces an earlier unsubscribe.
    2. A withdrawal standing in any system beats a grant from another system that is older
       or at the same instant (denial wins ties). A grant newer than every standing
       withdrawal wins only if its source may lift another system's withdrawal
       (`grant_lifts_withdrawal`, false for every shipped source): so an unsubscribe at the
       ESP is not undone by a later CMP or checkout tick, and the CMP, the source of truth,
       keeps its denial against a later ESP or shop opt-in until the person changes it in
       the CMP.
    3. Sources whose grants do not count (`can_grant` false) only withdraw.
    4. Among decisions at the same instant in one system: denial, then `authority_rank`.
#}

with

customers as (

    select golden_id from {{ ref('customers') }}

),

consent_events as (

    select * from {{ ref('int_consent__events') }}

),

consent_purposes as (

    select * from {{ ref('consent_purposes') }}

),

consent_source_precedence as (

    select * from {{ ref('consent_source_precedence') }}

),

customer_suppressions as (

    select * from {{ ref('customer_suppressions') }}

),

decisions as (

    select
        consent_events.*,
        consent_source_precedence.authority_rank,
        consent_source_precedence.grant_lifts_withdrawal
    from consent_events
    inner join consent_source_precedence
        on consent_events.consent_source = consent_source_precedence.consent_source
    where not consent_events.is_granted or consent_source_precedence.can_grant

),

system_states as (

    select
        *,
        row_number() over (
            partition by golden_id, channel, purpose, source_system
            order by
                decided_at desc,
                case when is_granted then 1 else 0 end asc,
                authority_rank asc,
                consent_event_id asc
        ) as system_rank
    from decisions

),

current_states as (

    select
        *,
        row_number() over (
            partition by golden_id, channel, purpose, is_granted
            order by decided_at desc, authority_rank asc, consent_event_id asc
        ) as latest_rank
    from system_states
    where system_rank = 1

),

latest_grants as (

    select * from current_states
    where is_granted and latest_rank = 1

),

latest_withdrawals as (

    select * from current_states
    where not is_granted and latest_rank = 1

),

decision_counts as (

    select
        golden_id,
        channel,
        purpose,
        count(*) as decision_count
    from decisions
    group by 1, 2, 3

),

decided as (

    select
        customers.golden_id,
        consent_purposes.channel,
        consent_purposes.purpose,
        consent_purposes.send_type,
        latest_grants.decided_at as last_granted_at,
        latest_withdrawals.decided_at as last_withdrawn_at,
        latest_grants.consent_source as grant_source,
        latest_grants.source_record_id as grant_source_record_id,
        latest_grants.policy_version as grant_policy_version,
        latest_withdrawals.consent_source as withdrawal_source,
        latest_withdrawals.source_record_id as withdrawal_source_record_id,
        latest_withdrawals.policy_version as withdrawal_policy_version,
        coalesce(decision_counts.decision_count, 0) as decision_count,
        case
            when latest_grants.golden_id is null and latest_withdrawals.golden_id is null
                then 'no_decision'
            when latest_withdrawals.golden_id is null then 'grant'
            when latest_grants.golden_id is null then 'withdrawal'
            when latest_grants.decided_at = latest_withdrawals.decided_at then 'tie_denial_wins'
            when latest_grants.decided_at < latest_withdrawals.decided_at then 'later_withdrawal'
            when latest_grants.grant_lifts_withdrawal then 'grant_lifts_withdrawal'
            else 'withdrawal_not_lifted'
        end as decision_rule
    from customers
    cross join consent_purposes
    left join latest_grants
        on
            customers.golden_id = latest_grants.golden_id
            and consent_purposes.channel = latest_grants.channel
            and consent_purposes.purpose = latest_grants.purpose
    left join latest_withdrawals
        on
            customers.golden_id = latest_withdrawals.golden_id
            and consent_purposes.channel = latest_withdrawals.channel
            and consent_purposes.purpose = latest_withdrawals.purpose
    left join decision_counts
        on
            customers.golden_id = decision_counts.golden_id
            and consent_purposes.channel = decision_counts.channel
            and consent_purposes.purpose = decision_counts.purpose

),

-- Promotional pairs are held back by every suppression of their channel or of all
-- channels; measurement only by those that apply to all sends (an erasure).
suppressions as (

    select
        decided.golden_id,
        decided.channel,
        decided.purpose,
        customer_suppressions.reason,
        row_number() over (
            partition by decided.golden_id, decided.channel, decided.purpose
            order by customer_suppressions.reason_priority, customer_suppressions.channel
        ) as suppression_rank
    from decided
    inner join customer_suppressions
        on
            decided.golden_id = customer_suppressions.golden_id
            and customer_suppressions.channel in (decided.channel, 'all')
            and (
                customer_suppressions.applies_to = 'all'
                or decided.send_type = customer_suppressions.applies_to
            )

),

-- The grant decides when it stands, the standing withdrawal otherwise.
resolved as (

    select
        decided.*,
        suppressions.reason as suppression_reason,
        decided.decision_rule in ('grant', 'grant_lifts_withdrawal') as is_granted
    from decided
    left join suppressions
        on
            decided.golden_id = suppressions.golden_id
            and decided.channel = suppressions.channel
            and decided.purpose = suppressions.purpose
            and suppressions.suppression_rank = 1

),

labelled as (

    select
        golden_id,
        channel,
        purpose,
        is_granted,
        decision_rule,
        last_granted_at,
        last_withdrawn_at,
        decision_count,
        suppression_reason,
        case
            when decision_rule = 'no_decision' then 'unknown'
            when is_granted then 'granted'
            else 'denied'
        end as consent_status,
        case when is_granted then grant_source else withdrawal_source end as consent_source,
        case
            when is_granted then grant_source_record_id else withdrawal_source_record_id
        end as source_record_id,
        case when is_granted then last_granted_at else last_withdrawn_at end as decided_at,
        case
            when is_granted then grant_policy_version else withdrawal_policy_version
        end as policy_version,
        suppression_reason is not null as is_suppressed,
        is_granted and suppression_reason is null as is_sendable
    from resolved

),

final as (

    select
        golden_id,
        channel,
        purpose,
        consent_status,
        is_granted,
        consent_source,
        source_record_id,
        decided_at,
        policy_version,
        decision_rule,
        last_granted_at,
        last_withdrawn_at,
        decision_count,
        is_suppressed,
        suppression_reason,
        is_sendable
    from labelled

)

select * from final
