{#
    Helpdesk tickets on the golden customer, with Zendesk-style ticket metrics (names follow
    Fivetran's zendesk__ticket_metrics, calendar time only: the helpdesk exports no business
    schedule) and the ticket's satisfaction rating. One row per ticket, deleted tickets
    included and flagged so stewards can see them; the customer marts leave them out.
    Open means new, open, pending or on hold: someone still owes the customer an answer.
#}

with

tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

satisfaction_ratings as (

    select * from {{ ref('stg_helpdesk__satisfaction_ratings') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'helpdesk' and source_table = 'users'

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

-- A rating can be changed; the ticket keeps the latest.
ranked_ratings as (

    select
        helpdesk_ticket_id,
        rating,
        is_good,
        created_at,
        row_number() over (
            partition by helpdesk_ticket_id
            order by created_at desc, updated_at desc, helpdesk_satisfaction_rating_id desc
        ) as rating_rank
    from satisfaction_ratings
    where rating in ('good', 'bad')

),

latest_ratings as (

    select
        helpdesk_ticket_id,
        rating,
        is_good,
        created_at as rated_at
    from ranked_ratings
    where rating_rank = 1

),

-- Durations in seconds, as doubles on every engine (see `final`).
timed as (

    select
        tickets.*,
        cast(
            extract(epoch from (tickets.first_replied_at - tickets.created_at)) as double precision
        ) as reply_seconds,
        cast(
            extract(epoch from (tickets.solved_at - tickets.created_at)) as double precision
        ) as resolution_seconds,
        cast(
            extract(epoch from (as_of.as_of_at - tickets.created_at)) as double precision
        ) as open_seconds,
        tickets.ticket_status in ('new', 'open', 'pending', 'hold') as is_open,
        tickets.ticket_status in ('solved', 'closed') as is_solved
    from tickets
    cross join as_of

),

final as (

    select
        timed.helpdesk_ticket_id,
        customer_keys.golden_id,
        timed.requester_helpdesk_user_id,
        timed.assignee_helpdesk_user_id,
        timed.subject,
        timed.ticket_status,
        timed.priority,
        timed.channel,
        timed.tags,
        timed.is_deleted,
        timed.created_at,
        timed.updated_at,
        timed.first_replied_at,
        timed.solved_at,
        latest_ratings.rating as satisfaction_rating,
        latest_ratings.rated_at as satisfaction_rated_at,
        latest_ratings.is_good as is_satisfaction_good,
        timed.is_open,
        timed.is_solved,
        -- Minutes to the cent, rounded half up with floor() on hundredths (seconds * 5 / 3):
        -- DuckDB divides decimals in double precision and rounds unlike Postgres, so both
        -- engines take this one path and give the same digits.
        cast(floor(timed.reply_seconds * 5 / 3 + 0.5) / 100 as decimal(18, 2))
            as first_reply_time_calendar_minutes,
        case
            when timed.is_solved
                then cast(floor(timed.resolution_seconds * 5 / 3 + 0.5) / 100 as decimal(18, 2))
        end as final_resolution_calendar_minutes,
        case
            when timed.is_open
                then cast(floor(timed.open_seconds * 5 / 3 + 0.5) / 100 as decimal(18, 2))
        end as unsolved_ticket_age_minutes
    from timed
    left join customer_keys
        on timed.requester_helpdesk_user_id = customer_keys.source_record_id
    left join latest_ratings on timed.helpdesk_ticket_id = latest_ratings.helpdesk_ticket_id

)

select * from final
