{#
    Complaint and churn signals read from helpdesk tickets: one row per ticket and rule of
    the `support_signal_rules` seed that it matches. A rule looks at one field:
    - `tag`: the ticket carries the tag (exact, case-insensitive);
    - `subject`: the subject, lower-cased with diacritics folded, contains the value;
    - `satisfaction_rating`: the ticket's latest CSAT rating equals the value.
    The signal happened when the ticket was created (when it was rated, for ratings) and
    is current while that lies within the rule's lookback before the as-of time. Deleted
    tickets raise no signals.
#}

with

tickets as (

    select * from {{ ref('support_tickets') }}
    where not is_deleted

),

support_signal_rules as (

    select * from {{ ref('support_signal_rules') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

matches as (

    select
        tickets.helpdesk_ticket_id,
        tickets.golden_id,
        support_signal_rules.rule_id,
        support_signal_rules.signal_type,
        support_signal_rules.reason,
        support_signal_rules.lookback_days,
        case
            when support_signal_rules.match_field = 'satisfaction_rating'
                then tickets.satisfaction_rated_at
            else tickets.created_at
        end as signal_at
    from tickets
    inner join support_signal_rules
        on
            (
                support_signal_rules.match_field = 'tag'
                and ',' || lower(tickets.tags) || ','
                like '%,' || lower(support_signal_rules.match_value) || ',%'
            )
            or (
                support_signal_rules.match_field = 'subject'
                and {{ fold_diacritics('tickets.subject') }}
                like '%' || lower(support_signal_rules.match_value) || '%'
            )
            or (
                support_signal_rules.match_field = 'satisfaction_rating'
                and tickets.satisfaction_rating = lower(support_signal_rules.match_value)
            )

),

final as (

    select
        {{ dbt.concat(['matches.helpdesk_ticket_id', "':'", 'matches.rule_id']) }}
            as support_ticket_signal_id,
        matches.helpdesk_ticket_id,
        matches.golden_id,
        matches.rule_id,
        matches.signal_type,
        matches.reason,
        matches.signal_at,
        matches.lookback_days,
        coalesce(
            matches.signal_at <= as_of.as_of_at
            and extract(epoch from (as_of.as_of_at - matches.signal_at))
            <= matches.lookback_days * 86400,
            false
        ) as is_current
    from matches
    cross join as_of

)

select * from final
