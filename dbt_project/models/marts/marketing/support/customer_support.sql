{#
    Support signals per customer: one row per golden customer with a helpdesk (end-user)
    account, whether or not they ever opened a ticket. Ticket counts, open tickets (for
    suppressing promotional sends while a complaint is being handled), how fast support
    first answered, satisfaction (CSAT on tickets, the latest NPS answer) and the complaint
    and churn signals of `support_ticket_signals`. Deleted tickets are not counted.

    CSAT % is good ratings over all good and bad ratings (Zendesk's satisfaction score).
    NPS category: promoter 9–10, passive 7–8, detractor 0–6. A churn signal needs a current
    match of a `churn` rule; its reason is the latest such match (then the rule ID).
#}

with

users as (

    select * from {{ ref('stg_helpdesk__users') }}
    where not is_agent

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'helpdesk' and source_table = 'users'

),

tickets as (

    select * from {{ ref('support_tickets') }}
    where not is_deleted and golden_id is not null

),

signals as (

    select * from {{ ref('support_ticket_signals') }}
    where is_current and golden_id is not null

),

nps_responses as (

    select * from {{ ref('stg_helpdesk__nps_responses') }}
    where nps_score between 0 and 10

),

customers as (

    select
        customer_keys.golden_id,
        count(distinct users.helpdesk_user_id) as helpdesk_user_count
    from users
    inner join customer_keys on users.helpdesk_user_id = customer_keys.source_record_id
    group by 1

),

ticket_stats as (

    select
        golden_id,
        count(*) as ticket_count,
        count(case when is_open then 1 end) as open_ticket_count,
        count(case when is_solved then 1 end) as solved_ticket_count,
        min(created_at) as first_ticket_at,
        max(created_at) as last_ticket_at,
        -- In hundredths of a minute the median is a whole or half number, exact on every engine.
        percentile_cont(0.5) within group (
            order by cast(first_reply_time_calendar_minutes * 100 as double precision)
        ) as median_first_reply_hundredths,
        count(case when satisfaction_rating = 'good' then 1 end) as csat_good_count,
        count(case when satisfaction_rating = 'bad' then 1 end) as csat_bad_count
    from tickets
    group by 1

),

ranked_replies as (

    select
        golden_id,
        first_reply_time_calendar_minutes,
        row_number() over (
            partition by golden_id order by created_at desc, helpdesk_ticket_id desc
        ) as reply_rank
    from tickets
    where first_replied_at is not null

),

ranked_ratings as (

    select
        golden_id,
        satisfaction_rating,
        satisfaction_rated_at,
        row_number() over (
            partition by golden_id order by satisfaction_rated_at desc, helpdesk_ticket_id desc
        ) as rating_rank
    from tickets
    where satisfaction_rating is not null

),

ranked_nps as (

    select
        customer_keys.golden_id,
        nps_responses.nps_score,
        nps_responses.created_at,
        count(*) over (partition by customer_keys.golden_id) as nps_response_count,
        row_number() over (
            partition by customer_keys.golden_id
            order by nps_responses.created_at desc, nps_responses.helpdesk_nps_response_id desc
        ) as nps_rank
    from nps_responses
    inner join customer_keys
        on nps_responses.helpdesk_user_id = customer_keys.source_record_id

),

signal_stats as (

    select
        golden_id,
        count(distinct case when signal_type = 'complaint' then helpdesk_ticket_id end)
            as complaint_ticket_count,
        count(distinct case when signal_type = 'churn' then helpdesk_ticket_id end)
            as churn_signal_ticket_count
    from signals
    group by 1

),

ranked_churn_signals as (

    select
        golden_id,
        rule_id,
        reason,
        signal_at,
        row_number() over (
            partition by golden_id order by signal_at desc, rule_id asc
        ) as signal_rank
    from signals
    where signal_type = 'churn'

),

joined as (

    select
        customers.golden_id,
        customers.helpdesk_user_count,
        ticket_stats.first_ticket_at,
        ticket_stats.last_ticket_at,
        ranked_replies.first_reply_time_calendar_minutes as latest_first_reply_time_minutes,
        ranked_ratings.satisfaction_rating as latest_csat_rating,
        ranked_ratings.satisfaction_rated_at as latest_csat_at,
        ranked_nps.nps_score as latest_nps_score,
        ranked_nps.created_at as latest_nps_at,
        ranked_churn_signals.reason as churn_signal_reason,
        ranked_churn_signals.rule_id as churn_signal_rule_id,
        ranked_churn_signals.signal_at as churn_signal_at,
        cast(
            floor(ticket_stats.median_first_reply_hundredths + 0.5) / 100 as decimal(18, 2)
        ) as median_first_reply_time_minutes,
        coalesce(ticket_stats.ticket_count, 0) as ticket_count,
        coalesce(ticket_stats.open_ticket_count, 0) as open_ticket_count,
        coalesce(ticket_stats.solved_ticket_count, 0) as solved_ticket_count,
        coalesce(ticket_stats.open_ticket_count, 0) > 0 as has_open_ticket,
        coalesce(ticket_stats.csat_good_count, 0) as csat_good_count,
        coalesce(ticket_stats.csat_bad_count, 0) as csat_bad_count,
        {{ safe_ratio(
            'ticket_stats.csat_good_count',
            'ticket_stats.csat_good_count + ticket_stats.csat_bad_count',
            scale=1,
            precision=5,
            percent=true
        ) }} as csat_score_pct,
        coalesce(ranked_nps.nps_response_count, 0) as nps_response_count,
        case
            when ranked_nps.nps_score >= 9 then 'promoter'
            when ranked_nps.nps_score >= 7 then 'passive'
            when ranked_nps.nps_score >= 0 then 'detractor'
        end as latest_nps_category,
        coalesce(signal_stats.complaint_ticket_count, 0) as complaint_ticket_count,
        coalesce(signal_stats.complaint_ticket_count, 0) > 0 as has_complaint_signal,
        coalesce(signal_stats.churn_signal_ticket_count, 0) as churn_signal_ticket_count,
        ranked_churn_signals.rule_id is not null as has_churn_signal
    from customers
    left join ticket_stats on customers.golden_id = ticket_stats.golden_id
    left join ranked_replies
        on customers.golden_id = ranked_replies.golden_id and ranked_replies.reply_rank = 1
    left join ranked_ratings
        on customers.golden_id = ranked_ratings.golden_id and ranked_ratings.rating_rank = 1
    left join ranked_nps
        on customers.golden_id = ranked_nps.golden_id and ranked_nps.nps_rank = 1
    left join signal_stats on customers.golden_id = signal_stats.golden_id
    left join ranked_churn_signals
        on
            customers.golden_id = ranked_churn_signals.golden_id
            and ranked_churn_signals.signal_rank = 1

),

final as (

    select
        golden_id,
        helpdesk_user_count,
        ticket_count,
        open_ticket_count,
        solved_ticket_count,
        has_open_ticket,
        first_ticket_at,
        last_ticket_at,
        median_first_reply_time_minutes,
        latest_first_reply_time_minutes,
        csat_good_count,
        csat_bad_count,
        csat_score_pct,
        latest_csat_rating,
        latest_csat_at,
        nps_response_count,
        latest_nps_score,
        latest_nps_category,
        latest_nps_at,
        complaint_ticket_count,
        has_complaint_signal,
        churn_signal_ticket_count,
        has_churn_signal,
        churn_signal_reason,
        churn_signal_rule_id,
        churn_signal_at
    from joined

)

select * from final
