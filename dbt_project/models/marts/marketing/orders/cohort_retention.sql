{#
    The cohort table marketers read: one row per first-purchase month (cohort) and month of
    the customer's life, with the cohort's size, how many of its customers bought in that
    month, the retention rate and the revenue, in the month and cumulated per customer (the
    cohort's LTV curve). Built from customer_cohorts, where every buyer has a row for every
    month since their cohort month, so the cohort size is the row count of each cell. The
    as-of month is flagged: it is still running.
#}

with

customer_cohorts as (

    select * from {{ ref('customer_cohorts') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

aggregated as (

    select
        cohort_month,
        cohort_month_number,
        months_since_first_order,
        date_month,
        count(*) as cohort_size,
        count(*) filter (where is_active_in_month) as active_customers,
        cast(sum(order_count_in_month) as {{ dbt.type_bigint() }}) as order_count,
        cast(sum(net_revenue_in_month) as {{ dbt.type_numeric() }}) as net_revenue,
        cast(sum(net_revenue_lifetime) as {{ dbt.type_numeric() }}) as net_revenue_cumulative
    from customer_cohorts
    group by 1, 2, 3, 4

),

final as (

    select
        aggregated.cohort_month,
        aggregated.cohort_month_number,
        aggregated.months_since_first_order,
        aggregated.date_month,
        aggregated.cohort_size,
        aggregated.active_customers,
        cast(
            round(
                cast(aggregated.active_customers as {{ dbt.type_numeric() }})
                / aggregated.cohort_size, 4
            ) as {{ dbt.type_numeric() }}
        ) as retention_rate,
        aggregated.order_count,
        aggregated.net_revenue,
        aggregated.net_revenue_cumulative,
        cast(
            aggregated.net_revenue_cumulative / aggregated.cohort_size as {{ dbt.type_numeric() }}
        ) as net_revenue_cumulative_per_customer,
        aggregated.date_month = cast({{ dbt.date_trunc('month', 'as_of.as_of_at') }} as date)
            as is_partial_month
    from aggregated
    cross join as_of

)

select * from final
