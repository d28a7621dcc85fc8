{#
    Lifetime order facts per golden customer, in the shape of Shopify's `__customers` mart:
    purchases and cancellations, gross, refunded and net revenue in the reporting currency,
    first and latest purchase, average order value, time between purchases and the first-order
    cohort. Every golden customer has a row, with zero counts and amounts when they never
    bought (the marketing audience is everyone; joins from other marts never lose a person).
    Only orders placed up to the as-of moment count, so a pinned `marketing_as_of` reproduces
    the state of that day; refunds are taken as loaded.
#}

with

customers as (

    select golden_id from {{ ref('customers') }}

),

customer_orders as (

    select * from {{ ref('customer_orders') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

orders_as_of as (

    select customer_orders.*
    from customer_orders
    cross join as_of
    where customer_orders.placed_at <= as_of.as_of_at

),

aggregated as (

    select
        golden_id,
        count(*) filter (where not is_cancelled) as lifetime_count_orders,
        count(*) filter (where is_cancelled) as lifetime_count_cancelled_orders,
        count(*) filter (where has_refund) as lifetime_count_refunded_orders,
        sum(case when is_cancelled then 0 else total_value end) as lifetime_total_spent,
        sum(case when is_cancelled then 0 else refunded_value end) as lifetime_total_refunded,
        sum(net_revenue) as lifetime_total_net,
        min(case when not is_cancelled then placed_at end) as first_order_at,
        max(case when not is_cancelled then placed_at end) as most_recent_order_at,
        avg(days_since_previous_order) as avg_days_between_orders,
        percentile_cont(0.5) within group (
            order by days_since_previous_order
        ) as median_days_between_orders
    from orders_as_of
    group by 1

),

-- The currency a customer buys in most; ties go to the latest purchase, then the code.
currency_ranked as (

    select
        golden_id,
        original_currency,
        row_number() over (
            partition by golden_id
            order by count(*) desc, max(placed_at) desc, original_currency
        ) as currency_rank
    from orders_as_of
    where not is_cancelled
    group by 1, 2

),

final as (

    select
        customers.golden_id,
        '{{ var("reporting_currency") }}' as reporting_currency,
        coalesce(aggregated.lifetime_count_orders, 0) as lifetime_count_orders,
        coalesce(aggregated.lifetime_count_cancelled_orders, 0) as lifetime_count_cancelled_orders,
        coalesce(aggregated.lifetime_count_refunded_orders, 0) as lifetime_count_refunded_orders,
        cast(
            coalesce(aggregated.lifetime_total_spent, 0) as {{ dbt.type_numeric() }}
        ) as lifetime_total_spent,
        cast(
            coalesce(aggregated.lifetime_total_refunded, 0) as {{ dbt.type_numeric() }}
        ) as lifetime_total_refunded,
        cast(
            coalesce(aggregated.lifetime_total_net, 0) as {{ dbt.type_numeric() }}
        ) as lifetime_total_net,
        cast(
            aggregated.lifetime_total_net / nullif(aggregated.lifetime_count_orders, 0)
            as {{ dbt.type_numeric() }}
        ) as avg_order_value,
        aggregated.first_order_at,
        aggregated.most_recent_order_at,
        cast({{ dbt.date_trunc('month', 'aggregated.first_order_at') }} as date) as cohort_month,
        {{ dbt.datediff('aggregated.first_order_at', 'as_of.as_of_at', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('aggregated.most_recent_order_at', 'as_of.as_of_at', 'day') }}
            as days_since_last_order,
        cast(aggregated.avg_days_between_orders as {{ dbt.type_numeric() }})
            as avg_days_between_orders,
        cast(aggregated.median_days_between_orders as {{ dbt.type_numeric() }})
            as median_days_between_orders,
        coalesce(aggregated.lifetime_count_orders, 0) >= 2 as is_repeat_buyer,
        currency_ranked.original_currency as preferred_currency
    from customers
    cross join as_of
    left join aggregated on customers.golden_id = aggregated.golden_id
    left join currency_ranked
        on
            customers.golden_id = currency_ranked.golden_id
            and currency_ranked.currency_rank = 1

)

select * from final
